"""CAP in: a received CAP 1.2 alert becomes an incident or a zone of the picture.

The object is written through the one write path (app.domain.objects), with the CAP
identifier as its external id: a partner system that retries the same message gets the first
object back and creates nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from shapely.geometry import Point, mapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.cap import CapArea, CapInfo, CapMessage, geojson_of
from app.auth.principal import Principal
from app.domain import objects
from app.domain.enums import Entity, IncidentCategory, ZoneKind
from app.domain.objects import Written
from app.domain.registry import BY_ENTITY
from app.errors import pydantic_errors, validation_problem
from app.geo.crs import LAMBERT72, WGS84, transform
from app.geo.validation import parse_geometry

# CAP's categories in the picture's words, when the message does not name a sitcen category.
CATEGORY = {
    "Geo": IncidentCategory.other,
    "Met": IncidentCategory.flooding_storm,
    "Safety": IncidentCategory.other,
    "Security": IncidentCategory.threat,
    "Rescue": IncidentCategory.other,
    "Fire": IncidentCategory.fire,
    "Health": IncidentCategory.health,
    "Env": IncidentCategory.hazmat,
    "Transport": IncidentCategory.transport_disruption,
    "Infra": IncidentCategory.utility_outage,
    "CBRNE": IncidentCategory.hazmat,
    "Other": IncidentCategory.other,
}
# Which text becomes the object's: the Region's languages first.
PREFERRED = ("fr", "nl", "en")
INGESTED_STATUS = ("Actual", "Exercise")


@dataclass(frozen=True)
class Target:
    entity: Entity
    zone_kind: ZoneKind | None = None


def _refuse(loc: list[Any], msg: str) -> Exception:
    return validation_problem([{"loc": ["body", "alert", *loc], "msg": msg}])


def chosen_info(message: CapMessage) -> tuple[int, CapInfo]:
    if not message.infos:
        raise _refuse(["info"], "an <info> block is needed to make an object of the alert")
    for language in PREFERRED:
        for i, info in enumerate(message.infos):
            if info.language.lower().startswith(language):
                return i, info
    return 0, message.infos[0]


def _code(pairs: list[tuple[str, str]], name: str) -> str | None:
    return next((v for n, v in pairs if n == name), None)


def _category(info: CapInfo) -> str:
    named = _code(info.event_codes, "sitcen:category")
    if named is not None and named in IncidentCategory.__members__:
        return named
    return CATEGORY.get(info.categories[0], IncidentCategory.other).value


def _circle_polygon(area: CapArea) -> dict[str, Any] | None:
    """A circle as a polygon, drawn in metres (Lambert 72) so it is round on the ground."""
    if not area.circles:
        return None
    lat, lon, km = area.circles[0]
    centre = transform(Point(lon, lat), WGS84, LAMBERT72)
    return dict(mapping(transform(centre.buffer(max(km, 0.01) * 1000, 16), LAMBERT72, WGS84)))


async def _geometry(info: CapInfo, i: int, target: Target) -> Any:
    area = info.areas[0] if info.areas else None
    raw = None if area is None else geojson_of(area)
    if target.entity == Entity.zone and area is not None and not area.polygons:
        raw = _circle_polygon(area)
    if raw is None:
        raise _refuse(
            ["info", i, "area"],
            "an <area> with a <polygon> or <circle> is needed: the picture places every object",
        )
    return await parse_geometry(raw, loc=("body", "alert", "info", i, "area"))


def source_of(message: CapMessage, principal: Principal) -> str:
    if principal.kind == "apikey" and principal.source:
        return principal.source
    return ("cap:" + re.sub(r"[^A-Za-z0-9_.:\-]", "_", message.sender))[:64]


def _props(message: CapMessage, info: CapInfo, target: Target, source: str) -> dict[str, Any]:
    title = info.headline or info.event
    description = "\n\n".join(x for x in (info.description, info.instruction) if x) or None
    props: dict[str, Any] = {
        "title": title[:200],
        "description": description,
        "exercise": message.status == "Exercise",
        "source": source,
        "external_id": message.identifier[:128],
    }
    if target.entity == Entity.zone:
        props["kind"] = (target.zone_kind or ZoneKind.security_perimeter).value
        props["valid_from"] = info.onset or info.effective
        props["valid_to"] = info.expires
    else:
        props["category"] = _category(info)
        props["severity"] = info.severity.lower()
        props["occurred_at"] = info.onset or info.effective or message.sent
    return props


async def ingest(
    session: AsyncSession, message: CapMessage, target: Target, principal: Principal
) -> Written:
    if message.status not in INGESTED_STATUS:
        raise _refuse(["status"], f"{message.status} messages are not operational: not ingested")
    if message.msg_type != "Alert":
        raise _refuse(
            ["msgType"],
            f"only Alert messages become objects, not {message.msg_type}: change it by PATCH",
        )
    i, info = chosen_info(message)
    if target.entity == Entity.incident and info.severity == "Unknown":
        raise _refuse(["info", i, "severity"], "Unknown: an incident needs a graded severity")
    spec = BY_ENTITY[target.entity]
    try:
        props = spec.create_schema.model_validate(
            _props(message, info, target, source_of(message, principal))
        )
    except ValidationError as e:
        raise validation_problem(pydantic_errors(list(e.errors()))) from None
    geometry = await _geometry(info, i, target)
    return await objects.create(session, spec, props, geometry, principal)  # type: ignore[arg-type]
