"""feed_sources: external CAP feeds (Atom/RSS) polled and ingested, with their health

Issue 20, part 5. One row per source an administrator configured; the poller keeps its
conditional-request validators, the entries it handled and its health on the same row.

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0025"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feed_sources",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False, unique=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("poll_seconds", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("zone_kind", sa.String(32), nullable=True),
        sa.Column("municipalities", postgresql.ARRAY(sa.String(8)), nullable=False),
        sa.Column("outside", sa.String(8), nullable=False),
        sa.Column("trust", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("seen", postgresql.JSONB(), nullable=False),
        sa.Column("next_poll_at", TZ, nullable=True),
        sa.Column("last_polled_at", TZ, nullable=True),
        sa.Column("last_success_at", TZ, nullable=True),
        sa.Column("last_error_at", TZ, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("messages_ingested", sa.BigInteger(), nullable=False),
        sa.Column("messages_ignored", sa.BigInteger(), nullable=False),
        sa.Column("messages_rejected", sa.BigInteger(), nullable=False),
        sa.Column("last_rejection", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("feed_sources")
