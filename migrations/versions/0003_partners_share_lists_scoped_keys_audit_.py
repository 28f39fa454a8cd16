"""partners, share lists, scoped keys, audit, login throttling

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:49:39.110796
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The standing partners of the Region's crisis centre; more are added by administrators.
PARTNERS = [
    (
        "pz-5339",
        "Zone de police Bruxelles-Capitale/Ixelles",
        "Politiezone Brussel-Hoofdstad/Elsene",
        "police_zone",
    ),
    ("pz-5340", "Zone de police Bruxelles-Ouest", "Politiezone Brussel-West", "police_zone"),
    ("pz-5341", "Zone de police Midi", "Politiezone Zuid", "police_zone"),
    (
        "pz-5342",
        "Zone de police Uccle/Watermael-Boitsfort/Auderghem",
        "Politiezone Ukkel/Watermaal-Bosvoorde/Oudergem",
        "police_zone",
    ),
    ("pz-5343", "Zone de police Montgomery", "Politiezone Montgomery", "police_zone"),
    ("pz-5344", "Zone de police Bruxelles-Nord", "Politiezone Brussel-Noord", "police_zone"),
    (
        "siamu-dbdmh",
        "SIAMU — Service d'incendie et d'aide médicale urgente",
        "DBDMH — Dienst voor Brandbestrijding en Dringende Medische Hulp",
        "fire_medical",
    ),
    ("stib-mivb", "STIB", "MIVB", "public_transport"),
    ("bruxelles-mobilite", "Bruxelles Mobilité", "Brussel Mobiliteit", "regional_agency"),
    ("bruxelles-environnement", "Bruxelles Environnement", "Leefmilieu Brussel", "regional_agency"),
    ("vivaqua", "Vivaqua", "Vivaqua", "regional_agency"),
    ("sibelga", "Sibelga", "Sibelga", "regional_agency"),
    ("nccn", "Centre de crise national", "Nationaal Crisiscentrum", "federal"),
]


def seed_organisations() -> None:
    table = sa.table(
        "organisations",
        sa.column("code"),
        sa.column("name_fr"),
        sa.column("name_nl"),
        sa.column("kind"),
        sa.column("created_at"),
        sa.column("created_by"),
    )
    op.execute(
        postgresql.insert(table)
        .values(
            [
                {
                    "code": c,
                    "name_fr": fr,
                    "name_nl": nl,
                    "kind": k,
                    "created_at": sa.func.now(),
                    "created_by": "migration",
                }
                for c, fr, nl, k in PARTNERS
            ]
        )
        .on_conflict_do_nothing()
    )


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"], unique=False)
    op.create_index("ix_audit_events_subject", "audit_events", ["subject"], unique=False)
    op.create_table(
        "login_failures",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", "subject"),
    )
    op.create_table(
        "organisations",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_fr", sa.String(length=200), nullable=False),
        sa.Column("name_nl", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.add_column(
        "activations",
        sa.Column(
            "shared_with",
            postgresql.ARRAY(sa.String(length=64)),
            nullable=False,
            server_default="{}",
        ),
    )
    op.add_column(
        "api_keys",
        sa.Column(
            "entities",
            postgresql.ARRAY(sa.String(length=32)),
            nullable=False,
            server_default="{incident}",
        ),
    )
    op.add_column("api_keys", sa.Column("source", sa.String(length=64), nullable=True))
    op.execute("UPDATE api_keys SET source = name")
    op.alter_column("api_keys", "source", nullable=False)
    op.add_column(
        "demonstrations",
        sa.Column(
            "shared_with",
            postgresql.ARRAY(sa.String(length=64)),
            nullable=False,
            server_default="{}",
        ),
    )
    op.add_column(
        "incidents",
        sa.Column(
            "shared_with",
            postgresql.ARRAY(sa.String(length=64)),
            nullable=False,
            server_default="{}",
        ),
    )
    op.add_column(
        "logbook_entries",
        sa.Column(
            "shared_with",
            postgresql.ARRAY(sa.String(length=64)),
            nullable=False,
            server_default="{}",
        ),
    )
    op.add_column(
        "planned_events",
        sa.Column(
            "shared_with",
            postgresql.ARRAY(sa.String(length=64)),
            nullable=False,
            server_default="{}",
        ),
    )
    op.execute(
        "INSERT INTO organisations (code, name_fr, name_nl, kind, created_at, created_by) "
        "SELECT DISTINCT organisation, organisation, organisation, 'other', now(), 'migration' "
        "FROM users WHERE organisation IS NOT NULL"
    )
    op.create_foreign_key(
        "users_organisation_fkey", "users", "organisations", ["organisation"], ["code"]
    )
    seed_organisations()
    op.add_column(
        "zones",
        sa.Column(
            "shared_with",
            postgresql.ARRAY(sa.String(length=64)),
            nullable=False,
            server_default="{}",
        ),
    )


def downgrade() -> None:
    op.drop_column("zones", "shared_with")
    # WARNING: constraint name is None; this directive will fail as
    # rendered.  Add a name, or use a naming convention; see
    # https://alembic.sqlalchemy.org/en/latest/naming.html
    op.drop_constraint("users_organisation_fkey", "users", type_="foreignkey")
    op.drop_column("planned_events", "shared_with")
    op.drop_column("logbook_entries", "shared_with")
    op.drop_column("incidents", "shared_with")
    op.drop_column("demonstrations", "shared_with")
    op.drop_column("api_keys", "source")
    op.drop_column("api_keys", "entities")
    op.drop_column("activations", "shared_with")
    op.drop_table("organisations")
    op.drop_table("login_failures")
    op.drop_index("ix_audit_events_subject", table_name="audit_events")
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    op.drop_table("audit_events")
