"""deconfliction in space and time, the exercise calendar

Issue 18, §3 and the calendar of §2. Planned events, demonstrations and zones get a GiST index on
their window as a range (tstzrange(start, end)), beside the one on their geometry, for the
conflicts join (app.domain.conflict). Conflicts' records are operational objects (one write
path, one change feed), one per unordered pair of objects; the conflict watcher
(app.planning.watch) follows the feed from its own cursor, starting at the head. Planned events
take an exercise's objectives and participating organisations.

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from object_tables import create_object_table, drop_object_table
from sqlalchemy.dialects import postgresql

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
WINDOWS = (
    ("planned_events", "starts_at", "ends_at"),
    ("demonstrations", "starts_at", "ends_at"),
    ("zones", "valid_from", "valid_to"),
)


def upgrade() -> None:
    for table, start, end in WINDOWS:
        op.create_index(
            f"ix_{table}_window",
            table,
            [sa.text(f"tstzrange({start}, {end})")],
            postgresql_using="gist",
        )
    op.add_column("planned_events", sa.Column("objectives", sa.Text()))
    op.add_column(
        "planned_events",
        sa.Column(
            "participants",
            postgresql.ARRAY(sa.String(64)),
            nullable=False,
            server_default="{}",
        ),
    )
    op.alter_column("planned_events", "participants", server_default=None)
    create_object_table(
        "conflicts",
        "conflict",
        sa.Column("a_entity", sa.String(32), nullable=False),
        sa.Column("a_id", sa.UUID(), nullable=False),
        sa.Column("a_version", sa.Integer(), nullable=False),
        sa.Column("b_entity", sa.String(32), nullable=False),
        sa.Column("b_id", sa.UUID(), nullable=False),
        sa.Column("b_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("overlap_from", TZ),
        sa.Column("overlap_to", TZ),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("acknowledged_at", TZ),
        sa.Column("acknowledged_by", sa.String(128)),
    )
    op.create_index("ux_conflicts_pair", "conflicts", ["a_id", "b_id"], unique=True)
    op.create_index("ix_conflicts_b_id", "conflicts", ["b_id"])
    op.execute(
        "INSERT INTO feed_cursors (name, seq) SELECT 'conflicts', seq FROM feed_counter"
        " ON CONFLICT (name) DO NOTHING"
    )


def downgrade() -> None:
    op.execute("DELETE FROM feed_cursors WHERE name = 'conflicts'")
    drop_object_table("conflicts", "conflict")
    op.drop_column("planned_events", "participants")
    op.drop_column("planned_events", "objectives")
    for table, _, _ in WINDOWS:
        op.drop_index(f"ix_{table}_window", table_name=table)
