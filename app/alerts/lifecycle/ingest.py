"""CAP in: a received CAP 1.2 message makes, changes or ends an incident or a zone of the picture.

- An **Alert** makes an object through the one write path (app.domain.objects), with the CAP
  identifier as its external id.
- An **Update** changes the object made from the message(s) its <references> name: title,
  description, severity, geometry and times, through objects.update with the version read
  under the row lock (If-Match, internally). An Update naming no message received here makes
  a new object, as CAP aggregators do.
- A **Cancel** ends that object: status `cancelled` where the kind has one, else the end of its
  window set to the message's `sent`. A Cancel naming no message received here is a 404.

Every message is recorded (app.alerts.lifecycle.cap_feed): a message sent again changes nothing,
and a
message sent before the last one applied to an object (an Alert arriving after its Update) is
recorded and linked without being applied.

A message never silently overwrites what someone else changed: for each field it writes, the
object's value is compared with what the feed last said (`said`). Unchanged since: the
message's value is written. Changed by someone else: kept if the message does not change that
field, or changes it to the same value; otherwise nothing is applied and the answer is a 409
naming the version the feed last wrote and the current one.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError
from shapely.geometry import Point, mapping
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.alerts.lifecycle import cap_feed
from app.alerts.lifecycle.cap import CapArea, CapInfo, CapMessage, geojson_of, reference_key
from app.auth.permissions import read_scope
from app.auth.principal import Principal
from app.domain import objects
from app.domain.base import OperationalObject
from app.domain.enums import Entity, IncidentCategory, ZoneKind, ZoneStatus
from app.domain.features import plain, to_feature
from app.domain.incident import Incident
from app.domain.objects import Written
from app.domain.registry import BY_ENTITY
from app.domain.spec import EntitySpec
from app.domain.zone import Zone
from app.errors import (
    cap_conflict,
    cap_identifier_reused,
    cap_object_gone,
    cap_unknown_reference,
    not_found,
    pydantic_errors,
    validation_problem,
)
from app.geo.crs import LAMBERT72, WGS84, transform
from app.geo.validation import ParsedGeometry, parse_geometry

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
INGESTED_TYPES = ("Alert", "Update", "Cancel")
# What a CAP message may write of an object; compared with what the feed last said of them.
FEED_FIELDS = (
    "title",
    "description",
    "severity",
    "status",
    "occurred_at",
    "closed_at",
    "valid_from",
    "valid_to",
    "geometry",
)

# Checks an action against the permission table (and an API key's object types), refusing
# with an audited 403: the router's, so that this module needs no request.
Authorise = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Target:
    """What a message that makes an object makes (`POST /api/cap?entity=&kind=`)."""

    entity: Entity
    zone_kind: ZoneKind | None = None


@dataclass
class Received:
    """What a received message did: the object as it now stands, and what to tell the sender."""

    entity: Entity
    written: Written
    notes: list[str] = field(default_factory=list)


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
    # As JSON has it (lists, not shapely's tuples): what parse_geometry checks.
    polygon = transform(centre.buffer(max(km, 0.01) * 1000, 16), LAMBERT72, WGS84)
    return dict(_json(mapping(polygon)))


def _has_shape(info: CapInfo) -> bool:
    return bool(info.areas and (info.areas[0].polygons or info.areas[0].circles))


async def _geometry(info: CapInfo, i: int, entity: Entity) -> ParsedGeometry:
    area = info.areas[0] if info.areas else None
    raw = None if area is None else geojson_of(area)
    if entity == Entity.zone and area is not None and not area.polygons:
        raw = _circle_polygon(area)
    if raw is None:
        raise _refuse(
            ["info", i, "area"],
            "an <area> with a <polygon> or <circle> is needed: the picture places every object",
        )
    return await parse_geometry(raw, loc=("body", "alert", "info", i, "area"))


def source_of(message: CapMessage, principal: Principal) -> str:
    if principal.kind in ("apikey", "system") and principal.source:
        return principal.source
    return ("cap:" + re.sub(r"[^A-Za-z0-9_.:\-]", "_", message.sender))[:64]


def _described(message: CapMessage, info: CapInfo, entity: Entity) -> dict[str, Any]:
    """What a message says of an object: its text, severity and times."""
    values: dict[str, Any] = {
        "title": (info.headline or info.event)[:200],
        "description": "\n\n".join(x for x in (info.description, info.instruction) if x) or None,
    }
    if entity == Entity.zone:
        values["valid_from"] = info.onset or info.effective
        values["valid_to"] = info.expires
    else:
        # "Unknown" says nothing of the severity: an Update leaves it as it is (a new incident
        # refuses it, see _create).
        if info.severity != "Unknown":
            values["severity"] = info.severity.lower()
        if info.onset or info.effective:
            values["occurred_at"] = info.onset or info.effective
    return values


def _props(message: CapMessage, info: CapInfo, target: Target, source: str) -> dict[str, Any]:
    props = _described(message, info, target.entity)
    props.update(exercise=message.status == "Exercise", source=source)
    props["external_id"] = message.identifier[:128]
    if target.entity == Entity.zone:
        props["kind"] = (target.zone_kind or ZoneKind.security_perimeter).value
    else:
        props["category"] = _category(info)
        props.setdefault("occurred_at", message.sent)
    return props


def _validated(schema: type[BaseModel], values: dict[str, Any]) -> Any:
    try:
        return schema.model_validate(values)
    except ValidationError as e:
        raise validation_problem(pydantic_errors(list(e.errors()))) from None


def _json(value: Any) -> Any:
    """As stored in JSON: the same value compares equal however it was made (tuples, times)."""
    return orjson.loads(orjson.dumps(value, default=plain, option=orjson.OPT_PASSTHROUGH_DATETIME))


def said_of(feature: dict[str, Any]) -> dict[str, Any]:
    """What an object's Feature holds of the fields a CAP message writes."""
    props = feature["properties"]
    values = {name: props[name] for name in FEED_FIELDS if name in props}
    values["geometry"] = feature["geometry"]
    return dict(_json(values))


def cancellation(spec: EntitySpec, row: OperationalObject, sent: datetime) -> dict[str, Any]:
    """What a CAP Cancel writes: the kind's `cancelled` status where it has one; else the end
    of the object's window set to the message's `sent` — never later than an end it already
    has, never before its start (closed_at ≥ occurred_at), and for a zone that was to begin
    only after `sent`, which no end can close, the zone's own end: lifted."""
    if spec.status_enum is not None and "cancelled" in spec.status_enum.__members__:
        return {spec.status_field or "status": "cancelled"}
    if isinstance(row, Zone):
        start, end = row.valid_from, row.valid_to
        if start is not None and start >= sent:
            return {"status": ZoneStatus.lifted.value}
        return {"valid_to": min(end, sent) if end is not None else sent}
    assert isinstance(row, Incident), "CAP makes incidents and zones only"
    start, end = row.occurred_at, row.closed_at
    closed = max(start, sent) if start is not None else sent
    return {"closed_at": min(end, closed) if end is not None else closed}


def _merge(
    said: dict[str, Any], current: dict[str, Any], wanted: dict[str, Any]
) -> tuple[list[str], list[str], list[str]]:
    """(fields to write, fields kept as someone else changed them, fields in conflict): a
    three-way comparison of what the feed last said, the object now, and the message."""
    write, kept, conflicts = [], [], []
    for name, new in wanted.items():
        now = current.get(name)
        before = said.get(name, now)
        if now == before:
            if new != now:
                write.append(name)
        elif new == before:
            kept.append(name)
        elif new != now:
            conflicts.append(name)
    return write, kept, conflicts


async def receive(
    session: AsyncSession,
    message: CapMessage,
    target: Target,
    principal: Principal,
    authorise: Authorise,
) -> Received:
    """Apply a received message (the caller commits)."""
    if message.status not in INGESTED_STATUS:
        raise _refuse(["status"], f"{message.status} messages are not operational: not ingested")
    if message.msg_type not in INGESTED_TYPES:
        raise _refuse(
            ["msgType"], f"{message.msg_type} messages change nothing in the picture: not ingested"
        )
    refs = [reference_key(r) for r in message.references]
    if message.msg_type != "Alert" and not refs:
        raise _refuse(
            ["references"],
            f"{message.msg_type}: <references> must name the message(s) it changes",
        )
    feed = cap_feed.feed_of(principal)
    await cap_feed.lock(session, feed)
    key = (message.sender, message.identifier)
    earlier = await cap_feed.earlier(session, feed, key)
    if earlier is not None:
        return await _again(session, earlier, message, principal)
    if message.msg_type == "Alert":
        # An Update may have come first and made the object: the Alert joins it.
        found = await cap_feed.naming(session, feed, key)
        named = [found] if found is not None else []
    else:
        named = await cap_feed.named(session, feed, refs)
    context = _Context(session, message, principal, authorise, feed, refs)
    if named:
        return await context.change(named)
    if message.msg_type == "Cancel":
        raise cap_unknown_reference(
            f"this Cancel names {', '.join(message.references[:3])}"
            f"{' and more' if len(message.references) > 3 else ''}: no such message was "
            "received here, so there is nothing to cancel (send it again once the message it "
            "cancels has been received)",
            message.references,
        )
    return await context.create(target)


async def _locked(
    session: AsyncSession, spec: EntitySpec, found: cap_feed.ReceivedMessage, principal: Principal
) -> OperationalObject:
    """The object made from `found`, locked until the transaction ends: the version read here
    is the one the write expects."""
    m = spec.model
    row = await session.scalar(select(m).where(m.id == found.entity_id).with_for_update())
    if row is None:
        raise cap_object_gone(
            f"the {spec.label} made from {found.sender},{found.identifier} no longer exists: "
            "it was deleted"
        )
    scope = read_scope(principal, m)
    if scope is not None and not await session.scalar(select(m.id).where(m.id == row.id, scope)):
        raise not_found(spec.label, row.id)
    return row


async def _again(
    session: AsyncSession,
    earlier: cap_feed.ReceivedMessage,
    message: CapMessage,
    principal: Principal,
) -> Received:
    """The same message sent again: the object as it stands, nothing applied twice."""
    if earlier.sent != message.sent:
        raise cap_identifier_reused(
            f"{message.sender} sent a message {message.identifier} at {earlier.sent.isoformat()}"
            f" already; this one is sent at {message.sent.isoformat()}: a CAP identifier names "
            "one message"
        )
    spec = BY_ENTITY[Entity(earlier.entity)]
    row = await _locked(session, spec, earlier, principal)
    written = Written(row.id, row.version, to_feature(spec, row), created=False)
    when = earlier.received_at.isoformat()
    return Received(spec.entity, written, [f"already received at {when}: nothing applied again"])


@dataclass
class _Context:
    session: AsyncSession
    message: CapMessage
    principal: Principal
    authorise: Authorise
    feed: str
    refs: list[cap_feed.Key]

    async def _record(
        self,
        spec: EntitySpec,
        written: Written,
        outcome: str,
        said: dict[str, Any] | None,
    ) -> None:
        await cap_feed.record(
            self.session,
            self.feed,
            self.message,
            self.refs,
            entity=spec.entity.value,
            entity_id=written.id,
            outcome=outcome,
            version=None if said is None else written.version,
            said=said,
            actor=self.principal.actor,
        )

    async def create(self, target: Target) -> Received:
        """An Alert, or an Update naming no message received here: a new object."""
        message = self.message
        i, info = chosen_info(message)
        if target.entity == Entity.incident and info.severity == "Unknown":
            raise _refuse(["info", i, "severity"], "Unknown: an incident needs a graded severity")
        spec = BY_ENTITY[target.entity]
        values = _props(message, info, target, source_of(message, self.principal))
        props = _validated(spec.create_schema, values)
        geometry = await _geometry(info, i, target.entity)
        written = await objects.create(self.session, spec, props, geometry, self.principal.as_actor)
        notes = list(written.notes)
        if message.msg_type == "Update":
            notes.append(
                f"its <references> name no message received here: a new {spec.label}, "
                "as CAP aggregators do"
            )
        if not written.created:
            notes.append(
                f"{spec.label} {written.feature['properties']['ref']} already had this "
                "identifier as its external_id: the message is linked to it, nothing applied"
            )
        outcome = "created" if written.created else "linked"
        await self._record(spec, written, outcome, said_of(written.feature))
        return Received(spec.entity, written, notes)

    async def change(self, named: list[cap_feed.ReceivedMessage]) -> Received:
        """A message for the object made from the messages it names (the last sent of them)."""
        message = self.message
        found = named[0]
        spec = BY_ENTITY[Entity(found.entity)]
        await self.authorise(f"{spec.entity.value}:update")
        row = await _locked(self.session, spec, found, self.principal)
        ref = f"{spec.label} {row.ref}"
        notes = [
            f"{m.sender},{m.identifier} made another object ({m.entity} {m.entity_id}): "
            "not changed by this message"
            for m in named
            if m.entity_id != row.id
        ]
        last = await cap_feed.last_applied(self.session, row.id)
        if last is not None and message.sent < last.sent:
            written = Written(row.id, row.version, to_feature(spec, row), created=False)
            await self._record(spec, written, "superseded", None)
            notes.append(
                f"sent before {last.msg_type} {last.identifier} ({last.sent.isoformat()}), "
                f"already applied to {ref}: recorded and linked, not applied"
            )
            return Received(spec.entity, written, notes)

        geometry: ParsedGeometry | None = None
        if message.msg_type == "Cancel":
            values = cancellation(spec, row, message.sent)
        else:
            i, info = chosen_info(message)
            values = _described(message, info, spec.entity)
            if _has_shape(info):
                geometry = await _geometry(info, i, spec.entity)
        wanted: dict[str, Any] = _json(_validated(spec.update_schema, values).model_dump())
        wanted = {name: wanted[name] for name in values}
        if geometry is not None:
            wanted["geometry"] = _json(mapping(geometry.geometry))
        current = said_of(to_feature(spec, row))
        said = last.said if last is not None and last.said is not None else current
        write, kept, conflicts = _merge(said, current, wanted)
        if conflicts:
            raise cap_conflict(
                f"{ref} is at version {row.version}; this feed last wrote version "
                f"{last.version if last else '?'}, and {', '.join(conflicts)} changed since: "
                f"this {message.msg_type} would overwrite them, so nothing is applied. Review "
                f"the {spec.label} and change it by PATCH",
                feed_version=last.version if last else None,
                current_version=row.version,
                fields=conflicts,
                current=to_feature(spec, row),
            )
        status = spec.status_field
        if status in write and wanted[status] in spec.closing:
            await self.authorise(f"{spec.entity.value}:close")
        if write:
            patch = _validated(spec.update_schema, {k: v for k, v in values.items() if k in write})
            written = await objects.update(
                self.session,
                spec,
                row.id,
                patch,
                geometry if "geometry" in write else None,
                row.version,
                self.principal.as_actor,
                read_scope(self.principal, spec.model),
            )
            outcome = "cancelled" if message.msg_type == "Cancel" else "updated"
        else:
            written = Written(row.id, row.version, to_feature(spec, row), created=False)
            outcome = "unchanged"
        if kept:
            notes.append(
                f"{', '.join(kept)} kept as changed since this feed wrote version "
                f"{last.version if last else '?'}: the message does not change them"
            )
        await self._record(spec, written, outcome, {**said, **wanted})
        return Received(spec.entity, written, notes)
