"""tasks: the crisis cell's actions, their owner, due time, priority and status; and the record
of the overdue ones escalated

Issue 16, item 4. A task is an operational object (one write path, one change feed); an overdue
one is escalated once per due time through alerting (app.cell.overdue), which
`task_escalations` remembers.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from object_tables import create_object_table, drop_object_table
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_object_table(
        "tasks",
        "task",
        sa.Column("activation_id", sa.UUID()),
        sa.Column("owner_organisation", sa.String(64)),
        sa.Column("owner_position_id", sa.UUID()),
        sa.Column("owner_user", sa.String(128)),
        sa.Column("due_at", TZ),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("blocked_reason", sa.Text()),
        sa.Column("status_note", sa.Text()),
        sa.Column("done_at", TZ),
        sa.Column("subject_entity", sa.String(32)),
        sa.Column("subject_id", sa.UUID()),
        sa.Column("zone_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        linked_by=(("activation", "activation_id"), ("subject", "subject_id")),
    )
    op.create_table(
        "task_escalations",
        sa.Column(
            "task_id", sa.UUID(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("due_at", TZ, primary_key=True),
        sa.Column(
            "alert_id", sa.UUID(), sa.ForeignKey("alerts.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("escalated_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("task_escalations")
    drop_object_table("tasks", "task")
