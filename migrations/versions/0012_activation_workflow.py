"""activation workflow: phases and templates (admin-managed), an activation's phase, template
and debrief

Issue 16: a GCC activation is run as a workflow. Its phases are the crisis centre's own list
(pre-alert, coordination, management, recovery), kept by administrators; a template per kind
of activation (planned event, flood, major fire…) names the cell's positions to create, the
standard procedures and the fiche entries to pre-fill. Activations already recorded keep no
phase (NULL): none was recorded for them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:15:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)

# (code, order, FR, NL, EN): the phases of a GCC activation as the crisis centre names them.
PHASES = [
    ("pre_alert", 10, "Pré-alerte", "Vooralarm", "Pre-alert"),
    ("coordination", 20, "Coordination", "Coördinatie", "Coordination"),
    ("management", 30, "Gestion de crise", "Crisisbeheer", "Crisis management"),
    ("recovery", 40, "Rétablissement", "Herstel", "Recovery"),
]


def _seat(role: str, title: str, holder: str | None = None) -> dict[str, Any]:
    seat: dict[str, Any] = {"role": role, "title": title}
    if holder:
        seat["holder_organisation"] = holder
    return seat


# The core of every cell: who coordinates, SITCEN's duty officer, who keeps the logbook.
_CORE = [
    _seat("coordinator", "Coordinateur / Coördinator"),
    _seat("duty_officer", "Officier de permanence SITCEN / Permanentieofficier SITCEN"),
    _seat("log_keeper", "Tenue du journal / Logboekhouder"),
]
_D1 = _seat("d1", "D1 — Secours / Hulpverlening", "siamu-dbdmh")
_D2 = _seat("d2", "D2 — Aide médicale / Medische hulp")
_D3 = _seat("d3", "D3 — Police / Politie")
_D4 = _seat("d4", "D4 — Protection civile / Civiele bescherming")
_D5 = _seat("d5", "D5 — Information / Informatie")
_HIGH_OFFICIAL = _seat("high_official", "Haut Fonctionnaire / Hoge Ambtenaar")
_COMMS = _seat("communication_officer", "Communication / Communicatie")

# (code, level, FR, NL, EN, positions, procedures): a sensible starting set; administrators
# adapt it. Procedure codes name standard procedures (checklist templates, migration 0016).
TEMPLATES = [
    (
        "planned_event",
        "coordination",
        "Événement planifié",
        "Gepland evenement",
        "Planned event",
        [*_CORE, _D1, _D2, _D3, _D5, _seat("partner_liaison", "STIB / MIVB", "stib-mivb")],
        ["official_visit"],
    ),
    (
        "flood",
        "crisis_cell",
        "Inondation",
        "Overstroming",
        "Flood",
        [
            _HIGH_OFFICIAL,
            *_CORE,
            _D1,
            _D2,
            _D3,
            _D4,
            _D5,
            _seat("partner_liaison", "Vivaqua", "vivaqua"),
            _seat(
                "partner_liaison",
                "Bruxelles Environnement / Leefmilieu Brussel",
                "bruxelles-environnement",
            ),
        ],
        ["flooding"],
    ),
    (
        "major_fire",
        "crisis_cell",
        "Incendie majeur",
        "Grote brand",
        "Major fire",
        [_HIGH_OFFICIAL, *_CORE, _D1, _D2, _D3, _D4, _D5, _COMMS],
        [],
    ),
    (
        "public_order",
        "coordination",
        "Ordre public",
        "Openbare orde",
        "Public order",
        [*_CORE, _D3, _D1, _D5, _seat("partner_liaison", "STIB / MIVB", "stib-mivb")],
        [],
    ),
    (
        "cbrn",
        "crisis_cell",
        "Incident CBRN",
        "CBRN-incident",
        "CBRN incident",
        [
            _HIGH_OFFICIAL,
            *_CORE,
            _D1,
            _D2,
            _D3,
            _D4,
            _D5,
            _COMMS,
            _seat("partner_liaison", "Centre de crise national / Nationaal Crisiscentrum", "nccn"),
        ],
        ["cbrn"],
    ),
    (
        "utility_outage",
        "coordination",
        "Panne d'un réseau",
        "Uitval van een net",
        "Utility outage",
        [*_CORE, _D4, _D5, _seat("partner_liaison", "Sibelga", "sibelga")],
        [],
    ),
]


def upgrade() -> None:
    op.add_column("activations", sa.Column("phase", sa.String(32)))
    op.add_column("activations", sa.Column("phase_reason", sa.Text()))
    op.add_column("activations", sa.Column("template", sa.String(64)))
    op.add_column("activations", sa.Column("debrief", postgresql.JSONB()))
    phases = op.create_table(
        "activation_phases",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("order", sa.Integer(), nullable=False),
        sa.Column("label_fr", sa.String(120), nullable=False),
        sa.Column("label_nl", sa.String(120), nullable=False),
        sa.Column("label_en", sa.String(120), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    templates = op.create_table(
        "activation_templates",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("label_fr", sa.String(200), nullable=False),
        sa.Column("label_nl", sa.String(200), nullable=False),
        sa.Column("label_en", sa.String(200), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("positions", postgresql.JSONB(), nullable=False),
        sa.Column("procedures", postgresql.ARRAY(sa.String(64)), nullable=False),
        sa.Column("fiche", postgresql.JSONB(), nullable=False),
        sa.Column("plan_id", sa.UUID()),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    op.bulk_insert(
        phases,
        [
            {
                "code": code,
                "order": order,
                "label_fr": fr,
                "label_nl": nl,
                "label_en": en,
                "active": True,
                "updated_by": "migration",
            }
            for code, order, fr, nl, en in PHASES
        ],
        multiinsert=False,
    )
    op.bulk_insert(
        templates,
        [
            {
                "code": code,
                "level": level,
                "label_fr": fr,
                "label_nl": nl,
                "label_en": en,
                "positions": positions,
                "procedures": procedures,
                "fiche": [],
                "active": True,
                "updated_by": "migration",
            }
            for code, level, fr, nl, en, positions, procedures in TEMPLATES
        ],
        multiinsert=False,
    )


def downgrade() -> None:
    op.drop_table("activation_templates")
    op.drop_table("activation_phases")
    for column in ("debrief", "template", "phase_reason", "phase"):
        op.drop_column("activations", column)
