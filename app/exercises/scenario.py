"""The scenario file format (`sitcen-exercise/1`, docs/replay-and-exercises.md "Exercises"):
YAML or JSON, read, then checked in two passes, every problem named by its place in the file
(`injects[3].at`, `injects[5].create.properties.category`):

1. its shape, by the Pydantic models below;
2. what needs the kinds' own rules and the database: each object's properties against its
   kind's create or update schema, its geometry as every write checks it, the scenario-local
   keys (an update or a message names an object an earlier inject creates), the players (known
   organisations; messages and sharing only to them).

A scenario that passes both is stored as checked (`normalised`); a run plays that, and what
still goes wrong at play time (a player closed the incident an inject updates) is recorded on
the inject and the run goes on.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

import orjson
import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from app import cpu
from app.alerts.enums import CapCategory, CapSeverity, Certainty, Urgency
from app.domain import organisations
from app.domain.enums import Entity
from app.domain.registry import BY_ENTITY
from app.domain.schema import Input, OrgCode
from app.errors import ProblemError, pydantic_errors, unsupported_media_type, validation_problem
from app.geo.validation import parse_geometry

FORMAT = "sitcen-exercise/1"
MAX_INJECTS = 1000
MEDIA_TYPES = ("application/json", "application/yaml", "application/x-yaml", "text/yaml")
Key = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
Line = Annotated[str, Field(min_length=1, max_length=300)]
Long = Annotated[str, Field(min_length=1, max_length=10_000)]
_OFFSET = re.compile(r"^(\d{1,3}):([0-5]\d)(?::([0-5]\d))?$")
OFFSET_FORMAT = "a time after the start as H:MM or H:MM:SS (e.g. 0:45 or 1:30:00)"
# Set by the run on every object it writes: a scenario that sets them is refused.
RUN_SETS = ("exercise", "source", "external_id")
# What a scenario may create: the picture's kinds written by plain Features (a document is
# created by uploading its bytes, app.documents).
CREATABLE = tuple(
    e.value for e in Entity if "create" not in BY_ENTITY[e].own_routes and e != Entity.document
)


def offset_seconds(value: str) -> int:
    match = _OFFSET.match(value)
    if match is None:
        raise ValueError(OFFSET_FORMAT)
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds or 0)


def offset_text(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Bilingual(Input):
    """A text in both of the Region's languages; English when the scenario has it."""

    fr: Long
    nl: Long
    en: Long | None = None


class Create(Input):
    key: Key
    entity: Literal[CREATABLE]  # type: ignore[valid-type]
    geometry: dict[str, Any] | None = None
    properties: dict[str, Any]
    # Properties that hold another scenario object's id, by its key: {"subject_id": "leak"}.
    links: dict[str, Key] = {}


class Update(Input):
    object: Key
    geometry: dict[str, Any] | None = None
    properties: dict[str, Any] = {}


class Message(Input):
    """A message to partners: an alert with CAP status Exercise."""

    to: Annotated[list[OrgCode], Field(min_length=1, max_length=100)]
    severity: CapSeverity = CapSeverity.Moderate
    urgency: Urgency = Urgency.Immediate
    certainty: Certainty = Certainty.Observed
    category: CapCategory = CapCategory.Other
    headline: Bilingual
    description: Bilingual | None = None
    instruction: Bilingual | None = None
    about: Key | None = None  # the scenario object the message is about


class Call(Input):
    """A phone call the exercise controller makes (or simulates) at this time: a note for the
    controller only, never shown to players."""

    caller: Line  # who the controller plays ("Sibelga, dispatching")
    callee: Line  # whom they call ("SITCEN, agent de permanence")
    note: Bilingual  # what to say
    about: Key | None = None


KINDS = ("create", "update", "message", "call")


class Inject(Input):
    at: str
    title: Line | None = None  # for the controller's panel and the report
    create: Create | None = None
    update: Update | None = None
    message: Message | None = None
    call: Call | None = None

    @field_validator("at", mode="before")
    @classmethod
    def _offset(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(OFFSET_FORMAT)
        return offset_text(offset_seconds(value.strip()))

    @model_validator(mode="after")
    def _one_kind(self) -> Inject:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "an inject is exactly one of create, update, message, call"
                + (f" (it has {', '.join(given)})" if given else "")
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)

    @property
    def seconds(self) -> int:
        return offset_seconds(self.at)

    @property
    def object_key(self) -> str | None:
        if self.create is not None:
            return self.create.key
        if self.update is not None:
            return self.update.object
        return (self.message or self.call).about  # type: ignore[union-attr]

    def label(self) -> str:
        if self.title:
            return self.title
        if self.create is not None:
            return str(self.create.properties.get("title") or self.create.key)
        if self.update is not None:
            return f"{self.update.object}: " + ", ".join(sorted(self.update.properties))
        if self.message is not None:
            return self.message.headline.fr
        assert self.call is not None
        return f"{self.call.caller} → {self.call.callee}"


class Scenario(Input):
    format: Literal["sitcen-exercise/1"]
    key: Key
    title: Bilingual
    description: Bilingual | None = None
    # Partner organisations playing: messages go to them and objects are shared with them only.
    players: Annotated[list[OrgCode], Field(max_length=100)] = []
    injects: Annotated[list[Inject], Field(min_length=1, max_length=MAX_INJECTS)]

    @property
    def duration_seconds(self) -> int:
        return max(i.seconds for i in self.injects)

    def order(self) -> list[int]:
        """The injects' indexes in playing order: by time, then as written."""
        return sorted(range(len(self.injects)), key=lambda i: (self.injects[i].seconds, i))


def path_of(loc: list[Any]) -> str:
    """`injects[3].create.properties.title` of ["injects", 3, "create", …]."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "scenario"


def _problem(errors: list[dict[str, Any]]) -> ProblemError:
    located = [{**e, "path": path_of(e["loc"]), "loc": ["body", *e["loc"]]} for e in errors]
    first = located[0]
    more = f" (and {len(located) - 1} more)" if len(located) > 1 else ""
    return validation_problem(located, detail=f"{first['path']}: {first['msg']}{more}")


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML 1.1 reads 1:30 as the number 90 (base 60): a scenario's times stay text here. And
    no aliases (`*name`): a few lines of them expand into gigabytes once written out as JSON."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not accepted in a scenario", mark
            )
        return super().compose_node(parent, index)


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_INT, re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789"))
_Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789"),
)


def read(body: bytes, media_type: str) -> Any:
    """The file's data as JSON would carry it, by its media type; 415 for another, 422 saying
    where it cannot be read. CPU work (a megabyte of YAML is a second of Python): callers on
    the event loop run it in app.cpu's pool."""
    kind = media_type.split(";")[0].strip().lower()
    if kind not in MEDIA_TYPES:
        raise unsupported_media_type(
            f"a scenario is sent as JSON or YAML, not {kind or 'without a Content-Type'}",
            sniffed=kind,
            allowed=list(MEDIA_TYPES),
        )
    what = "JSON" if kind == "application/json" else "YAML"
    try:
        if kind == "application/json":
            return orjson.loads(body)
        data = yaml.load(body.decode("utf-8"), Loader=_Loader)
        # YAML's dates and times as the ISO text JSON would have carried.
        return orjson.loads(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS))
    except (orjson.JSONDecodeError, UnicodeDecodeError) as error:
        raise _problem([{"loc": [], "msg": f"not {what}: {error}"}]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise _problem([{"loc": [], "msg": f"not YAML{where}: {error}"}]) from None
    # Binary values, keys JSON has not, nesting too deep, dates that are none (2001-02-30).
    except (TypeError, ValueError, OverflowError, RecursionError) as error:
        raise _problem([{"loc": [], "msg": f"not a scenario {what} can hold: {error}"}]) from None


def parse(data: Any) -> Scenario:
    """The scenario's shape, or 422 naming every misplaced field."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise _problem(pydantic_errors(list(error.errors()))) from None


def _schema_errors(
    error: ValidationError, where: list[Any], fields: dict[str, str]
) -> list[dict[str, Any]]:
    out = []
    for e in pydantic_errors(list(error.errors())):
        loc = list(e["loc"])
        field = loc[0] if loc else None
        # A link's field is named where the scenario wrote it: in `links`.
        place = [*where[:-1], "links", field] if field in fields else [*where, *loc]
        out.append({"loc": place, "msg": e["msg"]})
    return out


Created = dict[str, tuple[int, str, int]]  # key -> (inject, entity, seconds)


def _earlier(
    created: Created, key: str | None, loc: list[Any], seconds: int
) -> list[dict[str, Any]]:
    """A key an inject names: created by an inject before it (not later in time)."""
    if key is None:
        return []
    found = created.get(key)
    if found is None:
        return [{"loc": loc, "msg": f"no earlier inject creates {key!r}"}]
    if found[2] > seconds:
        return [{"loc": loc, "msg": f"{key!r} is created later (injects[{found[0]}])"}]
    return []


async def check(session: Any, scenario: Scenario) -> Scenario:
    """The second pass: every problem at once (up to what the shape allows), each named by its
    place; the scenario with its properties as the kinds' schemas read them."""
    problems: list[dict[str, Any]] = []
    created: Created = {}
    await organisations.require_known(session, scenario.players, ["body", "players"])
    players = set(scenario.players)
    for i, inject in enumerate(scenario.injects):
        base: list[Any] = ["injects", i, inject.kind]

        if inject.create is not None:
            c = inject.create
            if c.key in created:
                problems.append(
                    {
                        "loc": [*base, "key"],
                        "msg": f"{c.key!r} is already created by injects[{created[c.key][0]}]",
                    }
                )
            spec = BY_ENTITY[Entity(c.entity)]
            for name, target in c.links.items():
                if name not in spec.fields:
                    problems.append(
                        {"loc": [*base, "links", name], "msg": f"no such field of a {spec.label}"}
                    )
                problems += _earlier(created, target, [*base, "links", name], inject.seconds)
            problems += await _properties(
                spec.create_schema, c.properties, c.links, [*base, "properties"], players
            )
            problems += await _geometry(spec, c.geometry, [*base, "geometry"], required=True)
            created.setdefault(c.key, (i, c.entity, inject.seconds))
        elif inject.update is not None:
            u = inject.update
            problems += _earlier(created, u.object, [*base, "object"], inject.seconds)
            made = created.get(u.object)
            if made is not None:
                spec = BY_ENTITY[Entity(made[1])]
                problems += await _properties(
                    spec.update_schema, u.properties, {}, [*base, "properties"], players
                )
                problems += await _geometry(spec, u.geometry, [*base, "geometry"], required=False)
            if not u.properties and u.geometry is None:
                problems.append({"loc": base, "msg": "an update changes properties or geometry"})
        elif inject.message is not None:
            m = inject.message
            problems += _earlier(created, m.about, [*base, "about"], inject.seconds)
            for j, org in enumerate(m.to):
                if org not in players:
                    problems.append(
                        {"loc": [*base, "to", j], "msg": f"{org!r} is not one of the players"}
                    )
        elif inject.call is not None:
            problems += _earlier(created, inject.call.about, [*base, "about"], inject.seconds)
    if problems:
        raise _problem(problems)
    return scenario


async def _properties(
    schema: type[BaseModel],
    props: dict[str, Any],
    links: dict[str, str],
    where: list[Any],
    players: set[str],
) -> list[dict[str, Any]]:
    problems = [
        {"loc": [*where, name], "msg": "set by the exercise run: leave it out"}
        for name in RUN_SETS
        if name in props
    ]
    # A link's id is known only at play time: a stand-in id is checked in its place.
    probe = {**props, **{name: str(uuid.uuid4()) for name in links}}
    try:
        schema.model_validate(probe)
    except ValidationError as error:
        problems += _schema_errors(error, where, links)
    shared = props.get("shared_with")
    if isinstance(shared, list):
        for j, org in enumerate(shared):
            if org not in players:
                problems.append(
                    {"loc": [*where, "shared_with", j], "msg": f"{org!r} is not one of the players"}
                )
    return problems


async def _geometry(
    spec: Any, geometry: dict[str, Any] | None, where: list[Any], *, required: bool
) -> list[dict[str, Any]]:
    if geometry is None:
        if required and spec.geometry_required:
            return [{"loc": where, "msg": f"a {spec.label} needs a geometry"}]
        return []
    try:
        await parse_geometry(geometry, allowed=spec.geometry_types, loc=tuple(where))
    except ProblemError as problem:
        return [{"loc": list(e["loc"]), "msg": e["msg"]} for e in problem.errors or []]
    return []


async def load(session: Any, body: bytes, media_type: str) -> Scenario:
    """A scenario file read and checked, or the 4xx that says what is wrong and where."""
    return await check(session, await cpu.run(_read_and_parse, body, media_type))


def _read_and_parse(body: bytes, media_type: str) -> Scenario:
    return parse(read(body, media_type))


def normalised(scenario: Scenario) -> dict[str, Any]:
    """What is stored: the scenario as checked, times as H:MM:SS, nothing left unset."""
    document: dict[str, Any] = scenario.model_dump(mode="json", exclude_none=True)
    return document
