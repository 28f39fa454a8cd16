"""Reports from the field (issue 21): a note, the reporter's position and, if taken, a photo,
sent from a phone by whoever is at the scene, a partner's SPOC or liaison officer included.
The report becomes an incident in status `reported`, the watch's draft to confirm, with the
photo attached as a document; both through the one write path, in one transaction, by the
reporter. A partner's report is seen by its organisation and SITCEN only (internal, shared
with that organisation); a member of SITCEN's is internal."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.documents import service
from app.documents.intake import sniff
from app.documents.settings import DocumentSettings
from app.documents.store import BlobStore
from app.domain import objects
from app.domain.actor import Actor
from app.domain.enums import IncidentCategory, IncidentStatus, Severity
from app.domain.incident import SPEC as INCIDENT
from app.domain.incident import IncidentCreate
from app.errors import payload_too_large, unsupported_media_type
from app.geo.validation import parse_geometry

# What a phone's camera gives; not the library's other types: a report's photo is a photo.
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
TITLE_MAX = 80
SNIFF_BYTES = 2048


@dataclass(frozen=True)
class FieldReport:
    note: str
    lon: float
    lat: float
    category: IncidentCategory = IncidentCategory.other
    accuracy_m: float | None = None
    filename: str | None = None


async def read_photo(body: AsyncIterable[bytes], max_bytes: int) -> bytes | None:
    """The photo sent as the body, held to `max_bytes` and to a photo's types; None if none."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in body:
        size += len(chunk)
        if size > max_bytes:
            raise payload_too_large(
                f"the photo exceeds the limit of {max_bytes} bytes "
                "(SITCEN_DOCUMENT_PHOTO_MAX_BYTES); nothing was recorded",
                max_bytes=max_bytes,
            )
        chunks.append(chunk)
    if not size:
        return None
    photo = b"".join(chunks)
    sniffed = sniff(photo[:SNIFF_BYTES])
    if sniffed not in PHOTO_TYPES:
        raise unsupported_media_type(
            f"the photo is {sniffed}, not a photo ({', '.join(PHOTO_TYPES)}); nothing was recorded",
            sniffed=sniffed,
            allowed=list(PHOTO_TYPES),
        )
    return photo


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _title(note: str) -> str:
    line = " ".join(note.split())
    return line if len(line) <= TITLE_MAX else line[: TITLE_MAX - 1] + "…"


async def report(
    session: AsyncSession,
    store: BlobStore,
    settings: DocumentSettings,
    field: FieldReport,
    photo: bytes | None,
    actor: Actor,
) -> tuple[objects.Written, objects.Written | None]:
    """The incident to confirm, and its photo's document (the caller commits)."""
    geometry = await parse_geometry(
        {"type": "Point", "coordinates": [field.lon, field.lat]}, loc=("query", "lon")
    )
    where = f"{field.lat:.5f}, {field.lon:.5f}" + (
        f" (± {round(field.accuracy_m)} m)" if field.accuracy_m is not None else ""
    )
    partner = actor.organisation is not None and actor.role == "partner"
    props = IncidentCreate(
        title=_title(field.note),
        description=f"{field.note}\n\n{where}",
        category=field.category,
        severity=Severity.minor,
        status=IncidentStatus.reported,
        shared_with=[actor.organisation] if partner and actor.organisation else [],
    )
    incident = await objects.create(session, INCIDENT, props, geometry, actor)
    if photo is None:
        return incident, None
    meta = service.Upload(
        subject_entity=INCIDENT.entity.value,
        subject_id=incident.id,
        filename=field.filename or "photo",
        # Seen by whoever sees the incident: the reporter's organisation, and SITCEN.
        shareable=partner,
    )
    document = await service.upload(session, store, settings, meta, _once(photo), actor)
    return incident, document
