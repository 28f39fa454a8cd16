"""sitreps: situation reports numbered per activation (or in the watch's daily series), their
pictures kept apart and written once

Issue 17, part 1. A SITREP is an operational object (one write path, its versions in the change
feed); the picture it was generated from is stored beside it, once, and read per reader.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from object_tables import create_object_table, drop_object_table
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_object_table(
        "sitreps",
        "sitrep",
        sa.Column("activation_id", sa.UUID()),
        sa.Column("series", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("picture_at", TZ, nullable=False),
        sa.Column("since_at", TZ, nullable=False),
        sa.Column("previous_id", sa.UUID()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("approved_by", sa.String(128)),
        sa.Column("approved_at", TZ),
        sa.Column("summary", sa.Text()),
        sa.Column("next_steps", sa.Text()),
        sa.Column("language", sa.String(2), nullable=False),
        linked_by=(("activation", "activation_id"),),
    )
    op.create_index("ux_sitreps_number", "sitreps", ["series", "number"], unique=True)
    op.create_table(
        "sitrep_pictures",
        sa.Column(
            "sitrep_id",
            sa.UUID(),
            sa.ForeignKey("sitreps.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("content", postgresql.JSONB(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sitrep_pictures")
    drop_object_table("sitreps", "sitrep")
