"""Activation templates: what an activation of one kind (planned event, flood, major fire,
public order, CBRN…) starts with, kept by administrators, and applying one to a new
activation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cell import fiches, procedures
from app.cell.models import ActivationTemplate
from app.cell.procedures import ProcedureTemplate
from app.domain import objects, organisations, users
from app.domain import position as position_kind
from app.domain.activation import Activation, TemplateCode
from app.domain.actor import Actor
from app.domain.enums import ActivationLevel, PositionRole
from app.domain.fiche import FicheEntry
from app.domain.objects import Written
from app.domain.schema import Input, OrgCode, Title
from app.errors import already_exists, conflict, not_found, validation_problem
from app.partners import directory

Label = Annotated[str, Field(min_length=1, max_length=200)]
ProcedureCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]


class Seat(Input):
    """A position the template creates, and who holds it when that is known in advance."""

    role: PositionRole
    title: Title
    holder_organisation: OrgCode | None = None
    holder_user: position_kind.Username | None = None

    @model_validator(mode="after")
    def _one_holder(self) -> Seat:
        if self.holder_user and self.holder_organisation:
            raise ValueError("a position is held by a user or by an organisation")
        return self


class TemplateFields(Input):
    label_fr: Label
    label_nl: Label
    label_en: Label
    level: ActivationLevel
    positions: Annotated[list[Seat], Field(max_length=60)] = []
    procedures: Annotated[list[ProcedureCode], Field(max_length=50)] = []
    fiche: Annotated[list[FicheEntry], Field(max_length=200)] = []  # as a fiche's entries
    plan_id: uuid.UUID | None = None
    active: bool = True


class TemplateIn(TemplateFields):
    code: TemplateCode


class TemplatePatch(Input):
    label_fr: Label | None = None
    label_nl: Label | None = None
    label_en: Label | None = None
    level: ActivationLevel | None = None
    positions: Annotated[list[Seat], Field(max_length=60)] | None = None
    procedures: Annotated[list[ProcedureCode], Field(max_length=50)] | None = None
    fiche: Annotated[list[FicheEntry], Field(max_length=200)] | None = None
    plan_id: uuid.UUID | None = None
    active: bool | None = None


def template_json(t: ActivationTemplate) -> dict[str, Any]:
    return {
        "code": t.code,
        "label_fr": t.label_fr,
        "label_nl": t.label_nl,
        "label_en": t.label_en,
        "level": t.level,
        "positions": t.positions,
        "procedures": t.procedures,
        "fiche": t.fiche,
        "plan_id": str(t.plan_id) if t.plan_id else None,
        "active": t.active,
        "updated_at": t.updated_at.isoformat() if t.updated_at else None,
        "updated_by": t.updated_by,
    }


async def listing(session: AsyncSession, *, active_only: bool) -> list[ActivationTemplate]:
    query = select(ActivationTemplate).order_by(ActivationTemplate.code)
    if active_only:
        query = query.where(ActivationTemplate.active.is_(True))
    return list((await session.scalars(query)).all())


async def get(session: AsyncSession, code: str, *, for_update: bool = False) -> ActivationTemplate:
    row = await session.get(ActivationTemplate, code, with_for_update=for_update)
    if row is None:
        raise not_found("activation template", code)
    return row


async def require_active(
    session: AsyncSession, code: str, loc: list[str | int]
) -> ActivationTemplate:
    """The template to open an activation from, or 422 naming `loc`."""
    row = await session.get(ActivationTemplate, code)
    if row is None or not row.active:
        raise validation_problem([{"loc": loc, "msg": f"no active activation template {code!r}"}])
    return row


async def _check_contents(
    session: AsyncSession,
    seats: list[Seat] | None,
    procedures: list[str] | None,
    fiche: list[FicheEntry] | None,
) -> None:
    """What a template names exists: its seats' holders, its standard procedures, the
    organisations of its fiche's entries (their zones and seats are the activation's own)."""
    await _check_seats(session, seats or [])
    for i, code in enumerate(procedures or []):
        if await session.get(ProcedureTemplate, code) is None:
            raise validation_problem(
                [{"loc": ["body", "procedures", i], "msg": f"no standard procedure {code!r}"}]
            )
    for i, entry in enumerate(fiche or []):
        await organisations.require_known(
            session, [entry.organisation], ["body", "fiche", i, "organisation"]
        )


async def _check_seats(session: AsyncSession, seats: list[Seat]) -> None:
    for i, seat in enumerate(seats):
        if seat.holder_organisation:
            await organisations.require_known(
                session, [seat.holder_organisation], ["body", "positions", i, "holder_organisation"]
            )
        if seat.holder_user:
            await users.require_known(
                session, seat.holder_user, ["body", "positions", i, "holder_user"]
            )


def _stored(fields: dict[str, Any]) -> dict[str, Any]:
    if fields.get("positions") is not None:
        fields["positions"] = [
            {k: v for k, v in seat.items() if v is not None} for seat in fields["positions"]
        ]
    return fields


async def create(session: AsyncSession, body: TemplateIn, actor: Actor) -> ActivationTemplate:
    await _check_contents(session, body.positions, body.procedures, body.fiche)
    if await session.get(ActivationTemplate, body.code) is not None:
        raise already_exists(f"activation template {body.code!r} exists")
    row = ActivationTemplate(
        **_stored(body.model_dump(mode="json")),
        updated_at=datetime.now(UTC),
        updated_by=actor.name,
    )
    row.plan_id = body.plan_id
    session.add(row)
    await session.flush()
    return row


async def change(
    session: AsyncSession, code: str, patch: TemplatePatch, actor: Actor
) -> ActivationTemplate:
    row = await get(session, code, for_update=True)
    given = patch.model_dump(mode="json", exclude_unset=True)
    nulls = [k for k, v in given.items() if v is None and k != "plan_id"]
    if nulls:
        raise validation_problem([{"loc": ["body", nulls[0]], "msg": "may not be null"}])
    await _check_contents(session, patch.positions, patch.procedures, patch.fiche)
    for name, value in _stored(given).items():
        setattr(row, name, patch.plan_id if name == "plan_id" else value)
    row.updated_at, row.updated_by = datetime.now(UTC), actor.name
    await session.flush()
    return row


async def remove(session: AsyncSession, code: str) -> None:
    """Delete a template no activation was opened from; one that was is deactivated instead,
    so that those activations still name what they were opened from."""
    row = await get(session, code, for_update=True)
    used = await session.scalar(
        select(func.count()).select_from(Activation).where(Activation.template == code)
    )
    if used:
        raise conflict(
            f"activation template {code!r} was used by {used} activation(s): "
            "deactivate it (active: false) instead"
        )
    await session.delete(row)


async def apply_template(
    session: AsyncSession,
    template: ActivationTemplate,
    activation: Activation,
    actor: Actor,
) -> list[Written]:
    """Create the template's positions in the new activation's cell, through the one write
    path, in the caller's transaction. Each seat takes the activation's visibility and
    exercise flag; a partner holding one sees it (app.domain.position). When the template
    follows an emergency plan, each organisation the plan names (its directory contacts, read
    now) that holds no seat yet gets a liaison seat: paging the cell pages the plan's contacts
    through their organisations' channels. The template's standard procedures start as the
    cell's checklists, and its fiche entries make the cell's draft operational fiche."""
    seats = [dict(seat) for seat in template.positions]
    if template.plan_id is not None:
        held = {seat.get("holder_organisation") for seat in seats}
        for contact in await directory.plan_contacts(session, template.plan_id):
            if contact.organisation in held:
                continue
            held.add(contact.organisation)
            title = f"{contact.entry.function} ({contact.organisation})"[:200]
            seats.append(
                {
                    "role": PositionRole.partner_liaison.value,
                    "title": title,
                    "holder_organisation": contact.organisation,
                }
            )
    created: list[Written] = []
    for seat in seats:
        props = position_kind.PositionCreate(
            activation_id=activation.id,
            role=seat["role"],
            title=seat["title"],
            holder_organisation=seat.get("holder_organisation"),
            holder_user=seat.get("holder_user"),
            visibility=activation.visibility,
            exercise=activation.exercise,
        )
        created.append(await objects.create(session, position_kind.SPEC, props, None, actor))
    for code in template.procedures:
        await procedures.start_checklist(session, actor, code, activation_id=activation.id)
    if template.fiche:
        await fiches.draft_fiche(
            session,
            actor,
            template.fiche,
            activation_id=activation.id,
            title=f"Fiche opérationnelle / Operationele fiche — {activation.title}"[:200],
        )
    return created
