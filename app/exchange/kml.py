"""KML 2.2 (OGC 07-147r2) for Google Earth, QGIS and GDAL: one Placemark per object, its
properties as ExtendedData, its time window as a TimeSpan (Google Earth's time slider).

Written with lxml: the document's envelope through its incremental writer (`etree.xmlfile`),
held open while the export streams; each chunk's Placemarks serialised whole, off the event
loop (app.cpu), and written between the envelope's tags. Nothing builds the whole document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from lxml import etree

from app.domain.spec import EntitySpec
from app.text import xml_safe

NS = "http://www.opengis.net/kml/2.2"
MEDIA_TYPE = "application/vnd.google-earth.kml+xml"


def _k(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, _k(tag))
    if text is not None:
        element.text = xml_safe(text)
    return element


def _coordinates(points: list[Any]) -> str:
    return " ".join(",".join(str(c) for c in p[:2]) for p in points)


def _ring(parent: etree._Element, boundary: str, ring: list[Any]) -> None:
    linear = _sub(_sub(parent, boundary), "LinearRing")
    _sub(linear, "coordinates", _coordinates(ring))


def _geometry(parent: etree._Element, geometry: dict[str, Any]) -> None:
    kind, coordinates = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        _sub(_sub(parent, "Point"), "coordinates", _coordinates([coordinates]))
    elif kind == "LineString":
        line = _sub(parent, "LineString")
        _sub(line, "tessellate", "1")  # drawn along the ground, not through it
        _sub(line, "coordinates", _coordinates(coordinates))
    elif kind == "Polygon":
        polygon = _sub(parent, "Polygon")
        _ring(polygon, "outerBoundaryIs", coordinates[0])
        for hole in coordinates[1:]:
            _ring(polygon, "innerBoundaryIs", hole)
    else:  # MultiPoint, MultiLineString, MultiPolygon: their parts in one MultiGeometry
        multi = _sub(parent, "MultiGeometry")
        part = kind.removeprefix("Multi")
        for each in coordinates:
            _geometry(multi, {"type": part, "coordinates": each})


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict) and "code" in value:  # an area: its code and names
        names = " / ".join(
            dict.fromkeys(n for n in (value.get("name_fr"), value.get("name_nl")) if n)
        )
        return f"{value['code']} {names}".strip()
    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    return str(value)


def placemark(spec: EntitySpec, feature: dict[str, Any]) -> etree._Element:
    props = feature["properties"]
    element = etree.Element(
        _k("Placemark"), nsmap={None: NS}, id=f"{spec.entity.value}-{feature['id']}"
    )
    _sub(element, "name", f"{props.get('ref') or ''} {props.get('title') or ''}".strip())
    if props.get("description"):
        _sub(element, "description", props["description"])
    if spec.window:
        begin = props.get(spec.window[0])
        end = props.get(spec.window[1]) if spec.window[1] else None
        if begin or end:
            span = _sub(element, "TimeSpan")
            if begin:
                _sub(span, "begin", begin)
            if end:
                _sub(span, "end", end)
    data = _sub(element, "ExtendedData")
    for name, value in {"id": feature["id"], **props}.items():
        if name in ("municipalities", "police_zones"):
            continue
        text = _text(value)
        if text is not None:
            item = _sub(data, "Data")
            item.set("name", name)
            _sub(item, "value", text)
    geometry = feature.get("geometry")
    if isinstance(geometry, str):  # as PostGIS wrote it (an export)
        geometry = orjson.loads(geometry)
    if geometry:
        _geometry(element, geometry)
    return element


def placemarks(spec: EntitySpec, features: list[dict[str, Any]]) -> bytes:
    """A chunk of Features as Placemarks. CPU-bound: run it through app.cpu."""
    return b"".join(etree.tostring(placemark(spec, f), encoding="utf-8") for f in features)


class _Sink:
    """What the incremental writer has written since it was last taken."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.parts.append(bytes(data))

    def take(self) -> bytes:
        taken, self.parts = b"".join(self.parts), []
        return taken


async def document(name: str, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """A KML document named `name` holding the Placemarks `chunks` gives, as it gives them."""
    sink = _Sink()
    with etree.xmlfile(sink, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(_k("kml"), nsmap={None: NS}), xf.element(_k("Document")):
            title = etree.Element(_k("name"), nsmap={None: NS})
            title.text = xml_safe(name)
            xf.write(title)
            xf.flush()
            yield sink.take()
            async for chunk in chunks:
                sink.write(chunk)  # whole Placemarks, between the envelope's open tags
                yield sink.take()
    yield sink.take()
