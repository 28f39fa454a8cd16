"""CAP 1.2 (OASIS Common Alerting Protocol): alerts out as XML, received XML parsed safely.

Out: lxml builds the document in the schema's element order. In: defusedxml parses with DTDs
forbidden (so neither entity expansion — "billion laughs" — nor external entities can happen),
then every field is checked with an error naming the element. CAP writes points as
"lat,lon" (latitude first), the reverse of GeoJSON: the conversion is done here only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as safe_xml
from lxml import etree
from shapely.geometry import mapping, shape

from app.alerts.enums import CAP_LANGUAGE
from app.alerts.lifecycle.service import LOCAL_TIME, identifier
from app.alerts.models import Alert
from app.domain.enums import Language
from app.domain.schema import EARLIEST, LATEST, TIME_RANGE
from app.errors import ProblemError, malformed_cap, payload_too_large, validation_problem
from app.text import xml_safe

NS = "urn:oasis:names:tc:emergency:cap:1.2"
MEDIA_TYPE = "application/cap+xml"
_Q = "{" + NS + "}"
# CAP times carry a numeric offset; "Z" is not allowed (CAP 1.2 §3.3.2).
_TIME = re.compile(r"^\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")
STATUS = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPE = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPE = ("Public", "Restricted", "Private")
CATEGORY = (
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
)
URGENCY = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITY = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTY = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
MAX_BYTES = 1_000_000
MAX_NAME = 250  # characters of a sender or identifier
MAX_REFERENCES = 500  # a message's chain of earlier messages; each is looked up
PRECISION = 6  # decimal places of coordinates: ~0.1 m
RESTRICTION = "Partners of the Brussels-Capital Region crisis centre (safe.brussels)"
SENDER_NAME = "SITCEN — Centre de crise régional / Gewestelijk Crisiscentrum Brussel"

LatLon = tuple[float, float]


@dataclass
class CapArea:
    desc: str
    polygons: list[list[LatLon]] = field(default_factory=list)
    circles: list[tuple[float, float, float]] = field(default_factory=list)  # lat, lon, km
    geocodes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class CapInfo:
    language: str
    categories: list[str]
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    sender_name: str | None = None
    web: str | None = None
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    event_codes: list[tuple[str, str]] = field(default_factory=list)
    parameters: list[tuple[str, str]] = field(default_factory=list)
    areas: list[CapArea] = field(default_factory=list)


@dataclass
class CapMessage:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    restriction: str | None = None
    addresses: str | None = None
    note: str | None = None
    references: list[str] = field(default_factory=list)
    infos: list[CapInfo] = field(default_factory=list)


def cap_time(value: datetime) -> str:
    """Local time with its offset, whole seconds: 2026-09-26T10:00:00+02:00."""
    return value.astimezone(LOCAL_TIME).replace(microsecond=0).isoformat()


def _local(value: datetime | None) -> datetime | None:
    return value.astimezone(LOCAL_TIME).replace(microsecond=0) if value else None


# ---- out -------------------------------------------------------------------------------------


def _ring(coords: list[Any]) -> list[LatLon]:
    return [(round(float(c[1]), PRECISION), round(float(c[0]), PRECISION)) for c in coords]


def area_of(alert: Alert) -> CapArea:
    """The alert's geometry as CAP shapes: polygons by their outer ring (CAP has no holes), a
    point as a circle of radius 0, a line as the polygon around it."""
    area = CapArea(alert.area_desc or "Région de Bruxelles-Capitale")
    area.geocodes = [("NIS", code) for code in alert.area_codes]
    geometry = alert.area
    if not geometry:
        return area
    kind = geometry["type"]
    if kind in ("LineString", "MultiLineString"):
        # About 30 m either side: enough to show a route, small enough not to hide it.
        geometry = mapping(shape(geometry).buffer(0.0003, quad_segs=4))
        kind = geometry["type"]
    if kind == "Polygon":
        area.polygons = [_ring(geometry["coordinates"][0])]
    elif kind == "MultiPolygon":
        area.polygons = [_ring(p[0]) for p in geometry["coordinates"]]
    elif kind == "Point":
        lon, lat = geometry["coordinates"][:2]
        area.circles = [(round(lat, PRECISION), round(lon, PRECISION), 0.0)]
    elif kind == "MultiPoint":
        area.circles = [
            (round(p[1], PRECISION), round(p[0], PRECISION), 0.0) for p in geometry["coordinates"]
        ]
    return area


def reference_of(alert: Alert, sender: str) -> str:
    return f"{sender},{identifier(alert)},{cap_time(alert.sent_at)}"


def from_alert(
    alert: Alert,
    *,
    sender: str,
    web: str,
    referenced: Alert | None = None,
    addresses: list[str] | None = None,
) -> CapMessage:
    infos = []
    for language in Language:
        texts = alert.texts.get(language.value) or {}
        if not texts.get("headline"):
            continue
        infos.append(
            CapInfo(
                language=CAP_LANGUAGE[language],
                categories=list(alert.categories),
                event=texts.get("event") or alert.event,
                urgency=alert.urgency,
                severity=alert.severity,
                certainty=alert.certainty,
                headline=texts["headline"],
                description=texts.get("description") or None,
                instruction=texts.get("instruction") or None,
                sender_name=SENDER_NAME,
                web=web,
                expires=_local(alert.expires_at),
                event_codes=[("sitcen:entity", alert.entity)] if alert.entity else [],
                parameters=[("sitcen:ref", alert.ref)]
                + ([("sitcen:object", alert.entity_ref)] if alert.entity_ref else []),
                areas=[area_of(alert)],
            )
        )
    return CapMessage(
        identifier=identifier(alert),
        sender=sender,
        sent=alert.sent_at.astimezone(LOCAL_TIME).replace(microsecond=0),
        status=alert.status,
        msg_type=alert.msg_type,
        scope="Restricted",
        restriction=RESTRICTION,
        # CAP addresses are space-separated; organisation codes hold no spaces.
        addresses=" ".join(addresses) if addresses else None,
        references=[reference_of(referenced, sender)] if referenced else [],
        infos=infos,
    )


def _sub(parent: etree._Element, name: str, value: str | None) -> None:
    if value is not None and value != "":
        etree.SubElement(parent, _Q + name).text = xml_safe(value)


def _pair(parent: etree._Element, name: str, value_name: str, value: str) -> None:
    element = etree.SubElement(parent, _Q + name)
    _sub(element, "valueName", value_name)
    _sub(element, "value", value)


def _point(lat: float, lon: float) -> str:
    return f"{lat:.{PRECISION}f},{lon:.{PRECISION}f}"


def _render_area(parent: etree._Element, area: CapArea) -> None:
    element = etree.SubElement(parent, _Q + "area")
    _sub(element, "areaDesc", area.desc)
    for polygon in area.polygons:
        _sub(element, "polygon", " ".join(_point(lat, lon) for lat, lon in polygon))
    for lat, lon, radius in area.circles:
        _sub(element, "circle", f"{_point(lat, lon)} {radius:g}")
    for name, value in area.geocodes:
        _pair(element, "geocode", name, value)


def _render_info(parent: etree._Element, info: CapInfo) -> None:
    element = etree.SubElement(parent, _Q + "info")
    _sub(element, "language", info.language)
    for category in info.categories:
        _sub(element, "category", category)
    _sub(element, "event", info.event)
    _sub(element, "urgency", info.urgency)
    _sub(element, "severity", info.severity)
    _sub(element, "certainty", info.certainty)
    for name, value in info.event_codes:
        _pair(element, "eventCode", name, value)
    for tag, when in (
        ("effective", info.effective),
        ("onset", info.onset),
        ("expires", info.expires),
    ):
        _sub(element, tag, cap_time(when) if when else None)
    _sub(element, "senderName", info.sender_name)
    _sub(element, "headline", info.headline)
    _sub(element, "description", info.description)
    _sub(element, "instruction", info.instruction)
    _sub(element, "web", info.web)
    for name, value in info.parameters:
        _pair(element, "parameter", name, value)
    for area in info.areas:
        _render_area(element, area)


def render(message: CapMessage) -> bytes:
    """The CAP 1.2 document, elements in the schema's order."""
    root = etree.Element(_Q + "alert", nsmap={None: NS})
    _sub(root, "identifier", message.identifier)
    _sub(root, "sender", message.sender)
    _sub(root, "sent", cap_time(message.sent))
    _sub(root, "status", message.status)
    _sub(root, "msgType", message.msg_type)
    _sub(root, "scope", message.scope)
    _sub(root, "restriction", message.restriction)
    _sub(root, "addresses", message.addresses)
    _sub(root, "note", message.note)
    _sub(root, "references", " ".join(message.references) or None)
    for info in message.infos:
        _render_info(root, info)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


# ---- in --------------------------------------------------------------------------------------


def malformed(detail: str) -> ProblemError:
    return malformed_cap(detail)


def load(data: bytes) -> Element:
    """Parse untrusted XML: no DTD at all, hence no entities and no external references."""
    if len(data) > MAX_BYTES:
        raise payload_too_large(
            f"a CAP message is limited to {MAX_BYTES} bytes", max_bytes=MAX_BYTES
        )
    try:
        root = safe_xml.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DTDForbidden:
        raise malformed("a DTD (<!DOCTYPE …>) is not accepted in CAP messages") from None
    except defusedxml.EntitiesForbidden:
        raise malformed("entity declarations are not accepted") from None
    except defusedxml.ExternalReferenceForbidden:
        raise malformed("external references are not accepted") from None
    except ParseError as e:
        raise malformed(f"not well-formed XML: {e}") from None
    if not isinstance(root, Element) or root.tag != _Q + "alert":
        raise malformed(f"the root element must be <alert> in the namespace {NS}")
    return root


class _Reader:
    """Reads fields off elements, collecting every problem with its place."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def fail(self, loc: list[Any], msg: str) -> None:
        self.errors.append({"loc": ["body", "alert", *loc], "msg": msg})

    def text(self, parent: Element, name: str, loc: list[Any], required: bool = True) -> str | None:
        element = parent.find(_Q + name)
        value = (element.text or "").strip() if element is not None else ""
        if not value:
            if required:
                self.fail([*loc, name], f"<{name}> is required")
            return None
        return value

    def choice(self, parent: Element, name: str, loc: list[Any], allowed: tuple[str, ...]) -> str:
        value = self.text(parent, name, loc)
        if value is not None and value not in allowed:
            self.fail([*loc, name], f"{value!r} is not one of {', '.join(allowed)}")
        return value or ""

    def time(
        self, parent: Element, name: str, loc: list[Any], required: bool = False
    ) -> datetime | None:
        value = self.text(parent, name, loc, required)
        if value is None:
            return None
        if not _TIME.match(value):
            self.fail([*loc, name], "a time like 2026-09-26T10:00:00+02:00 (with an offset, no Z)")
            return None
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            self.fail([*loc, name], f"{value!r} is not a valid time")
            return None
        # Stored in UTC: a time at the far ends of the calendar has no UTC form.
        if not EARLIEST <= when <= LATEST:
            self.fail([*loc, name], f"out of range: {TIME_RANGE}")
            return None
        return when

    def pairs(self, parent: Element, name: str) -> list[tuple[str, str]]:
        return [
            ((e.findtext(_Q + "valueName") or "").strip(), (e.findtext(_Q + "value") or "").strip())
            for e in parent.findall(_Q + name)
        ]

    def point(self, token: str, loc: list[Any]) -> LatLon | None:
        try:
            lat_s, lon_s = token.split(",")
            lat, lon = float(lat_s), float(lon_s)
        except ValueError:
            self.fail(loc, f"{token!r} is not a point 'latitude,longitude'")
            return None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            self.fail(loc, f"{token!r} is out of range (CAP writes latitude first)")
            return None
        return lat, lon

    def polygon(self, value: str, loc: list[Any]) -> list[LatLon] | None:
        points = [self.point(t, loc) for t in value.split()]
        if any(p is None for p in points):
            return None
        ring = [p for p in points if p is not None]
        if len(ring) < 4:
            self.fail(loc, "a polygon needs at least 4 points, the first repeated last")
            return None
        if ring[0] != ring[-1]:
            self.fail(loc, "a polygon must be closed: its last point must equal its first")
            return None
        return ring

    def circle(self, value: str, loc: list[Any]) -> tuple[float, float, float] | None:
        parts = value.split()
        centre = self.point(parts[0], loc) if len(parts) == 2 else None
        if centre is None:
            if len(parts) != 2:
                self.fail(loc, "a circle is 'latitude,longitude radius-in-km'")
            return None
        try:
            radius = float(parts[1])
        except ValueError:
            radius = -1.0
        if radius < 0:
            self.fail(loc, f"{parts[1]!r} is not a radius in km")
            return None
        return centre[0], centre[1], radius

    def area(self, element: Element, loc: list[Any]) -> CapArea:
        area = CapArea(self.text(element, "areaDesc", loc) or "")
        for i, e in enumerate(element.findall(_Q + "polygon")):
            ring = self.polygon((e.text or "").strip(), [*loc, "polygon", i])
            if ring:
                area.polygons.append(ring)
        for i, e in enumerate(element.findall(_Q + "circle")):
            circle = self.circle((e.text or "").strip(), [*loc, "circle", i])
            if circle:
                area.circles.append(circle)
        area.geocodes = self.pairs(element, "geocode")
        return area

    def info(self, element: Element, loc: list[Any]) -> CapInfo:
        categories = [(e.text or "").strip() for e in element.findall(_Q + "category")]
        if not categories:
            self.fail([*loc, "category"], "<category> is required")
        for category in categories:
            if category not in CATEGORY:
                self.fail([*loc, "category"], f"{category!r} is not one of {', '.join(CATEGORY)}")
        info = CapInfo(
            language=self.text(element, "language", loc, required=False) or "en-US",
            categories=categories,
            event=self.text(element, "event", loc) or "",
            urgency=self.choice(element, "urgency", loc, URGENCY),
            severity=self.choice(element, "severity", loc, SEVERITY),
            certainty=self.choice(element, "certainty", loc, CERTAINTY),
            headline=self.text(element, "headline", loc, required=False),
            description=self.text(element, "description", loc, required=False),
            instruction=self.text(element, "instruction", loc, required=False),
            sender_name=self.text(element, "senderName", loc, required=False),
            web=self.text(element, "web", loc, required=False),
            effective=self.time(element, "effective", loc),
            onset=self.time(element, "onset", loc),
            expires=self.time(element, "expires", loc),
            event_codes=self.pairs(element, "eventCode"),
            parameters=self.pairs(element, "parameter"),
        )
        info.areas = [
            self.area(e, [*loc, "area", i]) for i, e in enumerate(element.findall(_Q + "area"))
        ]
        return info


def _name_problem(value: str) -> str | None:
    """What is wrong with a sender or identifier: CAP forbids spaces, commas, '<' and '&' in
    them (a reference joins them with commas, references with spaces); and the picture keeps
    them, so they are bounded."""
    if re.search(r"[\s,<&]", value):
        return "must not contain spaces, commas, '<' or '&'"
    if len(value) > MAX_NAME:
        return f"at most {MAX_NAME} characters"
    return None


def reference_key(reference: str) -> tuple[str, str]:
    """The (sender, identifier) of a reference `sender,identifier,sent` (checked by parse)."""
    sender, identifier, _ = reference.split(",")
    return sender, identifier


def _check_references(r: _Reader, references: list[str]) -> None:
    if len(references) > MAX_REFERENCES:
        r.fail(["references"], f"at most {MAX_REFERENCES} references")
        return
    for i, reference in enumerate(references):
        parts = reference.split(",")
        problem = (
            None
            if len(parts) == 3 and all(parts)
            else "a reference is 'sender,identifier,sent', references are separated by spaces"
        )
        problem = problem or _name_problem(parts[0]) or _name_problem(parts[1])
        if problem:
            r.fail(["references", i], f"{reference[:80]!r}: {problem}")


def parse(data: bytes) -> CapMessage:
    """A received CAP 1.2 alert, checked field by field: 400 for XML that is malformed or
    refused (DTD, entities), 422 naming every CAP field that is wrong."""
    root = load(data)
    r = _Reader()
    identifier_ = r.text(root, "identifier", [])
    sender_ = r.text(root, "sender", [])
    for name, value in (("identifier", identifier_), ("sender", sender_)):
        problem = _name_problem(value) if value else None
        if problem:
            r.fail([name], problem)
    message = CapMessage(
        identifier=identifier_ or "",
        sender=sender_ or "",
        sent=r.time(root, "sent", [], required=True) or datetime.min,
        status=r.choice(root, "status", [], STATUS),
        msg_type=r.choice(root, "msgType", [], MSG_TYPE),
        scope=r.choice(root, "scope", [], SCOPE),
        restriction=r.text(root, "restriction", [], required=False),
        addresses=r.text(root, "addresses", [], required=False),
        note=r.text(root, "note", [], required=False),
        references=(r.text(root, "references", [], required=False) or "").split(),
    )
    _check_references(r, message.references)
    message.infos = [r.info(e, ["info", i]) for i, e in enumerate(root.findall(_Q + "info"))]
    if r.errors:
        raise validation_problem(r.errors)
    return message


def geojson_of(area: CapArea) -> dict[str, Any] | None:
    """An area's polygons as GeoJSON (lon, lat); without polygons, its first circle's centre."""
    rings = [[[lon, lat] for lat, lon in polygon] for polygon in area.polygons]
    if len(rings) == 1:
        return {"type": "Polygon", "coordinates": rings}
    if rings:
        return {"type": "MultiPolygon", "coordinates": [[ring] for ring in rings]}
    if area.circles:
        lat, lon, _ = area.circles[0]
        return {"type": "Point", "coordinates": [lon, lat]}
    return None
