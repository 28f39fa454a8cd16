"""partner isolation in alerting: each recipient its own subscription, the state each alert was
composed from, partner API keys of an organisation

- `alert_recipients.subscription_id` replaces `alerts.subscription_id`: an alert raised by
  rules of several partners held the first rule's subscription, and every partner read it.
- `alerts.feature`: the object's state a rule alert was composed from, so that a Cancel to a
  partner that can no longer see the object says only what that partner was alerted with.
- `api_keys.organisation`: a partner key acts for one organisation, as its users do.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _subscription_id() -> sa.Column[object]:
    return sa.Column(
        "subscription_id",
        postgresql.UUID(as_uuid=True),
        sa.ForeignKey("subscriptions.id", ondelete="SET NULL"),
    )


def upgrade() -> None:
    op.add_column("alert_recipients", _subscription_id())
    # Each recipient's own subscription: the rule matches name it for the last alert of each
    # rule and object, the alert's own column for the partner of its first rule.
    op.execute(
        "UPDATE alert_recipients r SET subscription_id = m.subscription_id"
        " FROM alert_rule_matches m JOIN subscriptions s ON s.id = m.subscription_id"
        " WHERE m.alert_id = r.alert_id AND s.organisation = r.organisation"
    )
    op.execute(
        "UPDATE alert_recipients r SET subscription_id = a.subscription_id"
        " FROM alerts a JOIN subscriptions s ON s.id = a.subscription_id"
        " WHERE a.id = r.alert_id AND s.organisation = r.organisation"
        " AND r.subscription_id IS NULL"
    )
    op.drop_column("alerts", "subscription_id")

    op.add_column("alerts", sa.Column("feature", postgresql.JSONB()))
    op.execute(
        "UPDATE alerts a SET feature = c.feature FROM changes c"
        " WHERE a.origin = 'rule' AND c.seq = a.change_seq"
    )

    op.add_column(
        "api_keys",
        sa.Column("organisation", sa.String(64), sa.ForeignKey("organisations.code")),
    )


def downgrade() -> None:
    op.drop_column("api_keys", "organisation")
    op.drop_column("alerts", "feature")
    op.add_column("alerts", _subscription_id())
    op.execute(
        "UPDATE alerts a SET subscription_id = r.subscription_id FROM alert_recipients r"
        " WHERE r.alert_id = a.id AND r.subscription_id IS NOT NULL"
    )
    op.drop_column("alert_recipients", "subscription_id")
