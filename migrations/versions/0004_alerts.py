"""alerts: partner SPOCs and channels, subscriptions, alerts, recipients, deliveries, cursor,
rule matches, alarm-test campaigns

The evaluator's cursor starts at the feed's head: alerting begins with the changes written
after this migration, not with the whole history.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _uuid() -> postgresql.UUID:  # type: ignore[type-arg]
    return postgresql.UUID(as_uuid=True)


def _audited() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    ]


def _org() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "organisation",
        sa.String(64),
        sa.ForeignKey("organisations.code", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "partner_contacts",
        sa.Column("id", _uuid(), primary_key=True),
        _org(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(200)),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("on_duty_from", sa.Time()),
        sa.Column("on_duty_to", sa.Time()),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_audited(),
    )
    op.create_index("ix_partner_contacts_org_rank", "partner_contacts", ["organisation", "rank"])
    op.create_table(
        "partner_channels",
        sa.Column("id", _uuid(), primary_key=True),
        _org(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("url", sa.String(2000)),
        sa.Column("secret", sa.String(128)),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_success_at", TZ),
        sa.Column("last_error_at", TZ),
        sa.Column("last_error", sa.Text()),
        *_audited(),
    )
    op.create_index("ix_partner_channels_org", "partner_channels", ["organisation"])
    op.create_table(
        "subscriptions",
        sa.Column("id", _uuid(), primary_key=True),
        _org(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("entities", postgresql.ARRAY(sa.String(32)), nullable=False),
        sa.Column("categories", postgresql.ARRAY(sa.String(32))),
        sa.Column("min_severity", sa.String(16)),
        sa.Column("parent_entities", postgresql.ARRAY(sa.String(32))),
        sa.Column("area_kind", sa.String(16), nullable=False),
        sa.Column("zone_id", _uuid()),
        sa.Column("zone_kinds", postgresql.ARRAY(sa.String(32))),
        sa.Column("codes", postgresql.ARRAY(sa.String(16))),
        sa.Column("polygon", postgresql.JSONB()),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_audited(),
    )
    op.create_index("ix_subscriptions_org", "subscriptions", ["organisation"])
    op.execute("CREATE SEQUENCE alert_ref_seq")
    op.create_table(
        "alerts",
        sa.Column("id", _uuid(), primary_key=True),
        sa.Column("ref", sa.String(32), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("msg_type", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("certainty", sa.String(16), nullable=False),
        sa.Column("categories", postgresql.ARRAY(sa.String(16)), nullable=False),
        sa.Column("event", sa.String(200), nullable=False),
        sa.Column("texts", postgresql.JSONB(), nullable=False),
        sa.Column("area_desc", sa.String(500), nullable=False),
        sa.Column("area", postgresql.JSONB()),
        sa.Column("area_codes", postgresql.ARRAY(sa.String(16)), nullable=False),
        sa.Column("references_id", _uuid(), sa.ForeignKey("alerts.id", ondelete="SET NULL")),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column(
            "subscription_id", _uuid(), sa.ForeignKey("subscriptions.id", ondelete="SET NULL")
        ),
        sa.Column("entity", sa.String(32)),
        sa.Column("entity_id", _uuid()),
        sa.Column("entity_ref", sa.String(32)),
        sa.Column("change_seq", sa.BigInteger()),
        sa.Column("campaign_id", _uuid()),
        sa.Column("sent_at", TZ, nullable=False),
        sa.Column("expires_at", TZ),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_alerts_sent_at", "alerts", ["sent_at"])
    op.create_index("ix_alerts_entity", "alerts", ["entity_id"])
    op.create_table(
        "alert_recipients",
        sa.Column(
            "alert_id",
            _uuid(),
            sa.ForeignKey("alerts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "organisation", sa.String(64), sa.ForeignKey("organisations.code"), primary_key=True
        ),
        sa.Column("deadline_at", TZ, nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("escalated_at", TZ),
        sa.Column("flagged_at", TZ),
        sa.Column("acknowledged_at", TZ),
        sa.Column("acknowledged_by", sa.String(200)),
        sa.Column("ack_via", sa.String(16)),
    )
    op.create_index(
        "ix_alert_recipients_due",
        "alert_recipients",
        ["deadline_at"],
        postgresql_where=sa.text("acknowledged_at IS NULL AND flagged_at IS NULL"),
    )
    op.create_index("ix_alert_recipients_org", "alert_recipients", ["organisation"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", _uuid(), primary_key=True),
        sa.Column(
            "alert_id", _uuid(), sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "organisation", sa.String(64), sa.ForeignKey("organisations.code"), nullable=False
        ),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("channel_id", _uuid(), sa.ForeignKey("partner_channels.id", ondelete="SET NULL")),
        sa.Column("contact_id", _uuid(), sa.ForeignKey("partner_contacts.id", ondelete="SET NULL")),
        sa.Column("address", sa.String(2000), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("claimed_until", TZ),
        sa.Column("last_error", sa.Text()),
        sa.Column("delivered_at", TZ),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index(
        "ix_alert_deliveries_due",
        "alert_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.create_index("ix_alert_deliveries_alert", "alert_deliveries", ["alert_id"])
    op.create_table(
        "alert_cursor",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="alert_cursor_single_row"),
    )
    op.execute("INSERT INTO alert_cursor (id, seq) SELECT 1, seq FROM feed_counter WHERE id = 1")
    op.create_table(
        "alert_rule_matches",
        sa.Column(
            "subscription_id",
            _uuid(),
            sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("entity_id", _uuid(), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column(
            "alert_id", _uuid(), sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
        ),
    )
    op.create_table(
        "alarm_campaigns",
        sa.Column("id", _uuid(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "alert_id", _uuid(), sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "alarm_campaigns",
        "alert_rule_matches",
        "alert_cursor",
        "alert_deliveries",
        "alert_recipients",
        "alerts",
        "subscriptions",
        "partner_channels",
        "partner_contacts",
    ):
        op.drop_table(table)
    op.execute("DROP SEQUENCE alert_ref_seq")
