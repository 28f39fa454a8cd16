"""positions: the seats of a GCC activation's crisis cell, who holds them and their presence

Issue 16: the crisis cell runs in sitcen. Its objects are operational objects like the others
(one write path, one change feed); this is the first, and brings the shared declaration of an
object table (migrations/object_tables.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from object_tables import create_object_table, drop_object_table

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_object_table(
        "positions",
        "position",
        sa.Column("activation_id", sa.UUID(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("discipline", sa.String(4)),
        sa.Column("holder_user", sa.String(128)),
        sa.Column("holder_organisation", sa.String(64)),
        sa.Column("presence", sa.String(16), nullable=False),
        sa.Column("paged_at", TZ),
        sa.Column("acknowledged_at", TZ),
        sa.Column("arrived_at", TZ),
        linked_by=(("activation", "activation_id"),),
    )


def downgrade() -> None:
    drop_object_table("positions", "position")
