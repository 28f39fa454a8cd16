"""hotspot fiches: police measures with their extensions, evaluation notes; the Public Order
service as an organisation hotspot fiches are shared with

Issue 17, item 3. Both are operational objects (one write path, one change feed). A measure
names the zones it applies to, a note the hotspots it evaluates (`zone_ids`, GIN-indexed: the
fiche asks for those of one zone).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from object_tables import create_object_table, drop_object_table
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
IDS = postgresql.ARRAY(sa.UUID())
PUBLIC_ORDER = (
    "safe-ordre-public",
    "safe.brussels — Service Ordre public",
    "safe.brussels — Dienst Openbare Orde",
    "regional_agency",
)


def upgrade() -> None:
    create_object_table(
        "police_measures",
        "police_measure",
        sa.Column("zone_ids", IDS, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(120)),
        sa.Column("authority", sa.String(300)),
        sa.Column("valid_from", TZ, nullable=False),
        sa.Column("valid_to", TZ),
        sa.Column("extensions", postgresql.JSONB(), nullable=False),
        sa.Column("valid_until", TZ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revoked_at", TZ),
    )
    create_object_table(
        "hotspot_notes",
        "hotspot_note",
        sa.Column("zone_ids", IDS, nullable=False),
        sa.Column("noted_at", TZ, nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("corrects_id", sa.UUID()),
        sa.Column("corrected_by", IDS, nullable=False),
    )
    for table in ("police_measures", "hotspot_notes"):
        op.create_index(f"ix_{table}_zones", table, ["zone_ids"], postgresql_using="gin")
    organisations = sa.table(
        "organisations",
        sa.column("code"),
        sa.column("name_fr"),
        sa.column("name_nl"),
        sa.column("kind"),
        sa.column("created_at"),
        sa.column("created_by"),
    )
    code, fr, nl, kind = PUBLIC_ORDER
    op.execute(
        postgresql.insert(organisations)
        .values(
            code=code,
            name_fr=fr,
            name_nl=nl,
            kind=kind,
            created_at=sa.func.now(),
            created_by="migration",
        )
        .on_conflict_do_nothing()
    )


def downgrade() -> None:
    op.execute(
        sa.text(
            "DELETE FROM organisations WHERE code = :code AND created_by = 'migration'"
        ).bindparams(code=PUBLIC_ORDER[0])
    )
    drop_object_table("hotspot_notes", "hotspot_note")
    drop_object_table("police_measures", "police_measure")
