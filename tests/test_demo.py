"""The demo: accounts the README names, and a scenario that loads once, linked and in the region.

The test database is shared with other tests, so these look only at `source = "demo"` objects.
"""

from __future__ import annotations

from typing import Any

import pytest
from geoalchemy2.shape import to_shape
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import demo, demo_cell
from app.auth.keycache import KeyCache
from app.auth.models import User
from app.auth.passwords import policy_problem
from app.auth.service import authenticate
from app.auth.tokens import principal_from_api_key
from app.domain import changes
from app.domain.activation import Activation
from app.domain.incident import Incident
from app.domain.logbook_entry import LogbookEntry
from app.domain.planned_event import PlannedEvent
from app.domain.registry import SPECS
from app.domain.zone import Zone
from app.geo.reference import ReferenceArea

Sessions = async_sessionmaker[AsyncSession]

# Every kind, none of those the scenario does not fill.
EXPECTED = {
    **{spec.entity.value: 0 for spec in SPECS},
    "incident": len(demo.INCIDENTS),
    "planned_event": 2,
    "demonstration": len(demo.DEMONSTRATIONS),
    "zone": len(demo.PAPAL_ZONES) + 1 + len(demo.HOTSPOTS),
    "activation": 2,  # the papal visit's, and the night-time fire's (app.demo_cell)
    "logbook_entry": len(demo.LOGBOOK),
    "position": len(demo_cell.PAPAL_SEATS) + len(demo_cell.NIGHT_SEATS),
    "task": len(demo_cell.PAPAL_TASKS) + 1,
    "decision": len(demo_cell.PAPAL_DECISIONS) + 1,
    "fiche": 1,
    "document": 1,
    "police_measure": len(demo.HOTSPOT_MEASURES),
    "hotspot_note": 1,
}


@pytest.fixture(scope="module")
async def scenario(sessions: Sessions) -> dict[str, int]:
    """The scenario, loaded once for this module (counts are zeros if it was already there)."""
    return await demo.load_scenario(sessions)


async def demo_row_counts(sessions: Sessions) -> dict[str, int]:
    async with sessions() as session:
        return {
            spec.entity.value: await session.scalar(
                select(func.count()).select_from(spec.model).where(spec.model.source == "demo")
            )
            or 0
            for spec in SPECS
        }


async def papal_visit(session: AsyncSession) -> PlannedEvent:
    visit = await session.scalar(
        select(PlannedEvent).where(
            PlannedEvent.source == "demo", PlannedEvent.external_id == demo.PAPAL_VISIT.key
        )
    )
    assert visit is not None
    return visit


async def test_a_second_load_creates_nothing_and_changes_no_row(
    sessions: Sessions, scenario: dict[str, int]
) -> None:
    rows_before = await demo_row_counts(sessions)
    async with sessions() as session:
        head_before = await changes.head(session)

    again = await demo.load_scenario(sessions)

    # Every kind the registry holds; those the scenario does not load have none.
    every_kind = {spec.entity.value: EXPECTED.get(spec.entity.value, 0) for spec in SPECS}
    assert again == dict.fromkeys(every_kind, 0)
    assert await demo_row_counts(sessions) == rows_before == every_kind
    async with sessions() as session:
        # By the demo: the service's background workers answer other tests' writes meanwhile.
        by_demo = changes.Change.actor == demo.DEMO_ACTOR.as_actor.name
        first = select(func.count()).where(changes.Change.seq <= head_before, by_demo)
        assert await session.scalar(first), "the first load's records are the demo's"
        appended = select(func.count()).where(changes.Change.seq > head_before, by_demo)
        assert await session.scalar(appended) == 0, "no change record was appended"


async def test_papal_visit_has_its_zones_linked_to_the_event(
    sessions: Sessions, scenario: dict[str, int]
) -> None:
    async with sessions() as session:
        visit = await papal_visit(session)
        zones = list(await session.scalars(select(Zone).where(Zone.parent_id == visit.id)))

    assert visit.kind == "papal_visit" and visit.risk_level == "very_high"
    assert visit.expected_attendance == 35_000
    kinds = [z.kind for z in zones]
    assert kinds.count("security_perimeter") >= 1
    assert kinds.count("assembly_point") == 3
    for kind in ("red_zone", "drone_ban", "route", "first_aid_post", "staging_area"):
        assert kind in kinds, f"the papal visit has a {kind}"
    for z in zones:
        assert z.parent_entity == "planned_event" and z.source == "demo"
        assert z.valid_from is not None and z.valid_to is not None, f"{z.title}: its window"
        assert visit.starts_at <= z.valid_from < z.valid_to, z.title
    route = next(z for z in zones if z.kind == "route")
    assert to_shape(route.geom).geom_type == "LineString"  # type: ignore[arg-type]


async def test_drone_ban_covers_the_perimeters_and_the_red_zone_lies_in_one(
    sessions: Sessions, scenario: dict[str, int]
) -> None:
    async with sessions() as session:
        visit = await papal_visit(session)
        zones = list(await session.scalars(select(Zone).where(Zone.parent_id == visit.id)))
    shapes: dict[str, list[Any]] = {}
    for z in zones:
        shapes.setdefault(z.kind, []).append(to_shape(z.geom))  # type: ignore[arg-type]

    (drone_ban,) = shapes["drone_ban"]
    (red_zone,) = shapes["red_zone"]
    assert all(drone_ban.covers(p) for p in shapes["security_perimeter"])
    assert any(p.covers(red_zone) and p.area > red_zone.area for p in shapes["security_perimeter"])
    drone_zone = next(z for z in zones if z.kind == "drone_ban")
    assert "Ministre-Président" in (drone_zone.description or "")


async def test_incidents_span_six_municipalities_and_four_police_zones(
    sessions: Sessions, scenario: dict[str, int]
) -> None:
    async with sessions() as session:
        incidents = list(await session.scalars(select(Incident).where(Incident.source == "demo")))

    municipalities = {code for i in incidents for code in i.municipality_codes}
    police_zones = {code for i in incidents for code in i.police_zone_codes}
    assert len(municipalities) >= 6, municipalities
    assert len(police_zones) >= 4, police_zones
    assert {i.severity for i in incidents} == {"minor", "moderate", "severe", "extreme"}
    assert len({i.status for i in incidents}) >= 5
    assert len({i.category for i in incidents}) >= 10
    assert any(i.visibility == "shared" for i in incidents)
    assert any(i.exercise for i in incidents)
    for i in incidents:
        if i.status in ("closed", "false_alarm"):
            assert i.closed_at is not None and i.occurred_at is not None
            assert i.closed_at.year == 2024 and i.closed_at > i.occurred_at, i.title


async def test_the_activation_for_the_papal_visit_keeps_its_logbook(
    sessions: Sessions, scenario: dict[str, int]
) -> None:
    async with sessions() as session:
        visit = await papal_visit(session)
        gcc = await session.scalar(
            select(Activation).where(Activation.source == "demo", Activation.subject_id == visit.id)
        )
        assert gcc is not None
        entries = list(
            await session.scalars(select(LogbookEntry).where(LogbookEntry.subject_id == gcc.id))
        )

    assert gcc.level == "coordination" and gcc.subject_entity == "planned_event"
    assert {"SIAMU/DBDMH", "STIB/MIVB", "Ville de Bruxelles"} <= set(gcc.members)
    assert len(entries) >= 5
    assert all(e.subject_entity == "activation" for e in entries)
    kinds = {e.kind for e in entries}
    assert {"decision", "sitrep", "communication", "action", "handover"} <= kinds


async def test_the_17_hotspots_are_standing_zones_marked_as_sample_data(
    sessions: Sessions, scenario: dict[str, int]
) -> None:
    async with sessions() as session:
        hotspots = list(
            await session.scalars(select(Zone).where(Zone.source == "demo", Zone.kind == "hotspot"))
        )

    assert len(hotspots) == 17
    for h in hotspots:
        assert h.valid_from is None and h.valid_to is None, "standing: no validity window"
        assert h.parent_id is None
        assert "Données d'exemple" in (h.description or "")
        assert "Voorbeeldgegevens" in (h.description or "")
        assert h.visibility == "internal"


async def test_every_demo_geometry_lies_in_the_region(
    sessions: Sessions, scenario: dict[str, int]
) -> None:
    # A two-metre margin absorbs the seams of the reference outline (slivers well under 1 m²).
    region = (
        select(func.ST_Buffer(ReferenceArea.geom, 0.00002))
        .where(ReferenceArea.layer == "region")
        .scalar_subquery()
    )
    async with sessions() as session:
        for spec in SPECS:
            m = spec.model
            rows = (
                await session.execute(
                    select(
                        m.external_id, m.municipality_codes, func.ST_CoveredBy(m.geom, region)
                    ).where(m.source == "demo", m.geom.isnot(None))
                )
            ).all()
            for external_id, municipalities, inside in rows:
                assert municipalities, f"{spec.label} {external_id}: no municipality"
                assert inside, f"{spec.label} {external_id}: outside the region"


def test_demo_passwords_pass_the_policy_and_the_key_looks_like_a_key() -> None:
    for account in demo.DEMO_ACCOUNTS:
        assert policy_problem(account.password) is None, account.username
    assert {a.username for a in demo.DEMO_ACCOUNTS} == {"operator", "official", "partner", "admin"}
    assert demo.DEMO_API_KEY.key.startswith("sitcen_")


async def test_demo_accounts_are_created_only_when_there_is_no_user(sessions: Sessions) -> None:
    # Inside one transaction rolled back at the end, so the shared database keeps its users.
    engine: AsyncEngine = sessions.kw["bind"]
    async with engine.connect() as conn:
        outer = await conn.begin()
        try:
            await conn.execute(delete(User))
            scoped = async_sessionmaker(
                bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
            assert await demo.ensure_demo_accounts(scoped) is True
            assert await demo.ensure_demo_accounts(scoped) is False
            async with scoped() as session:
                for account in demo.DEMO_ACCOUNTS:
                    user = await authenticate(session, account.username, account.password)
                    assert user.role == account.role
                    assert user.organisation == account.organisation
                    assert user.language == account.language
                principal = await principal_from_api_key(session, demo.DEMO_API_KEY.key, KeyCache())
                assert principal.name == "dispatch-demo" and principal.role == "dispatch"
        finally:
            await outer.rollback()
