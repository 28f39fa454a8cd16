"""handovers: the watch's shift handovers, append-only once handed over; the escalations of the
ones not acknowledged in time

Issue 17, item 2. A handover is a draft while the outgoing team writes its notes; handed over,
what it lists and says is frozen; acknowledged once by the incoming team. The trigger below
holds to it whatever writes to the table: after the hand-over only the acknowledgement may be
added, once, and no handover is ever deleted.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)

# One statement per execute: asyncpg prepares each.
GUARD = """
CREATE FUNCTION handovers_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    acknowledgement text[] := ARRAY['status', 'version', 'updated_at', 'updated_by',
        'acknowledged_at', 'acknowledged_by', 'acknowledgement_note', 'acknowledged_entry_id'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'handover % is kept: handovers are never deleted', OLD.ref
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status = 'draft' THEN
        RETURN NEW;
    END IF;
    IF OLD.status = 'handed_over' AND NEW.status = 'acknowledged'
       AND (to_jsonb(NEW) - acknowledgement) = (to_jsonb(OLD) - acknowledgement) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'handover % was handed over: it is never changed', OLD.ref
        USING ERRCODE = 'integrity_constraint_violation';
END $$
"""
TRIGGER = """
CREATE TRIGGER handovers_append_only BEFORE UPDATE OR DELETE ON handovers
    FOR EACH ROW EXECUTE FUNCTION handovers_append_only()
"""


def upgrade() -> None:
    op.create_table(
        "handovers",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("ref", sa.String(32), nullable=False, unique=True),
        sa.Column("shift_end", TZ, nullable=False, unique=True),
        sa.Column("shift_start", TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(32)),
        sa.Column("incoming_team", sa.String(32)),
        sa.Column("notes", sa.Text()),
        sa.Column("content", postgresql.JSONB()),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("handed_over_at", TZ),
        sa.Column("handed_over_by", sa.String(128)),
        sa.Column("acknowledged_at", TZ),
        sa.Column("acknowledged_by", sa.String(128)),
        sa.Column("acknowledgement_note", sa.Text()),
        sa.Column("handed_over_entry_id", sa.UUID()),
        sa.Column("acknowledged_entry_id", sa.UUID()),
    )
    op.create_table(
        "handover_escalations",
        sa.Column("shift_end", TZ, primary_key=True),
        sa.Column("escalated_at", TZ, nullable=False),
        sa.Column(
            "alert_id", sa.UUID(), sa.ForeignKey("alerts.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("duty_officers", postgresql.JSONB(), nullable=False),
    )
    op.execute(GUARD)
    op.execute(TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER handovers_append_only ON handovers")
    op.execute("DROP FUNCTION handovers_append_only()")
    op.drop_table("handover_escalations")
    op.drop_table("handovers")
