"""Pydantic building blocks for object properties at the API edge."""

from __future__ import annotations

from copy import copy
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.domain.enums import Visibility
from app.text import bad_text

Title = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=10_000)]
Short = Annotated[str, Field(min_length=1, max_length=300)]
Source = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
ExternalId = Annotated[str, Field(min_length=1, max_length=128)]
# Python, and so the database driver, holds the years 1 to 9999: a time at their very ends
# overflows once converted (0001-01-01T00:00:00+14:00 is in year 0 in UTC, and a time on
# 9999-12-31 UTC is in year 10000 in Brussels). A day's margin keeps every time convertible to
# UTC and to any time zone.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, 23, 59, 59, 999_999, tzinfo=UTC)
TIME_RANGE = "a time between 0001-01-02 and 9999-12-30 (UTC)"


def _in_range(value: datetime) -> datetime:
    if not EARLIEST <= value <= LATEST:
        raise PydanticCustomError("time_range", f"out of range: {TIME_RANGE}")
    return value


Time = Annotated[AwareDatetime, AfterValidator(_in_range)]
# PostgreSQL's bigint, the type of feed seqs and cursors: a larger number would not reach it.
BIGINT_MAX = 2**63 - 1
OrgCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.\-]*$")]


class Input(BaseModel):
    """The base of every request body: unknown fields are refused, and so is text no person
    types, naming where it is (app/text.py)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _only_text(cls, data: Any) -> Any:
        for loc, msg in bad_text(data):
            where = ".".join(str(part) for part in loc) or "value"
            raise PydanticCustomError(
                "control_character", "{where}: {msg}", {"where": where, "msg": msg}
            )
        return data


class Props(BaseModel):
    """Properties of a Feature: unknown fields are refused, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CommonProps(Props):
    title: Title
    description: Text | None = None
    visibility: Visibility = Visibility.internal
    shared_with: Annotated[list[OrgCode], Field(max_length=50)] = []
    exercise: bool = False
    source: Source | None = None
    external_id: ExternalId | None = None


def partial(
    model: type[Props], *, exclude: tuple[str, ...] = ("source", "external_id")
) -> type[Props]:
    """The PATCH form of a create schema: every field optional, unset fields left alone."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in exclude:
            continue
        f = copy(info)
        f.default = None
        f.default_factory = None
        fields[name] = (info.annotation, f)
    patch: type[Props] = create_model(
        model.__name__.replace("Create", "Patch"), __base__=Props, **fields
    )
    return patch
