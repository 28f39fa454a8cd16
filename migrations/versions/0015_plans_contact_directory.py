"""plans and the contact directory: emergency plans as operational objects, the directory of
the partners' 24/7 contacts they name, and its confirmation schedule with its reminders

Issue 16, item 8.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from object_tables import create_object_table, drop_object_table
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _org(primary_key: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "organisation",
        sa.String(64),
        sa.ForeignKey("organisations.code", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def upgrade() -> None:
    create_object_table(
        "plans",
        "plan",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("discipline", sa.String(4)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("zone_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("subject_entity", sa.String(32)),
        sa.Column("subject_id", sa.UUID()),
        sa.Column("contact_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("review_due", TZ),
        linked_by=(("subject", "subject_id"),),
    )
    op.create_table(
        "directory_entries",
        sa.Column("id", sa.UUID(), primary_key=True),
        _org(),
        sa.Column("function", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("phone_24_7", sa.String(32)),
        sa.Column("phone", sa.String(32)),
        sa.Column("email", sa.String(254)),
        sa.Column("radio_talkgroup", sa.String(64)),
        sa.Column("notes", sa.Text()),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    op.create_index(
        "ix_directory_entries_org", "directory_entries", ["organisation", "function"]
    )
    op.create_table(
        "directory_confirmations",
        _org(primary_key=True),
        sa.Column("confirm_days", sa.Integer()),
        sa.Column("confirmed_at", TZ),
        sa.Column("confirmed_by", sa.String(128)),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "directory_reminders",
        _org(primary_key=True),
        sa.Column("due_at", TZ, primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("alert_id", sa.UUID()),
        sa.Column("sent_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("directory_reminders")
    op.drop_table("directory_confirmations")
    op.drop_table("directory_entries")
    drop_object_table("plans", "plan")
