"""operational picture, change feed, identity

Revision ID: 0001
Revises:
Create Date: 2026-11-23 15:09:49.875233
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ENTITIES = ("incident", "planned_event", "demonstration", "zone", "activation", "logbook_entry")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "activations",
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("coordinator", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("subject_entity", sa.String(length=32), nullable=True),
        sa.Column("subject_id", sa.UUID(), nullable=True),
        sa.Column("members", sa.ARRAY(sa.String(length=120)), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("municipality_codes", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("police_zone_codes", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("areas", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    op.create_index(
        "ix_activations_geom", "activations", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index(
        "ix_activations_municipalities",
        "activations",
        ["municipality_codes"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_activations_police_zones",
        "activations",
        ["police_zone_codes"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ux_activations_source_external_id",
        "activations",
        ["source", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "changes",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("op", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("feature", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_changes_entity_at", "changes", ["entity", "at"], unique=False)
    op.create_index("ix_changes_entity_id_seq", "changes", ["entity_id", "seq"], unique=False)
    op.create_table(
        "demonstrations",
        sa.Column("organiser", sa.String(length=300), nullable=True),
        sa.Column("expected_participants", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("authorisation", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("municipality_codes", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("police_zone_codes", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("areas", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    op.create_index(
        "ix_demonstrations_geom", "demonstrations", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index(
        "ix_demonstrations_municipalities",
        "demonstrations",
        ["municipality_codes"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_demonstrations_police_zones",
        "demonstrations",
        ["police_zone_codes"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ux_demonstrations_source_external_id",
        "demonstrations",
        ["source", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "feed_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="feed_counter_single_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("actor", "key"),
    )
    op.create_table(
        "incidents",
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("municipality_codes", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("police_zone_codes", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("areas", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    op.create_index(
        "ix_incidents_geom", "incidents", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index(
        "ix_incidents_municipalities",
        "incidents",
        ["municipality_codes"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_incidents_police_zones",
        "incidents",
        ["police_zone_codes"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ux_incidents_source_external_id",
        "incidents",
        ["source", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "logbook_entries",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject_entity", sa.String(length=32), nullable=True),
        sa.Column("subject_id", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("municipality_codes", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("police_zone_codes", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("areas", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    op.create_index(
        "ix_logbook_entries_geom",
        "logbook_entries",
        ["geom"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_index(
        "ix_logbook_entries_municipalities",
        "logbook_entries",
        ["municipality_codes"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_logbook_entries_police_zones",
        "logbook_entries",
        ["police_zone_codes"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index("ix_logbook_entries_subject", "logbook_entries", ["subject_id"], unique=False)
    op.create_index(
        "ux_logbook_entries_source_external_id",
        "logbook_entries",
        ["source", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "planned_events",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("venue", sa.String(length=300), nullable=True),
        sa.Column("expected_attendance", sa.Integer(), nullable=True),
        sa.Column("risk_level", sa.String(length=16), nullable=False),
        sa.Column("organiser", sa.String(length=300), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("municipality_codes", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("police_zone_codes", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("areas", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    op.create_index(
        "ix_planned_events_geom", "planned_events", ["geom"], unique=False, postgresql_using="gist"
    )
    op.create_index(
        "ix_planned_events_municipalities",
        "planned_events",
        ["municipality_codes"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_planned_events_police_zones",
        "planned_events",
        ["police_zone_codes"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ux_planned_events_source_external_id",
        "planned_events",
        ["source", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "reference_area_parts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_reference_area_parts_geom",
        "reference_area_parts",
        ["geom"],
        unique=False,
        postgresql_using="gist",
    )
    op.create_table(
        "reference_areas",
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name_fr", sa.String(length=128), nullable=False),
        sa.Column("name_nl", sa.String(length=128), nullable=False),
        sa.Column("parent_code", sa.String(length=16), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("layer", "code"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("organisation", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "zones",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("parent_entity", sa.String(length=32), nullable=True),
        sa.Column("parent_id", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("exercise", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("municipality_codes", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("police_zone_codes", sa.ARRAY(sa.String(length=8)), nullable=False),
        sa.Column("areas", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    op.create_index("ix_zones_geom", "zones", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(
        "ix_zones_municipalities",
        "zones",
        ["municipality_codes"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index("ix_zones_parent", "zones", ["parent_id"], unique=False)
    op.create_index(
        "ix_zones_police_zones",
        "zones",
        ["police_zone_codes"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ux_zones_source_external_id",
        "zones",
        ["source", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )

    op.execute("INSERT INTO feed_counter (id, seq) VALUES (1, 0)")
    # Human references (INC-2026-000042) need no gap-freedom: plain sequences will do.
    for entity in ENTITIES:
        op.execute(f"CREATE SEQUENCE {entity}_ref_seq")


def downgrade() -> None:
    for entity in ENTITIES:
        op.execute(f"DROP SEQUENCE IF EXISTS {entity}_ref_seq")
    op.drop_table("refresh_tokens")
    op.drop_index(
        "ux_zones_source_external_id",
        table_name="zones",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index("ix_zones_police_zones", table_name="zones", postgresql_using="gin")
    op.drop_index("ix_zones_parent", table_name="zones")
    op.drop_index("ix_zones_municipalities", table_name="zones", postgresql_using="gin")
    op.drop_index("ix_zones_geom", table_name="zones", postgresql_using="gist")
    op.drop_table("zones")
    op.drop_table("users")
    op.drop_table("reference_areas")
    op.drop_index(
        "ix_reference_area_parts_geom", table_name="reference_area_parts", postgresql_using="gist"
    )
    op.drop_table("reference_area_parts")
    op.drop_index(
        "ux_planned_events_source_external_id",
        table_name="planned_events",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_planned_events_police_zones", table_name="planned_events", postgresql_using="gin"
    )
    op.drop_index(
        "ix_planned_events_municipalities", table_name="planned_events", postgresql_using="gin"
    )
    op.drop_index("ix_planned_events_geom", table_name="planned_events", postgresql_using="gist")
    op.drop_table("planned_events")
    op.drop_index(
        "ux_logbook_entries_source_external_id",
        table_name="logbook_entries",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index("ix_logbook_entries_subject", table_name="logbook_entries")
    op.drop_index(
        "ix_logbook_entries_police_zones", table_name="logbook_entries", postgresql_using="gin"
    )
    op.drop_index(
        "ix_logbook_entries_municipalities", table_name="logbook_entries", postgresql_using="gin"
    )
    op.drop_index("ix_logbook_entries_geom", table_name="logbook_entries", postgresql_using="gist")
    op.drop_table("logbook_entries")
    op.drop_index(
        "ux_incidents_source_external_id",
        table_name="incidents",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index("ix_incidents_police_zones", table_name="incidents", postgresql_using="gin")
    op.drop_index("ix_incidents_municipalities", table_name="incidents", postgresql_using="gin")
    op.drop_index("ix_incidents_geom", table_name="incidents", postgresql_using="gist")
    op.drop_table("incidents")
    op.drop_table("idempotency_keys")
    op.drop_table("feed_counter")
    op.drop_index(
        "ux_demonstrations_source_external_id",
        table_name="demonstrations",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_demonstrations_police_zones", table_name="demonstrations", postgresql_using="gin"
    )
    op.drop_index(
        "ix_demonstrations_municipalities", table_name="demonstrations", postgresql_using="gin"
    )
    op.drop_index("ix_demonstrations_geom", table_name="demonstrations", postgresql_using="gist")
    op.drop_table("demonstrations")
    op.drop_index("ix_changes_entity_id_seq", table_name="changes")
    op.drop_index("ix_changes_entity_at", table_name="changes")
    op.drop_table("changes")
    op.drop_table("api_keys")
    op.drop_index(
        "ux_activations_source_external_id",
        table_name="activations",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index("ix_activations_police_zones", table_name="activations", postgresql_using="gin")
    op.drop_index("ix_activations_municipalities", table_name="activations", postgresql_using="gin")
    op.drop_index("ix_activations_geom", table_name="activations", postgresql_using="gist")
    op.drop_table("activations")
