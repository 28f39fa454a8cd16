"""cap_messages: every CAP message received, and what it did to the object made from it

CAP in becomes a feed consumer (issue 14 §7): an Update or Cancel finds the object made from
the message its <references> name, retries are recognised, and messages arriving out of order
are recorded without overwriting newer state. Messages received before this migration are not
known: an Update naming one of them makes a new object.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cap_messages",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("feed", sa.String(80), nullable=False),
        sa.Column("sender", sa.String(250), nullable=False),
        sa.Column("identifier", sa.String(250), nullable=False),
        sa.Column("sent", TZ, nullable=False),
        sa.Column("msg_type", sa.String(8), nullable=False),
        sa.Column("refs", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer()),
        sa.Column("said", postgresql.JSONB()),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("received_by", sa.String(128), nullable=False),
    )
    op.create_index(
        "ux_cap_messages_feed_sender_identifier",
        "cap_messages",
        ["feed", "sender", "identifier"],
        unique=True,
    )
    op.create_index("ix_cap_messages_entity_id", "cap_messages", ["entity_id"])
    op.create_index("ix_cap_messages_refs", "cap_messages", ["refs"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_table("cap_messages")
