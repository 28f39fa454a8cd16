"""decisions and logbooks that cannot be rewritten: the decisions of an activation (a hash
chain per activation), and logbook entries per activation and discipline, with corrections and
promotion to the multidisciplinary logbook

Issue 16, item 6. Decisions and logbook entries are append-only (app.domain.spec): the
migration adds no trigger for that, since the write path refuses every change; the chain's
hashes show a change made behind its back.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from object_tables import create_object_table, drop_object_table
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _corrected_by() -> sa.Column[object]:
    return sa.Column(
        "corrected_by",
        postgresql.ARRAY(sa.UUID()),
        nullable=False,
        server_default=sa.text("'{}'::uuid[]"),
    )


def upgrade() -> None:
    create_object_table(
        "decisions",
        "decision",
        sa.Column("activation_id", sa.UUID(), nullable=False),
        sa.Column("decided_at", TZ, nullable=False),
        sa.Column("decided_by_position_id", sa.UUID()),
        sa.Column("decided_by_name", sa.String(200), nullable=False),
        sa.Column("basis", sa.Text()),
        sa.Column("discipline", sa.String(4)),
        sa.Column("corrects_id", sa.UUID()),
        _corrected_by(),
        sa.Column("chain_seq", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(64)),
        sa.Column("hash", sa.String(64), nullable=False),
        linked_by=(("activation", "activation_id"),),
    )
    op.create_index(
        "ux_decisions_chain", "decisions", ["activation_id", "chain_seq"], unique=True
    )

    op.add_column("logbook_entries", sa.Column("activation_id", sa.UUID()))
    op.add_column("logbook_entries", sa.Column("discipline", sa.String(4)))
    op.add_column("logbook_entries", sa.Column("corrects_id", sa.UUID()))
    op.add_column("logbook_entries", _corrected_by())
    op.add_column("logbook_entries", sa.Column("promoted_from_id", sa.UUID()))
    # Entries written on an activation before this revision are in its multidisciplinary one.
    op.execute(
        "UPDATE logbook_entries SET activation_id = subject_id "
        "WHERE subject_entity = 'activation'"
    )
    op.create_index("ix_logbook_entries_activation", "logbook_entries", ["activation_id"])
    op.create_index(
        "ux_logbook_entries_promoted_from", "logbook_entries", ["promoted_from_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_logbook_entries_promoted_from", "logbook_entries")
    op.drop_index("ix_logbook_entries_activation", "logbook_entries")
    for column in ("promoted_from_id", "corrected_by", "corrects_id", "discipline"):
        op.drop_column("logbook_entries", column)
    op.drop_column("logbook_entries", "activation_id")
    drop_object_table("decisions", "decision")
