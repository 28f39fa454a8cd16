"""The tables of document bytes: which blob holds each version of a document, and the
PostgreSQL store's blobs and their chunks (migration 0016)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class DocumentContent(Base):
    """Where the bytes of one version of a document are: a key in the configured store."""

    __tablename__ = "document_contents"

    document_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    blob_key: Mapped[str] = mapped_column(String(64), unique=True)


class DocumentBlob(Base):
    __tablename__ = "document_blobs"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    chunks: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DocumentChunk(Base):
    __tablename__ = "document_chunks"

    # Deferred: the chunks are written as they arrive, the blob (its size) once all are in.
    blob_key: Mapped[str] = mapped_column(
        String(64),
        ForeignKey("document_blobs.key", ondelete="CASCADE", deferrable=True, initially="DEFERRED"),
        primary_key=True,
    )
    n: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
