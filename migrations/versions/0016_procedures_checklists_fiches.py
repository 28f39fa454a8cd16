"""standard procedures as checklists, and the operational fiche

Issue 16 (items 3 and 5): procedure templates (admin-managed, FR/NL/EN, with their triggers),
checklists and operational fiches as operational objects, and the change feed's cursors by
name: the alert evaluator's becomes one row of `feed_cursors`, beside the procedures' starter's,
which starts at the head (procedures start for what happens from now on).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from object_tables import create_object_table, drop_object_table
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _item(key: str, fr: str, nl: str, en: str) -> dict[str, object]:
    return {"key": key, "text": {"fr": fr, "nl": nl, "en": en}}


# The standard procedures the watch starts from; admins change them through the API.
TEMPLATES: list[dict[str, object]] = [
    {
        "code": "tunnel_fire",
        "title": {
            "fr": "Incendie en tunnel",
            "nl": "Brand in een tunnel",
            "en": "Tunnel fire",
        },
        "triggers": {
            "incident": {
                "categories": ["fire", "explosion"],
                "min_severity": "moderate",
                "keywords": ["tunnel"],
            }
        },
        "items": [
            _item(
                "confirm_dbdmh",
                "Confirmer l'engagement du SIAMU et le tunnel concerné",
                "Inzet van de DBDMH en de betrokken tunnel bevestigen",
                "Confirm the fire service (DBDMH/SIAMU) is engaged and which tunnel",
            ),
            _item(
                "close_tunnel",
                "Demander à Bruxelles Mobilité la fermeture du tunnel et des accès",
                "Brussel Mobiliteit vragen de tunnel en de toegangen af te sluiten",
                "Ask Brussels Mobility to close the tunnel and its accesses",
            ),
            _item(
                "ventilation",
                "Vérifier avec le centre de contrôle tunnels la ventilation et l'éclairage",
                "Met het tunnelcontrolecentrum ventilatie en verlichting nagaan",
                "Check ventilation and lighting with the tunnel control centre",
            ),
            _item(
                "police_zone",
                "Informer la zone de police et demander les déviations",
                "De politiezone verwittigen en omleidingen vragen",
                "Inform the police zone and ask for diversions",
            ),
            _item(
                "stib",
                "Prévenir la STIB des lignes impactées",
                "De MIVB verwittigen over de getroffen lijnen",
                "Warn STIB/MIVB of the lines affected",
            ),
            _item(
                "high_official",
                "Informer le Haut Fonctionnaire de garde",
                "De Hoge Ambtenaar van wacht inlichten",
                "Inform the High Official on duty",
            ),
            _item(
                "public_information",
                "Préparer un message à la population (D5) en FR et NL",
                "Een bericht aan de bevolking (D5) in het FR en NL voorbereiden",
                "Prepare a message to the population (D5) in FR and NL",
            ),
        ],
    },
    {
        "code": "flooding",
        "title": {"fr": "Inondations", "nl": "Overstromingen", "en": "Flooding"},
        "triggers": {
            "incident": {"categories": ["flooding_storm"], "min_severity": "severe"},
            "activation": {"templates": ["flood"]},
        },
        "items": [
            _item(
                "irm_warning",
                "Consulter les avertissements de l'IRM et de Vivaqua",
                "De waarschuwingen van het KMI en Vivaqua raadplegen",
                "Check the RMI and Vivaqua warnings",
            ),
            _item(
                "municipalities",
                "Alerter les communes concernées et leurs services techniques",
                "De betrokken gemeenten en hun technische diensten alarmeren",
                "Alert the municipalities concerned and their technical services",
            ),
            _item(
                "civil_protection",
                "Demander la disponibilité de la Protection civile (pompes, sacs de sable)",
                "De beschikbaarheid van de Civiele Bescherming vragen (pompen, zandzakjes)",
                "Ask Civil Protection for pumps and sandbags",
            ),
            _item(
                "tunnels_underpasses",
                "Faire vérifier tunnels et passages inférieurs par Bruxelles Mobilité",
                "Tunnels en onderdoorgangen laten controleren door Brussel Mobiliteit",
                "Have Brussels Mobility check tunnels and underpasses",
            ),
            _item(
                "vulnerable_sites",
                "Identifier les sites vulnérables (hôpitaux, maisons de repos)",
                "Kwetsbare locaties identificeren (ziekenhuizen, rusthuizen)",
                "Identify vulnerable sites (hospitals, care homes)",
            ),
            _item(
                "public_information",
                "Diffuser les consignes à la population (D5)",
                "Richtlijnen aan de bevolking verspreiden (D5)",
                "Issue instructions to the population (D5)",
            ),
        ],
    },
    {
        "code": "suspicious_package",
        "title": {"fr": "Colis suspect", "nl": "Verdacht pakket", "en": "Suspicious package"},
        "triggers": {"incident": {"categories": ["suspicious_package"], "min_severity": "minor"}},
        "items": [
            _item(
                "perimeter",
                "Vérifier que la police a établi un périmètre de sécurité",
                "Nagaan of de politie een veiligheidsperimeter heeft ingesteld",
                "Check the police have set a security perimeter",
            ),
            _item(
                "sedee",
                "Confirmer l'appel au SEDEE/DOVO (déminage)",
                "De oproep aan DOVO/SEDEE (ontmijning) bevestigen",
                "Confirm the bomb disposal unit (SEDEE/DOVO) was called",
            ),
            _item(
                "stib_traffic",
                "Informer la STIB et Bruxelles Mobilité des interruptions",
                "De MIVB en Brussel Mobiliteit over onderbrekingen inlichten",
                "Tell STIB/MIVB and Brussels Mobility of the interruptions",
            ),
            _item(
                "evacuation",
                "Évaluer avec la police l'évacuation des bâtiments voisins",
                "Met de politie de evacuatie van naburige gebouwen beoordelen",
                "Assess with the police evacuating nearby buildings",
            ),
            _item(
                "all_clear",
                "Noter la levée du périmètre et informer les partenaires",
                "De opheffing van de perimeter noteren en de partners inlichten",
                "Log the lifting of the perimeter and inform the partners",
            ),
        ],
    },
    {
        "code": "official_visit",
        "title": {
            "fr": "Visite officielle ou papale",
            "nl": "Officieel of pauselijk bezoek",
            "en": "Official or papal visit",
        },
        "triggers": {"planned_event": {"kinds": ["papal_visit", "official_visit"]}},
        "items": [
            _item(
                "fiche",
                "Faire approuver la fiche opérationnelle par le coordinateur",
                "De operationele fiche laten goedkeuren door de coördinator",
                "Have the coordinator approve the operational fiche",
            ),
            _item(
                "zones",
                "Dessiner les périmètres, zones rouges et interdictions de drones",
                "Perimeters, rode zones en droneverboden intekenen",
                "Draw the perimeters, red zones and drone bans",
            ),
            _item(
                "routes",
                "Valider les itinéraires et points de rassemblement avec la police fédérale",
                "De routes en verzamelpunten met de federale politie valideren",
                "Validate routes and assembly points with the federal police",
            ),
            _item(
                "first_aid",
                "Confirmer les postes médicaux avancés avec le D2",
                "De vooruitgeschoven medische posten met D2 bevestigen",
                "Confirm the advanced medical posts with D2",
            ),
            _item(
                "cell_positions",
                "Convoquer les représentants D1 à D5 et les officiers de liaison",
                "De vertegenwoordigers D1 tot D5 en de verbindingsofficieren oproepen",
                "Call in the D1 to D5 representatives and the liaison officers",
            ),
            _item(
                "communication",
                "Publier l'information mobilité à la population (D5)",
                "Mobiliteitsinformatie voor de bevolking publiceren (D5)",
                "Publish the mobility information for the population (D5)",
            ),
        ],
    },
    {
        "code": "cbrn",
        "title": {
            "fr": "Incident CBRN",
            "nl": "CBRN-incident",
            "en": "CBRN incident",
        },
        "triggers": {
            "incident": {"categories": ["hazmat"], "min_severity": "severe"},
            "activation": {"templates": ["cbrn"]},
        },
        "items": [
            _item(
                "hazmat_team",
                "Confirmer l'engagement de l'équipe NRBC du SIAMU",
                "De inzet van het CBRN-team van de DBDMH bevestigen",
                "Confirm the fire service's CBRN team is engaged",
            ),
            _item(
                "shelter",
                "Décider avec le D1 de la mise à l'abri ou de l'évacuation",
                "Met D1 beslissen over schuilen of evacueren",
                "Decide with D1 on sheltering or evacuation",
            ),
            _item(
                "hospitals",
                "Prévenir les hôpitaux via le D2 (décontamination)",
                "De ziekenhuizen via D2 verwittigen (decontaminatie)",
                "Warn the hospitals through D2 (decontamination)",
            ),
            _item(
                "crisis_centre",
                "Informer le Centre de crise national (NCCN)",
                "Het Nationaal Crisiscentrum (NCCN) inlichten",
                "Inform the National Crisis Centre (NCCN)",
            ),
            _item(
                "be_alert",
                "Préparer une alerte BE-Alert pour la zone touchée",
                "Een BE-Alert voor het getroffen gebied voorbereiden",
                "Prepare a BE-Alert message for the area affected",
            ),
        ],
    },
]


def upgrade() -> None:
    # The alert evaluator's cursor becomes one named cursor among others.
    op.create_table(
        "feed_cursors",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO feed_cursors (name, seq) SELECT 'alerts', seq FROM alert_cursor")
    op.execute(
        "INSERT INTO feed_cursors (name, seq) SELECT 'procedures', seq FROM feed_counter"
        " WHERE id = 1"
    )
    op.drop_table("alert_cursor")

    templates = op.create_table(
        "procedure_templates",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("title", postgresql.JSONB(), nullable=False),
        sa.Column("items", postgresql.JSONB(), nullable=False),
        sa.Column("triggers", postgresql.JSONB(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    now = sa.func.now()
    for template in TEMPLATES:
        op.execute(
            templates.insert().values(
                code=template["code"],
                title=template["title"],
                items=template["items"],
                triggers=template["triggers"],
                active=True,
                version=1,
                created_at=now,
                created_by="system:migration",
                updated_at=now,
                updated_by="system:migration",
            )
        )

    create_object_table(
        "checklists",
        "checklist",
        sa.Column("activation_id", sa.UUID()),
        sa.Column("template_code", sa.String(64)),
        sa.Column("subject_entity", sa.String(32)),
        sa.Column("subject_id", sa.UUID()),
        sa.Column("items", postgresql.JSONB(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        linked_by=(("activation", "activation_id"), ("subject", "subject_id")),
    )
    create_object_table(
        "fiches",
        "fiche",
        sa.Column("activation_id", sa.UUID()),
        sa.Column("subject_entity", sa.String(32)),
        sa.Column("subject_id", sa.UUID()),
        sa.Column("entries", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("approved_by", sa.String(128)),
        sa.Column("approved_at", TZ),
        sa.Column("language", sa.String(2), nullable=False),
        linked_by=(("activation", "activation_id"), ("subject", "subject_id")),
    )


def downgrade() -> None:
    drop_object_table("fiches", "fiche")
    drop_object_table("checklists", "checklist")
    op.drop_table("procedure_templates")
    op.create_table(
        "alert_cursor",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="alert_cursor_single_row"),
    )
    op.execute(
        "INSERT INTO alert_cursor (id, seq) SELECT 1, seq FROM feed_cursors WHERE name = 'alerts'"
    )
    op.drop_table("feed_cursors")
