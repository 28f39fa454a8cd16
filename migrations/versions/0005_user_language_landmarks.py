"""users.language may be unset (NULL: the French default, the user never chose); reference
layers may hold points (the landmark layer) and longer codes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Until now every user got "fr" at creation; a stored value stays the user's choice.
    op.alter_column("users", "language", existing_type=sa.String(2), nullable=True)
    op.execute(
        "ALTER TABLE reference_areas ALTER COLUMN geom TYPE geometry(Geometry, 4326) "
        "USING geom::geometry(Geometry, 4326)"
    )
    op.alter_column("reference_areas", "code", existing_type=sa.String(16), type_=sa.String(64))


def downgrade() -> None:
    op.execute("DELETE FROM reference_areas WHERE layer = 'landmark'")
    op.alter_column("reference_areas", "code", existing_type=sa.String(64), type_=sa.String(16))
    op.execute(
        "ALTER TABLE reference_areas ALTER COLUMN geom TYPE geometry(MultiPolygon, 4326) "
        "USING ST_Multi(geom)::geometry(MultiPolygon, 4326)"
    )
    op.execute("UPDATE users SET language = 'fr' WHERE language IS NULL")
    op.alter_column("users", "language", existing_type=sa.String(2), nullable=False)
