"""exercises: scenarios of timed injects, their runs, and each inject a run played

Issue 18, item 2. A scenario is kept as checked at upload; a run's exercise time is its elapsed
seconds at its anchor plus, while running, the real time since times its speed; an inject's row
in exercise_plays (primary key: run, inject) is written in the transaction that plays it, so
that no inject is played twice, whatever instances or restarts. At most one live (running or
paused) run of a scenario.

Revision ID: 0023
Revises: 0020
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "exercise_scenarios",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("title", postgresql.JSONB(), nullable=False),
        sa.Column("document", postgresql.JSONB(), nullable=False),
        sa.Column("injects", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "exercise_runs",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column(
            "scenario_id",
            sa.UUID(),
            sa.ForeignKey("exercise_scenarios.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("speed", sa.Float(), nullable=False),
        sa.Column("elapsed_seconds", sa.Float(), nullable=False),
        sa.Column("anchor_at", TZ, nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("started_by", sa.String(128), nullable=False),
        sa.Column("ended_at", TZ),
        sa.Column("log", postgresql.JSONB(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ux_exercise_runs_live",
        "exercise_runs",
        ["scenario_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('running', 'paused')"),
    )
    op.create_table(
        "exercise_plays",
        sa.Column(
            "run_id",
            sa.UUID(),
            sa.ForeignKey("exercise_runs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("inject", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at_seconds", sa.Integer(), nullable=False),
        sa.Column("played_at", TZ, nullable=False),
        sa.Column("elapsed_seconds", sa.Float(), nullable=False),
        sa.Column("object_key", sa.String(64)),
        sa.Column("entity", sa.String(32)),
        sa.Column("entity_id", sa.UUID()),
        sa.Column("version", sa.Integer()),
        sa.Column("alert_id", sa.UUID()),
        sa.Column("error", sa.Text()),
    )


def downgrade() -> None:
    op.drop_table("exercise_plays")
    op.drop_index("ux_exercise_runs_live", table_name="exercise_runs")
    op.drop_table("exercise_runs")
    op.drop_table("exercise_scenarios")
