"""Alerts composed by SITCEN: an AlertIn becomes a draft, its area taken from an object of the
picture or drawn, its recipients named or, for an Update or Cancel, those of the alert it
references."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.enums import Origin
from app.alerts.lifecycle import service
from app.alerts.lifecycle.compose import AlertDraft
from app.alerts.models import Alert
from app.alerts.schemas import AlertIn, AreaIn
from app.domain import objects, organisations
from app.domain.features import to_feature
from app.domain.registry import BY_ENTITY
from app.errors import validation_problem
from app.geo.reference import areas_for
from app.geo.validation import parse_geometry

REGION = "Région de Bruxelles-Capitale / Brussels Hoofdstedelijk Gewest"


def _names(areas: dict[str, Any]) -> tuple[str, list[str]]:
    municipalities = areas.get("municipalities") or []
    names = ", ".join(m["name_fr"] for m in municipalities) or REGION
    return names, [m["code"] for m in municipalities]


async def _area(
    session: AsyncSession, area: AreaIn | None
) -> tuple[dict[str, Any] | None, str, list[str], Any]:
    """(geometry, description, municipality codes, the object) of the alert's area."""
    if area is None:
        return None, REGION, [], None
    if area.object is not None:
        spec = BY_ENTITY[area.object.entity]
        row = await objects.get(session, spec, area.object.id, None)
        feature = to_feature(spec, row)
        desc, codes = _names(row.areas or {})
        return feature["geometry"], area.description or desc, codes, (spec, row)
    if area.geometry is not None:
        parsed = await parse_geometry(area.geometry, loc=("body", "area", "geometry"))
        desc, codes = _names(await areas_for(session, parsed.geometry))
        return parsed.geojson, area.description or desc, codes, None
    return None, area.description or REGION, [], None


async def _recipients(session: AsyncSession, body: AlertIn, referenced: Alert | None) -> list[str]:
    if body.organisations == "all":
        return await service.all_organisations(session)
    if body.organisations:
        return await organisations.require_known(
            session, body.organisations, ["body", "organisations"]
        )
    assert referenced is not None  # AlertIn requires organisations for a new Alert
    recipients = await service.recipients_of(session, [referenced.id])
    return [r.organisation for r in recipients.get(referenced.id, [])]


async def draft_of(session: AsyncSession, body: AlertIn) -> tuple[AlertDraft, list[str]]:
    referenced = None
    if body.references is not None:
        referenced = await session.get(Alert, body.references)
        if referenced is None:
            raise validation_problem([{"loc": ["body", "references"], "msg": "no such alert"}])
    geometry, desc, codes, obj = await _area(session, body.area)
    texts = {
        lang.value: {k: v for k, v in {**t.model_dump(), "event": body.event}.items() if v}
        for lang, t in body.texts.items()
    }
    draft = AlertDraft(
        status=body.status,
        msg_type=body.msg_type,
        severity=body.severity,
        urgency=body.urgency,
        certainty=body.certainty,
        categories=list(body.categories),
        event=body.event,
        texts=texts,
        area_desc=desc,
        area=geometry,
        area_codes=codes,
        references_id=body.references,
        origin=Origin.manual,
        expires_at=body.expires_at,
    )
    if obj is not None:
        spec, row = obj
        draft.entity, draft.entity_id, draft.entity_ref = spec.entity.value, row.id, row.ref
    return draft, await _recipients(session, body, referenced)
