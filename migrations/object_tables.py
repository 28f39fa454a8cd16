"""The table of one kind of operational object, as its migration creates it: the columns every
kind shares (app.domain.base.OperationalObject), its own, its indexes and its reference
sequence. Revisions import it (env.py puts this folder on the path), so each new kind's table
is declared by its own columns only; a revision that changes the shared columns must not edit
this, but alter every table itself."""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def _common() -> list[sa.Column[object]]:
    tz = sa.DateTime(timezone=True)
    return [
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("ref", sa.String(32), nullable=False, unique=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("shared_with", postgresql.ARRAY(sa.String(64)), nullable=False),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(64)),
        sa.Column("external_id", sa.String(128)),
        sa.Column("municipality_codes", postgresql.ARRAY(sa.String(8)), nullable=False),
        sa.Column("police_zone_codes", postgresql.ARRAY(sa.String(8)), nullable=False),
        sa.Column("areas", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", tz, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", tz, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("geom", geoalchemy2.types.Geometry(srid=4326, spatial_index=False)),
    ]


def create_object_table(
    table: str,
    entity: str,
    *columns: sa.Column[object],
    linked_by: tuple[tuple[str, str], ...] = (),
) -> None:
    """Create `table` for `entity` with its own `columns` and the indexes of
    OperationalObject.__table_args__ (`linked_by`: (index suffix, column) as the model says)."""
    op.create_table(table, *columns, *_common())
    op.create_index(f"ix_{table}_geom", table, ["geom"], postgresql_using="gist")
    op.create_index(
        f"ix_{table}_municipalities", table, ["municipality_codes"], postgresql_using="gin"
    )
    op.create_index(
        f"ix_{table}_police_zones", table, ["police_zone_codes"], postgresql_using="gin"
    )
    for suffix, column in linked_by:
        op.create_index(f"ix_{table}_{suffix}", table, [column])
    op.create_index(
        f"ux_{table}_source_external_id",
        table,
        ["source", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.execute(f"CREATE SEQUENCE {entity}_ref_seq")


def drop_object_table(table: str, entity: str) -> None:
    op.drop_table(table)
    op.execute(f"DROP SEQUENCE {entity}_ref_seq")
