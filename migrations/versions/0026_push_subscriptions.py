"""alerts: Web Push subscriptions, and the device of a push delivery

Issue 21, part 3. A user's device that takes Web Push (RFC 8030/8291/8292): its push
service's endpoint (one row per endpoint) and the keys its browser made, in the user's language
on it. A push delivery (channel `push`) names the device it goes to; when the device is removed
(by its user, or because its push service answered 404/410), the delivery keeps its record.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column(
            "user_id",
            sa.UUID(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("endpoint", sa.String(2000), nullable=False, unique=True),
        sa.Column("p256dh", sa.String(200), nullable=False),
        sa.Column("auth", sa.String(100), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("label", sa.String(200)),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_success_at", TZ),
        sa.Column("last_error_at", TZ),
        sa.Column("last_error", sa.Text()),
    )
    op.create_index("ix_push_subscriptions_user", "push_subscriptions", ["user_id"])
    op.add_column(
        "alert_deliveries",
        sa.Column(
            "push_subscription_id",
            sa.UUID(),
            sa.ForeignKey("push_subscriptions.id", ondelete="SET NULL"),
        ),
    )


def downgrade() -> None:
    op.drop_column("alert_deliveries", "push_subscription_id")
    op.drop_index("ix_push_subscriptions_user", table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
