"""the national threat level (OCAM/CUTA): each setting of the general level or of a sector's or
target's own level, an operational object written once

Issue 18, item 4. Settings go through the one write path (change feed, /ws, time travel): the
level that stood at an instant is read back from the feed.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from object_tables import create_object_table, drop_object_table

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_object_table(
        "threat_levels",
        "threat_level",
        sa.Column("level", sa.SmallInteger()),
        sa.Column("sector", sa.String(32)),
        sa.Column("target", sa.String(200)),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source_reference", sa.String(200), nullable=False),
        sa.CheckConstraint("level BETWEEN 1 AND 4", name="ck_threat_levels_level"),
    )


def downgrade() -> None:
    drop_object_table("threat_levels", "threat_level")
