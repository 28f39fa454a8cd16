"""Standard procedures: the templates the watch works from (tunnel fire, flooding, suspicious
package, official visit, CBRN…), what starts them, and their checklists' ticking.

A template is reference data that admins keep (`procedure_templates`); what it starts is a
checklist, an operational object (app.domain.checklist) written through the one write path, so
that every start and every tick is in the change feed (live on `/ws`, history, `?at=`).

A template starts at most once for one subject (an incident, a planned event, an activation):
its checklist carries the idempotency key `procedures`/`<template>:<subject id>`, so a second
start, by hand or by a trigger, on this instance or another, finds the first.
"""

from __future__ import annotations

import typing
import unicodedata
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Boolean, ColumnElement, DateTime, Integer, String, delete, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain import objects
from app.domain.actor import Actor
from app.domain.checklist import (
    MAX_ITEMS,
    SPEC,
    ChecklistStart,
    ItemIn,
    ItemsPatch,
    Reason,
    Subject,
    TemplateCode,
)
from app.domain.enums import (
    ActivationLevel,
    ActivationStatus,
    Entity,
    EventKind,
    EventStatus,
    IncidentCategory,
    IncidentStatus,
    ItemState,
    Severity,
)
from app.domain.registry import BY_ENTITY
from app.domain.schema import Input
from app.errors import already_exists, conflict, not_found, stale_version, validation_problem

SOURCE = "procedures"  # the source of the checklists templates start: their idempotency key
Keyword = Annotated[str, Field(min_length=2, max_length=64)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
TitleText = Annotated[str, Field(min_length=1, max_length=90)]
# An incident that is over starts nothing.
_ENDED_INCIDENT = frozenset(
    {IncidentStatus.resolved, IncidentStatus.closed, IncidentStatus.false_alarm}
)


class ProcedureTemplate(Base):
    __tablename__ = "procedure_templates"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[dict[str, str]] = mapped_column(JSONB)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    triggers: Mapped[dict[str, Any]] = mapped_column(JSONB)
    active: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(128))


# ---- triggers ---------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _fold(text: str) -> str:
    """Lower case without accents: "Tunnel Léopold II" holds "leopold"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class IncidentTrigger(_Strict):
    """An incident of one of these categories (any, if none) at this severity or above; with
    keywords, one of them in its title, place or description (a fire *in a tunnel*)."""

    categories: Annotated[list[IncidentCategory], Field(max_length=20)] = []
    min_severity: Severity = Severity.minor
    keywords: Annotated[list[Keyword], Field(max_length=20)] = []

    def matches(self, props: Mapping[str, Any]) -> bool:
        if props.get("status") in _ENDED_INCIDENT:
            return False
        if self.categories and props.get("category") not in self.categories:
            return False
        severity = str(props.get("severity"))
        if severity not in Severity.__members__ or Severity(severity).rank < self.min_severity.rank:
            return False
        if not self.keywords:
            return True
        text = _fold(" ".join(str(props.get(f) or "") for f in ("title", "place", "description")))
        return any(_fold(k) in text for k in self.keywords)


class ActivationTrigger(_Strict):
    """An open GCC activation at one of these levels, opened from one of these activation
    templates (its `template`), or in one of these phases (its `phase`)."""

    levels: Annotated[list[ActivationLevel], Field(max_length=10)] = []
    templates: Annotated[list[Code], Field(max_length=20)] = []
    phases: Annotated[list[Code], Field(max_length=20)] = []

    @model_validator(mode="after")
    def _something(self) -> ActivationTrigger:
        if not (self.levels or self.templates or self.phases):
            raise ValueError("name at least one level, template or phase")
        return self

    def matches(self, props: Mapping[str, Any]) -> bool:
        if props.get("status") != ActivationStatus.open:
            return False
        return (
            props.get("level") in self.levels
            or props.get("template") in self.templates
            or props.get("phase") in self.phases
        )


class EventTrigger(_Strict):
    """A planned event of one of these kinds, unless cancelled."""

    kinds: Annotated[list[EventKind], Field(min_length=1, max_length=20)]

    def matches(self, props: Mapping[str, Any]) -> bool:
        return props.get("kind") in self.kinds and props.get("status") != EventStatus.cancelled


class Triggers(_Strict):
    incident: IncidentTrigger | None = None
    activation: ActivationTrigger | None = None
    planned_event: EventTrigger | None = None

    def matches(self, entity: str, props: Mapping[str, Any]) -> bool:
        trigger = getattr(self, entity, None) if entity in WATCHED else None
        return trigger is not None and bool(trigger.matches(props))


WATCHED = (Entity.incident.value, Entity.activation.value, Entity.planned_event.value)


def started_by(
    triggers: Triggers, entity: str, props: Mapping[str, Any], before: Mapping[str, Any] | None
) -> bool:
    """Whether a change starts the procedure: its object matches now and did not before (an
    incident raised to severe starts it; a later edit of the same incident does not)."""
    if not triggers.matches(entity, props):
        return False
    return before is None or not triggers.matches(entity, before)


# ---- templates --------------------------------------------------------------------------------


class Wording(_Strict):
    fr: TitleText
    nl: TitleText
    en: TitleText


class TemplateCreate(Input):
    code: TemplateCode
    title: Wording
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=MAX_ITEMS)]
    triggers: Triggers = Triggers()
    active: bool = True


class TemplatePatch(Input):
    title: Wording | None = None
    items: Annotated[list[ItemIn], Field(min_length=1, max_length=MAX_ITEMS)] | None = None
    triggers: Triggers | None = None
    active: bool | None = None


def template_json(t: ProcedureTemplate) -> dict[str, Any]:
    return {
        "code": t.code,
        "title": t.title,
        "items": t.items,
        "triggers": t.triggers,
        "active": t.active,
        "version": t.version,
        "created_at": t.created_at.isoformat(),
        "created_by": t.created_by,
        "updated_at": t.updated_at.isoformat(),
        "updated_by": t.updated_by,
    }


def _check_keys(items: list[ItemIn]) -> None:
    keys = [i.key for i in items]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise validation_problem(
            [
                {
                    "loc": ["body", "items"],
                    "msg": f"each item has its own key; repeated: {repeated[0]}",
                }
            ]
        )


async def list_templates(
    session: AsyncSession, *, active: bool | None = None
) -> list[ProcedureTemplate]:
    query = select(ProcedureTemplate).order_by(ProcedureTemplate.code)
    if active is not None:
        query = query.where(ProcedureTemplate.active.is_(active))
    return list((await session.scalars(query)).all())


async def get_template(
    session: AsyncSession, code: str, *, for_update: bool = False
) -> ProcedureTemplate:
    query = select(ProcedureTemplate).where(ProcedureTemplate.code == code)
    if for_update:
        query = query.with_for_update()
    template = await session.scalar(query)
    if template is None:
        raise not_found("procedure template", code)
    return template


async def create_template(
    session: AsyncSession, actor: Actor, body: TemplateCreate
) -> ProcedureTemplate:
    _check_keys(body.items)
    if await session.get(ProcedureTemplate, body.code) is not None:
        raise already_exists(f"procedure template {body.code!r} exists")
    now = datetime.now(UTC)
    template = ProcedureTemplate(
        code=body.code,
        title=body.title.model_dump(),
        items=[i.model_dump() for i in body.items],
        triggers=body.triggers.model_dump(mode="json", exclude_none=True),
        active=body.active,
        version=1,
        created_at=now,
        created_by=actor.name,
        updated_at=now,
        updated_by=actor.name,
    )
    session.add(template)
    await session.flush()
    return template


async def update_template(
    session: AsyncSession, actor: Actor, code: str, body: TemplatePatch, expected: int | None
) -> ProcedureTemplate:
    """Change a template; checklists already started keep the items they started with."""
    template = await get_template(session, code, for_update=True)
    if expected is not None and template.version != expected:
        raise stale_version(
            f"procedure template {code} is at version {template.version}, not {expected}",
            current=template_json(template),
            version=template.version,
        )
    given = body.model_dump(exclude_unset=True)
    if given.get("title") is not None:
        template.title = body.title.model_dump()  # type: ignore[union-attr]
    if body.items is not None:
        _check_keys(body.items)
        template.items = [i.model_dump() for i in body.items]
    if body.triggers is not None:
        template.triggers = body.triggers.model_dump(mode="json", exclude_none=True)
    if body.active is not None:
        template.active = body.active
    template.version += 1
    template.updated_at = datetime.now(UTC)
    template.updated_by = actor.name
    await session.flush()
    return template


async def delete_template(session: AsyncSession, code: str) -> None:
    await get_template(session, code, for_update=True)
    await session.execute(delete(ProcedureTemplate).where(ProcedureTemplate.code == code))


# ---- checklists -------------------------------------------------------------------------------


async def start_checklist(
    session: AsyncSession,
    actor: Actor,
    template_code: str,
    *,
    activation_id: uuid.UUID | None = None,
    subject_entity: str | None = None,
    subject_id: uuid.UUID | None = None,
) -> objects.Written:
    """Start a template's checklist for a subject (an incident, a planned event, an activation;
    an activation's cell when only `activation_id` is given). Once per template and subject:
    a repeated start returns the first checklist (`created` False). In the caller's transaction;
    the caller commits."""
    template = await get_template(session, template_code)
    if not template.active:
        raise conflict(f"procedure template {template_code!r} is inactive: an admin reactivates it")
    if (subject_entity is None) != (subject_id is None):
        raise validation_problem(
            [{"loc": ["body", "subject_id"], "msg": "subject_entity and subject_id go together"}]
        )
    if subject_entity is not None and subject_entity not in typing.get_args(Subject):
        raise validation_problem(
            [{"loc": ["body", "subject_entity"], "msg": f"not a subject: {subject_entity!r}"}]
        )
    # Named as the caller named them (a start's body), before the checklist's own checks.
    for field, entity, ident in (
        ("activation_id", Entity.activation.value, activation_id),
        ("subject_id", subject_entity, subject_id),
    ):
        if ident is None or entity is None:
            continue
        spec = BY_ENTITY[Entity(entity)]
        if await session.get(spec.model, ident) is None:
            raise validation_problem(
                [{"loc": ["body", field], "msg": f"no {spec.label} with id {ident}"}]
            )
    if subject_id is None and activation_id is not None:
        subject_entity, subject_id = Entity.activation.value, activation_id
    subject = (
        await session.get(BY_ENTITY[Entity(subject_entity)].model, subject_id)
        if (subject_entity is not None and subject_id is not None)
        else None
    )
    exercise = bool(subject is not None and subject.exercise)  # an exercise's are exercise too
    title = template.title
    props = ChecklistStart(
        title=f"{title['fr']} / {title['nl']}",
        template_code=template.code,
        activation_id=activation_id,
        subject_entity=subject_entity,
        subject_id=subject_id,
        items=template.items,
        exercise=exercise,
        source=SOURCE if subject_id is not None else None,
        external_id=f"{template.code}:{subject_id}" if subject_id is not None else None,
    )
    return await objects.create(session, SPEC, props, None, actor)


async def tick(
    session: AsyncSession,
    actor: Actor,
    checklist_id: uuid.UUID,
    key: str,
    state: ItemState,
    reason: str | None,
    scope: ColumnElement[bool] | None,
) -> objects.Written:
    """Mark one item done, not applicable (with a reason) or open again, recording who and
    when. An item moves from open to done or not applicable, and back to open: ticking an item
    someone already ticked (two agents at once) is refused with who ticked it and when."""
    if state == ItemState.not_applicable and not reason:
        raise validation_problem(
            [{"loc": ["body", "reason"], "msg": "say why the item does not apply"}]
        )
    if reason and state != ItemState.not_applicable:
        raise validation_problem(
            [{"loc": ["body", "reason"], "msg": "a reason goes with not_applicable only"}]
        )
    # Locked until commit: a second tick of the same checklist waits, then sees this one.
    row = await objects.get(session, SPEC, checklist_id, scope, for_update=True)
    items: list[dict[str, Any]] = [dict(i) for i in row.items]  # type: ignore[attr-defined]
    found = next((i for i in items if i["key"] == key), None)
    if found is None:
        raise not_found("checklist item", key, detail=f"checklist {row.ref} has no item {key!r}")
    current = found["state"]
    if state == ItemState.open and current == ItemState.open:
        raise conflict(f"item {key!r} of {row.ref} is already open", item=found)
    if state != ItemState.open and current != ItemState.open:
        raise conflict(
            f"item {key!r} of {row.ref} was already marked {current} by {found['by']} at "
            f"{found['at']}; reopen it first to change it",
            item=found,
        )
    found.update(
        state=state.value,
        by=actor.name,
        at=datetime.now(UTC).isoformat(),
        reason=reason if state == ItemState.not_applicable else None,
    )
    return await objects.update(
        session, SPEC, checklist_id, ItemsPatch(items=items), None, row.version, actor, scope
    )


class Tick(Input):
    state: ItemState
    reason: Reason | None = None


class Start(Input):
    """What a procedure is started for: an incident, event or demonstration, or an activation's
    cell (`activation_id` alone)."""

    activation_id: uuid.UUID | None = None
    subject_entity: Subject | None = None
    subject_id: uuid.UUID | None = None
