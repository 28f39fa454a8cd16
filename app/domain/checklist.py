"""Checklists: a standard procedure (tunnel fire, flooding, suspicious package…) run for one
incident, planned event or GCC activation. Each item is ticked with who and when, or marked not
applicable with a reason; `done` and `total` give the progress the board shows.

A checklist is started from a procedure template (app.cell.procedures, by hand or by a trigger)
or written ad hoc with its own items (POST /api/checklists). Its items change only by ticking
(POST /api/checklists/{id}/items/{key}, app.cell.procedures.tick): a PATCH changes its title,
description and sharing, never its items.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Integer, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain.base import OperationalObject
from app.domain.enums import ChecklistStatus, Entity, ItemState
from app.domain.schema import CommonProps, Props, partial
from app.domain.spec import EntitySpec

ItemKey = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
TemplateCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
ItemText = Annotated[str, Field(min_length=1, max_length=1000)]
Reason = Annotated[str, Field(min_length=1, max_length=1000)]
Subject = Literal["incident", "planned_event", "demonstration", "activation"]
MAX_ITEMS = 200


class Wording(BaseModel):
    """The same words in the service's three languages: a night shift reads its own."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    fr: ItemText
    nl: ItemText
    en: ItemText


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    key: ItemKey
    text: Wording


class Checklist(OperationalObject, Base):
    __tablename__ = "checklists"
    linked_by = (("activation", "activation_id"), ("subject", "subject_id"))

    activation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    template_code: Mapped[str | None] = mapped_column(String(64))
    subject_entity: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    done: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))


class ChecklistCreate(CommonProps):
    """An ad-hoc checklist: its items as written. Templates start theirs (ChecklistStart)."""

    activation_id: uuid.UUID | None = None
    subject_entity: Subject | None = None
    subject_id: uuid.UUID | None = None
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=MAX_ITEMS)]


class ChecklistStart(ChecklistCreate):
    """What starting a template writes: the template's code beside its items."""

    template_code: TemplateCode


class ItemsPatch(Props):
    """The items after a tick (app.cell.procedures.tick), through the one write path."""

    items: list[dict[str, Any]]


def item_record(item: dict[str, Any]) -> dict[str, Any]:
    """An item as stored and published: every key present, open until ticked."""
    return {
        "key": item["key"],
        "text": dict(item["text"]),
        "state": item.get("state") or ItemState.open.value,
        "by": item.get("by"),
        "at": item.get("at"),
        "reason": item.get("reason"),
    }


def _derive(values: dict[str, Any], changed: dict[str, Any]) -> None:
    if "items" in changed:
        values["items"] = [item_record(i) for i in values["items"]]
    items = values.get("items") or []
    values["total"] = len(items)
    values["done"] = sum(1 for i in items if i["state"] != ItemState.open)
    complete = values["total"] > 0 and values["done"] == values["total"]
    values["status"] = (ChecklistStatus.completed if complete else ChecklistStatus.open).value
    if values.get("subject_entity") == Entity.activation and values.get("activation_id") is None:
        values["activation_id"] = values["subject_id"]  # an activation's checklist is its cell's


def _check(values: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    if (values.get("subject_entity") is None) != (values.get("subject_id") is None):
        problems.append(("subject_id", "subject_entity and subject_id go together"))
    keys = [i["key"] for i in values.get("items") or []]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        problems.append(("items", f"each item has its own key; repeated: {', '.join(repeated)}"))
    return problems


SPEC = EntitySpec(
    entity=Entity.checklist,
    model=Checklist,
    path="checklists",
    ref_prefix="CHK",
    create_schema=ChecklistCreate,
    # A PATCH changes its title, description and sharing: not the items (ticked one by one),
    # nor what it is about.
    update_schema=partial(
        ChecklistCreate,
        exclude=("source", "external_id", "activation_id", "subject_entity", "subject_id", "items"),
    ),
    fields=(
        "activation_id",
        "template_code",
        "subject_entity",
        "subject_id",
        "items",
        "done",
        "total",
        "status",
    ),
    geometry_types=None,
    geometry_required=False,
    status_enum=ChecklistStatus,
    check=_check,
    derive=_derive,
    links={"subject_id": "subject_entity"},
    fixed_links={"activation_id": Entity.activation},
)
