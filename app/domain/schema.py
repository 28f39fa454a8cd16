"""Pydantic building blocks for object properties at the API edge."""

from __future__ import annotations

from copy import copy
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model, model_validator
from pydantic_core import PydanticCustomError

from app.domain.enums import Visibility
from app.text import bad_text

Title = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=10_000)]
Short = Annotated[str, Field(min_length=1, max_length=300)]
Source = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
ExternalId = Annotated[str, Field(min_length=1, max_length=128)]
Time = AwareDatetime
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
