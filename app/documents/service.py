"""Documents: upload (a new document, or a new version of one), download, preview, deletion.
The metadata goes through the one write path (app.domain.objects) with its change record; the
bytes through the configured store (app.documents.store), in the same transaction when the store
is PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import audit, cpu
from app.db import driver
from app.documents import preview
from app.documents.intake import Intake
from app.documents.models import DocumentContent
from app.documents.settings import DocumentSettings
from app.documents.store import BlobStore
from app.domain import objects
from app.domain.actor import Actor
from app.domain.base import uuid7
from app.domain.document import SPEC, Document, DocumentCreate, DocumentVersion
from app.errors import no_preview, not_found


@dataclass(frozen=True)
class Upload:
    """What a client says of a new document besides its bytes."""

    subject_entity: str
    subject_id: uuid.UUID
    filename: str
    title: str | None = None
    description: str | None = None
    shareable: bool = False
    # Who sent it and under what name there (a loader's, like the demo's): a repeated load
    # finds it by these before sending the bytes again.
    source: str | None = None
    external_id: str | None = None


def clean_filename(name: str) -> str:
    """The last component of a client's file name: no directory part reaches anyone's disk."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return base or "document"


async def _take(
    session: AsyncSession, store: BlobStore, settings: DocumentSettings, body: AsyncIterable[bytes]
) -> tuple[str, Intake]:
    intake = Intake(settings.max_bytes, settings.chunk_bytes)
    key = uuid7().hex
    await store.put(session, key, intake.chunks(body))
    return key, intake


def _version_entry(version: int, intake: Intake, filename: str, actor: Actor) -> dict[str, Any]:
    return {
        "version": version,
        "size": intake.size,
        "sha256": intake.sha256,
        "content_type": intake.content_type,
        "filename": filename,
        "at": datetime.now(UTC).isoformat(),
        "by": actor.name,
    }


async def _record_content(session: AsyncSession, doc: uuid.UUID, version: int, key: str) -> None:
    await (await driver(session)).execute(
        "INSERT INTO document_contents (document_id, version, blob_key) VALUES ($1, $2, $3)",
        doc,
        version,
        key,
    )


async def _abandon(session: AsyncSession, store: BlobStore, key: str | None) -> None:
    """After a failed write: what a store outside the transaction already kept goes too."""
    if key is not None and not store.transactional:
        await store.delete(session, key)


async def upload(
    session: AsyncSession,
    store: BlobStore,
    settings: DocumentSettings,
    meta: Upload,
    body: AsyncIterable[bytes],
    actor: Actor,
) -> objects.Written:
    """A new document on its subject, version 1. The subject is checked before a byte is read."""
    subject = {"subject_entity": meta.subject_entity, "subject_id": meta.subject_id}
    await objects.check_early(session, SPEC, subject)
    key = None
    try:
        key, intake = await _take(session, store, settings, body)
        filename = clean_filename(meta.filename)
        props = DocumentCreate(
            title=meta.title or filename,
            description=meta.description,
            shareable=meta.shareable,
            source=meta.source,
            external_id=meta.external_id,
            filename=filename,
            content_type=intake.content_type,
            size=intake.size,
            sha256=intake.sha256,
            current_version=1,
            versions=[_version_entry(1, intake, filename, actor)],
            **subject,
        )
        await driver(session)  # the create joins the transaction the bytes are in
        written = await objects.create(session, SPEC, props, None, actor)
        await _record_content(session, written.id, 1, key)
        return written
    except BaseException:
        await _abandon(session, store, key)
        raise


async def add_version(
    session: AsyncSession,
    store: BlobStore,
    settings: DocumentSettings,
    document_id: uuid.UUID,
    filename: str | None,
    body: AsyncIterable[bytes],
    expected_version: int | None,
    actor: Actor,
    scope: ColumnElement[bool] | None,
) -> objects.Written:
    """A new version of a document's file; the earlier ones are kept."""
    row = await objects.get(session, SPEC, document_id, scope)
    if expected_version is not None and row.version != expected_version:
        raise objects.stale(SPEC, row, expected_version)
    key = None
    try:
        key, intake = await _take(session, store, settings, body)
        # Locked from here to the commit: two versions uploaded at once get numbers in turn.
        doc = await objects.get(session, SPEC, document_id, scope, for_update=True)
        assert isinstance(doc, Document)
        number = doc.current_version + 1
        name = clean_filename(filename) if filename else doc.filename
        patch = DocumentVersion(
            filename=name,
            content_type=intake.content_type,
            size=intake.size,
            sha256=intake.sha256,
            current_version=number,
            versions=[*doc.versions, _version_entry(number, intake, name, actor)],
        )
        expected = expected_version if expected_version is not None else doc.version
        written = await objects.update(
            session, SPEC, document_id, patch, None, expected, actor, scope
        )
        await _record_content(session, document_id, number, key)
        return written
    except BaseException:
        await _abandon(session, store, key)
        raise


@dataclass(frozen=True)
class Content:
    """One version of a document's file, ready to stream."""

    document: Document
    version: dict[str, Any]
    key: str


async def content(
    session: AsyncSession,
    document_id: uuid.UUID,
    version: int | None,
    scope: ColumnElement[bool] | None,
    actor: Actor,
    *,
    kind: audit.AuditKind = audit.AuditKind.document_download,
) -> Content:
    """A version (the current one by default) of a document the caller sees, recorded in the
    audit trail as served to `actor`; 404 alike for a hidden or unknown document or version."""
    doc = await objects.get(session, SPEC, document_id, scope)
    assert isinstance(doc, Document)
    number = version if version is not None else doc.current_version
    entry = next((v for v in doc.versions if v.get("version") == number), None)
    key = await session.scalar(
        select(DocumentContent.blob_key).where(
            DocumentContent.document_id == document_id, DocumentContent.version == number
        )
    )
    if entry is None or key is None:
        raise not_found("document version", f"{document_id} v{number}")
    await audit.record(
        session,
        kind,
        subject=actor.name,
        detail={
            "document": str(doc.id),
            "ref": doc.ref,
            "version": number,
            "sha256": entry["sha256"],
            "size": entry["size"],
        },
    )
    return Content(doc, entry, key)


async def read_whole(store: BlobStore, key: str, limit: int) -> bytes:
    data = bytearray()
    async for chunk in store.get(key):
        data += chunk
        if len(data) > limit:
            raise no_preview("the file is too large for a preview; download it instead")
    return bytes(data)


async def make_preview(
    store: BlobStore, settings: DocumentSettings, found: Content
) -> tuple[bytes, str]:
    """A small image of an image or of a PDF's first page: (bytes, media type)."""
    content_type = found.version["content_type"]
    if not preview.possible(content_type):
        raise no_preview(f"no preview is made of {content_type} files; download it instead")
    if found.version["size"] > settings.preview_max_bytes:
        raise no_preview(
            f"the file is over {settings.preview_max_bytes} bytes "
            "(SITCEN_DOCUMENT_PREVIEW_MAX_BYTES); download it instead"
        )
    data = await read_whole(store, found.key, settings.preview_max_bytes)
    return await cpu.run(preview.render, data, content_type, settings.preview_pixels)


async def remove(
    session: AsyncSession,
    store: BlobStore,
    document_id: uuid.UUID,
    expected: int | None,
    actor: Actor,
) -> None:
    """Delete a wrongly uploaded document and the bytes of all its versions."""
    keys = list(
        await session.scalars(
            select(DocumentContent.blob_key).where(DocumentContent.document_id == document_id)
        )
    )
    await objects.remove(session, SPEC, document_id, expected, actor)
    await session.flush()
    for key in keys:
        await store.delete(session, key)
