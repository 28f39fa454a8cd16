"""Documents attached to an operational object (the crisis centre's "Casus" library): the
metadata of a file and of each of its versions. The bytes are kept by app.documents.

A document is seen by whoever sees its subject, if it is marked shareable: its visibility and
shared_with are not set by anyone but derived from its subject's (internal when not shareable),
and derived again whenever the subject's change (app.domain.objects._follow). Every path that
applies a caller's Scope (REST, OGC, the feed, /ws, history, time travel) so obeys the rule."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import BigInteger, Boolean, Integer, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.domain.base import OperationalObject
from app.domain.enums import Entity, Visibility
from app.domain.schema import ExternalId, Props, Source, Text, Title, partial
from app.domain.spec import EntitySpec

Filename = Annotated[str, Field(min_length=1, max_length=255)]
EntityName = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z_]+$")]


class Document(OperationalObject, Base):
    __tablename__ = "documents"
    linked_by = (("subject", "subject_id"), ("activation", "activation_id"))

    subject_entity: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    # The GCC activation the subject is, or belongs to: the activation board lists these.
    activation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    shareable: Mapped[bool] = mapped_column(Boolean)
    current_version: Mapped[int] = mapped_column(Integer)
    versions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)


class DocumentEdit(Props):
    """What a person changes on a document; its file is changed by uploading a new version."""

    title: Title
    description: Text | None = None
    shareable: bool = False


class DocumentCreate(DocumentEdit):
    """A document as the upload service writes it (app.documents.service), never a client."""

    subject_entity: EntityName
    subject_id: uuid.UUID
    filename: Filename
    content_type: Annotated[str, Field(max_length=128)]
    size: Annotated[int, Field(ge=0)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    current_version: Annotated[int, Field(ge=1)] = 1
    versions: list[dict[str, Any]]
    # A loader's own name for it (the demo's), as every kind has: found again by these.
    source: Source | None = None
    external_id: ExternalId | None = None


class DocumentVersion(Props):
    """A new version's file, as the upload service sets it on the document."""

    filename: Filename
    content_type: Annotated[str, Field(max_length=128)]
    size: Annotated[int, Field(ge=0)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    current_version: Annotated[int, Field(ge=1)]
    versions: list[dict[str, Any]]


def _check(values: dict[str, Any]) -> list[tuple[str, str]]:
    if values.get("subject_entity") == Entity.document:
        return [("subject_entity", "a document is attached to an object, not to a document")]
    return []


def _from_subject(values: dict[str, Any], targets: dict[str, Any]) -> None:
    subject = targets.get("subject_id")
    if subject is None:
        return
    values["exercise"] = subject.exercise
    if values.get("shareable"):
        values["visibility"] = subject.visibility
        values["shared_with"] = list(subject.shared_with or [])
    else:
        values["visibility"] = Visibility.internal
        values["shared_with"] = []
    if values.get("subject_entity") == Entity.activation:
        values["activation_id"] = subject.id
    else:
        values["activation_id"] = getattr(subject, "activation_id", None)


SPEC = EntitySpec(
    entity=Entity.document,
    model=Document,
    path="documents",
    ref_prefix="DOC",
    create_schema=DocumentCreate,
    update_schema=partial(DocumentEdit),
    fields=(
        "subject_entity",
        "subject_id",
        "activation_id",
        "filename",
        "content_type",
        "size",
        "sha256",
        "shareable",
        "current_version",
        "versions",
    ),
    geometry_types=None,
    geometry_required=False,
    status_field=None,
    text_fields=("filename",),
    check=_check,
    links={"subject_id": "subject_entity"},
    derive_from_links=_from_subject,
    own_routes=frozenset({"create", "delete"}),
)
