"""After the exercise: the players' response times per inject, and the after-action report
(HTML, its PDF, and the response times as CSV).

What counts (docs/replay-and-exercises.md "Response times"), in real time from when the inject
was played:

- the *first action*: the first write by a person or a client (not the exercise run, nor any
  `system:` worker) on the object the inject created, changed or is about, after it was
  played: a change of that object in the feed, or a logbook entry about it (a logbook entry
  written about an object is the watch's first trace of having taken it in hand);
- the *acknowledgement*: the first acknowledgement by a partner of an alert the inject caused:
  its own message, or an alert about its object raised since (a subscription matching the
  exercise object; CAP status Exercise).

An inject with nothing to act on (a call about no object) has neither; one that failed has its
error instead.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import cpu, printing
from app.alerts.models import Alert, Recipient
from app.domain.changes import history
from app.domain.enums import Entity, Language
from app.domain.logbook_entry import LogbookEntry
from app.exercises.models import ExercisePlay, ExerciseRun
from app.exercises.runner import ACTOR, scenario_of
from app.exercises.scenario import Inject, offset_text
from app.exercises.service import get_run, get_scenario, plays_of
from app.text import csv_cell

BRUSSELS = ZoneInfo("Europe/Brussels")
TEMPLATES = Path(__file__).parent / "templates"


def _system(actor: str) -> bool:
    return actor == ACTOR.name or actor.startswith("system:")


@dataclass
class Response:
    index: int
    inject: Inject
    play: ExercisePlay | None
    first_action_at: datetime | None = None
    first_action_by: str | None = None
    first_action: str | None = None  # "change" (with its op) or "logbook"
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None

    @property
    def response_seconds(self) -> float | None:
        if self.play is None or self.first_action_at is None:
            return None
        return round((self.first_action_at - self.play.played_at).total_seconds(), 1)

    @property
    def acknowledgement_seconds(self) -> float | None:
        if self.play is None or self.acknowledged_at is None:
            return None
        return round((self.acknowledged_at - self.play.played_at).total_seconds(), 1)


async def _first_action(session: AsyncSession, r: Response) -> None:
    play = r.play
    assert play is not None and play.entity is not None and play.entity_id is not None
    since = play.played_at
    found: list[tuple[datetime, str, str]] = [
        (c.at, c.actor, f"{c.op} v{c.version}")
        for c in await history(session, Entity(play.entity), play.entity_id)
        if c.at >= since and not _system(c.actor)
    ]
    entry = (
        await session.execute(
            select(LogbookEntry.created_at, LogbookEntry.created_by)
            .where(
                LogbookEntry.subject_id == play.entity_id,
                LogbookEntry.created_at >= since,
                ~LogbookEntry.created_by.startswith("system:"),
            )
            .order_by(LogbookEntry.created_at)
            .limit(1)
        )
    ).first()
    if entry is not None:
        found.append((entry.created_at, entry.created_by, "logbook"))
    if found:
        r.first_action_at, r.first_action_by, r.first_action = min(found)


async def _acknowledgement(session: AsyncSession, r: Response) -> None:
    play = r.play
    assert play is not None
    caused = Alert.id == play.alert_id if play.alert_id is not None else None
    if play.entity_id is not None:
        about = (Alert.entity_id == play.entity_id) & (Alert.sent_at >= play.played_at)
        caused = about if caused is None else caused | about
    if caused is None:
        return
    first = (
        await session.execute(
            select(Recipient.acknowledged_at, Recipient.acknowledged_by, Recipient.organisation)
            .join(Alert, Alert.id == Recipient.alert_id)
            .where(caused, Recipient.acknowledged_at.is_not(None))
            .order_by(Recipient.acknowledged_at)
            .limit(1)
        )
    ).first()
    if first is not None:
        r.acknowledged_at = first.acknowledged_at
        r.acknowledged_by = f"{first.acknowledged_by} ({first.organisation})"


async def response_times(session: AsyncSession, run: ExerciseRun) -> list[Response]:
    scenario = scenario_of(await get_scenario(session, run.scenario_id))
    plays = await plays_of(session, run.id)
    out = []
    for index in scenario.order():
        r = Response(index, scenario.injects[index], plays.get(index))
        if r.play is not None and r.play.error is None:
            if r.play.entity_id is not None:
                await _first_action(session, r)
            await _acknowledgement(session, r)
        out.append(r)
    return out


def _local(value: datetime | None) -> str:
    return value.astimezone(BRUSSELS).strftime("%d/%m/%Y %H:%M:%S") if value else ""


COLUMNS = (
    "inject",
    "at",
    "kind",
    "label",
    "object",
    "played_at",
    "first_action_at",
    "first_action_by",
    "first_action",
    "response_seconds",
    "acknowledged_at",
    "acknowledged_by",
    "acknowledgement_seconds",
    "error",
)


def _row(r: Response) -> list[Any]:
    play = r.play
    return [
        r.index,
        r.inject.at,
        r.inject.kind,
        r.inject.label(),
        r.inject.object_key or "",
        play.played_at.isoformat() if play else "",
        r.first_action_at.isoformat() if r.first_action_at else "",
        r.first_action_by or "",
        r.first_action or "",
        "" if r.response_seconds is None else r.response_seconds,
        r.acknowledged_at.isoformat() if r.acknowledged_at else "",
        r.acknowledged_by or "",
        "" if r.acknowledgement_seconds is None else r.acknowledgement_seconds,
        (play.error or "") if play else "",
    ]


def as_csv(responses: list[Response]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in responses:
        writer.writerow([csv_cell(v) for v in _row(r)])
    return out.getvalue()


def as_json(responses: list[Response]) -> list[dict[str, Any]]:
    return [dict(zip(COLUMNS, _row(r), strict=True)) for r in responses]


WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "report": "Rapport après exercice",
        "scenario": "Scénario",
        "started": "Début",
        "ended": "Fin",
        "by": "par",
        "status": "État",
        "injects": "Injects",
        "played": "joués",
        "failed": "en échec",
        "answered": "avec une première action",
        "median": "Temps de réaction médian",
        "slowest": "le plus long",
        "at": "T+",
        "kind": "Type",
        "label": "Inject",
        "played_at": "Joué à",
        "first_action": "Première action",
        "response": "Réaction",
        "ack": "Accusé de réception",
        "ack_time": "Délai",
        "controls": "Conduite de l’exercice",
        "none": "aucune",
        "exercise": "EXERCICE — rien de ce rapport n’a eu lieu.",
    },
    "nl": {
        "report": "Evaluatieverslag van de oefening",
        "scenario": "Scenario",
        "started": "Begin",
        "ended": "Einde",
        "by": "door",
        "status": "Toestand",
        "injects": "Injects",
        "played": "gespeeld",
        "failed": "mislukt",
        "answered": "met een eerste actie",
        "median": "Mediane reactietijd",
        "slowest": "langste",
        "at": "T+",
        "kind": "Soort",
        "label": "Inject",
        "played_at": "Gespeeld om",
        "first_action": "Eerste actie",
        "response": "Reactie",
        "ack": "Ontvangstbevestiging",
        "ack_time": "Termijn",
        "controls": "Verloop van de oefening",
        "none": "geen",
        "exercise": "OEFENING — niets in dit verslag heeft echt plaatsgevonden.",
    },
    "en": {
        "report": "After-action report",
        "scenario": "Scenario",
        "started": "Started",
        "ended": "Ended",
        "by": "by",
        "status": "Status",
        "injects": "Injects",
        "played": "played",
        "failed": "failed",
        "answered": "with a first action",
        "median": "Median response time",
        "slowest": "slowest",
        "at": "T+",
        "kind": "Kind",
        "label": "Inject",
        "played_at": "Played at",
        "first_action": "First action",
        "response": "Response",
        "ack": "Acknowledgement",
        "ack_time": "Delay",
        "controls": "Conduct of the exercise",
        "none": "none",
        "exercise": "EXERCISE — nothing in this report happened.",
    },
}


def _duration(seconds: float | None) -> str:
    return "" if seconds is None else offset_text(max(0.0, seconds))


async def context(
    session: AsyncSession, run_id: uuid.UUID, language: Language
) -> tuple[ExerciseRun, list[Response], dict[str, Any]]:
    run = await get_run(session, run_id)
    scenario_row = await get_scenario(session, run.scenario_id)
    responses = await response_times(session, run)
    lang = language.value
    times = [r.response_seconds for r in responses if r.response_seconds is not None]
    rows = [
        {
            "at": r.inject.at,
            "kind": r.inject.kind,
            "label": r.inject.label(),
            "played_at": _local(r.play.played_at) if r.play else "",
            "error": r.play.error if r.play else None,
            "first_action": (
                f"{_local(r.first_action_at)} — {r.first_action_by} ({r.first_action})"
                if r.first_action_at
                else ""
            ),
            "response": _duration(r.response_seconds),
            "ack": (
                f"{_local(r.acknowledged_at)} — {r.acknowledged_by}" if r.acknowledged_at else ""
            ),
            "ack_time": _duration(r.acknowledgement_seconds),
        }
        for r in responses
    ]
    title = scenario_row.title.get(lang) or scenario_row.title["fr"]
    data = {
        "lang": lang,
        "w": WORDS[lang],
        "title": title,
        "key": scenario_row.key,
        "run": {
            "status": run.status,
            "started": _local(run.started_at),
            "started_by": run.started_by,
            "ended": _local(run.ended_at),
        },
        "figures": {
            "played": sum(1 for r in responses if r.play and not r.play.error),
            "failed": sum(1 for r in responses if r.play and r.play.error),
            "total": len(responses),
            "answered": len(times),
            "median": _duration(median(times)) if times else "",
            "slowest": _duration(max(times)) if times else "",
        },
        "rows": rows,
        "log": [{**e, "at": _local(datetime.fromisoformat(e["at"]))} for e in run.log],
    }
    return run, responses, data


def render_html(data: dict[str, Any]) -> str:
    return printing.templates(TEMPLATES).get_template("after_action.html").render(**data)


async def render_pdf(data: dict[str, Any]) -> bytes:
    html = render_html(data)
    return await cpu.run(printing.pdf, html)
