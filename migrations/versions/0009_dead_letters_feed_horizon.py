"""dead_letters: items a background loop set aside; feed_horizon: how far the feed was pruned

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("item", sa.String(length=200), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_dead_letters_at", "dead_letters", ["at"])
    op.create_table(
        "feed_horizon",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id = 1", name="feed_horizon_single_row"),
    )
    # Nothing pruned yet: every change is kept, the picture exact since the beginning.
    op.execute("INSERT INTO feed_horizon (id, seq, at) VALUES (1, 0, NULL)")


def downgrade() -> None:
    op.drop_table("feed_horizon")
    op.drop_index("ix_dead_letters_at", table_name="dead_letters")
    op.drop_table("dead_letters")
