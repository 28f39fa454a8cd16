"""documents: files attached to operational objects, their versions, and their bytes

Issue 16, item 7 (the "Casus" library). A document is an operational object (one write path,
one change feed); its bytes are kept apart, in PostgreSQL by default: a blob per version, in
chunks of about 1 MiB, so that a file streams in and out a chunk at a time and one backup holds
everything.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from object_tables import create_object_table, drop_object_table
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_object_table(
        "documents",
        "document",
        sa.Column("subject_entity", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.UUID(), nullable=False),
        sa.Column("activation_id", sa.UUID()),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("shareable", sa.Boolean(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("versions", postgresql.JSONB(), nullable=False),
        linked_by=(("subject", "subject_id"), ("activation", "activation_id")),
    )
    # Where each version's bytes are: a key in the configured store (app.documents.store).
    op.create_table(
        "document_contents",
        sa.Column(
            "document_id",
            sa.UUID(),
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("blob_key", sa.String(64), nullable=False, unique=True),
    )
    # The PostgreSQL store.
    op.create_table(
        "document_blobs",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "document_chunks",
        sa.Column(
            "blob_key",
            sa.String(64),
            sa.ForeignKey("document_blobs.key", ondelete="CASCADE", deferrable=True,
                          initially="DEFERRED"),
            primary_key=True,
        ),
        sa.Column("n", sa.Integer(), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    # Files arrive compressed already (PDF, images, office formats are zip): TOAST would try
    # to compress each chunk again for nothing.
    op.execute("ALTER TABLE document_chunks ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("document_chunks")
    op.drop_table("document_blobs")
    op.drop_table("document_contents")
    drop_object_table("documents", "document")
