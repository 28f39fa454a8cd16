"""A bulk import: every row of a file written through the one write path, or none.

Each row is matched to an object already in the picture (by the id an export gave it, else by
its (source, external_id)) and updated, or else created, by the same service functions the
REST API calls (app.domain.objects.create / update), with the same checks and the same
refusals. The whole file is one transaction, each row in a savepoint of its own so that one
refused row does not stop the others being checked: if any row is refused, or the run is a dry
run, the transaction is rolled back and nothing of the file is kept (no object, no change
record); otherwise it commits as a whole. Running a file again finds its objects and changes
nothing that is already as the file says."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import ColumnElement, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import may, read_scope
from app.auth.principal import Principal
from app.db import driver
from app.domain import objects
from app.domain.base import OperationalObject
from app.domain.schema import Props
from app.domain.spec import EntitySpec
from app.errors import ProblemError, database_unreachable, pydantic_errors
from app.exchange.rows import Row
from app.geo.validation import ParsedGeometry, parse_geometry

Outcome = Literal["create", "update", "unchanged", "refused"]
# The source of an object a file creates without one (nor an API key's own).
DEFAULT_SOURCE = "import"


@dataclass
class RowResult:
    row: int
    outcome: Outcome
    id: str | None = None
    ref: str | None = None
    external_id: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"row": self.row, "outcome": self.outcome}
        for name in ("id", "ref", "external_id"):
            if getattr(self, name) is not None:
                body[name] = getattr(self, name)
        if self.errors:
            body["errors"] = self.errors
        return body


@dataclass
class Report:
    collection: str
    dry_run: bool
    results: list[RowResult]
    written: bool = False

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def refused(self) -> list[RowResult]:
        return [r for r in self.results if r.outcome == "refused"]

    def as_json(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "dry_run": self.dry_run,
            "written": self.written,
            "rows": len(self.results),
            **{o: self.count(o) for o in ("create", "update", "unchanged", "refused")},
            "results": [r.as_json() for r in self.results],
        }


class _Refused(Exception):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(problems)
        self.problems = problems


def _field(loc: list[Any]) -> str:
    """The field a write-path error names: ["body", "properties", "title"] -> "title"."""
    parts = [str(p) for p in loc if p not in ("body", "properties", "query")]
    return ".".join(parts) or "row"


def _problems(error: ProblemError) -> list[tuple[str, str]]:
    if error.errors:
        return [(_field(e.get("loc", [])), str(e.get("msg", "invalid"))) for e in error.errors]
    return [(str(error.extra.get("field") or "row"), error.detail)]


def _validated(model: type[Any], values: dict[str, Any]) -> Props:
    try:
        props: Props = model.model_validate(values)
    except ValidationError as e:
        raise _Refused(
            [(_field(p["loc"]), p["msg"]) for p in pydantic_errors(e.errors())]
        ) from None
    return props


@dataclass
class Importer:
    """One file's import, for one caller."""

    session: AsyncSession
    spec: EntitySpec
    principal: Principal
    source: str | None = None  # for the rows that name none
    repair: bool = False

    @property
    def scope(self) -> ColumnElement[bool] | None:
        return read_scope(self.principal, self.spec.model)

    def _require(self, action: str) -> None:
        if not may(self.principal, f"{self.spec.entity.value}:{action}"):
            role = self.principal.role.value
            raise _Refused([("row", f"role {role} may not {action} {self.spec.path}")])

    async def _geometry(self, row: Row) -> ParsedGeometry | None:
        if row.geometry is None:
            return None
        return await parse_geometry(
            row.geometry,
            repair=self.repair,
            allowed=self.spec.geometry_types,
            loc=("geometry",),
        )

    async def _existing(self, row: Row, values: dict[str, Any]) -> OperationalObject | None:
        m = self.spec.model
        if row.id is not None:
            query = select(m).where(m.id == row.id)
            found = await self.session.scalar(
                query.where(self.scope) if self.scope is not None else query
            )
            if found is not None:
                return found
        if values.get("external_id") and values.get("source"):
            query = select(m).where(
                m.source == values["source"], m.external_id == values["external_id"]
            )
            if self.scope is not None:
                query = query.where(self.scope)
            return await self.session.scalar(query)
        return None

    def _identify(self, row: Row, values: dict[str, Any]) -> None:
        """The (source, external_id) a row is found again by on the next run."""
        own = self.principal.as_actor.default_source
        if own is not None and values.get("source") not in (None, own):
            raise _Refused([("source", f"this API key imports with source {own!r} only")])
        values.setdefault("source", own or self.source or DEFAULT_SOURCE)
        if not values.get("external_id"):
            if row.id is None:
                raise _Refused(
                    [
                        (
                            "external_id",
                            "each row needs an external_id (or an export's id): it is how a "
                            "second run of the file finds the object instead of creating it "
                            "again",
                        )
                    ]
                )
            # Exported elsewhere: the id it had there identifies it here.
            values["external_id"] = str(row.id)

    async def _update(
        self, row: Row, found: OperationalObject, geometry: ParsedGeometry | None
    ) -> RowResult:
        spec = self.spec
        result = RowResult(row.number, "unchanged", str(found.id), found.ref, found.external_id)
        if spec.append_only:
            return result  # written once: found again, never rewritten
        self._require("update")
        patchable = set(spec.update_schema.model_fields)
        patch = _validated(
            spec.update_schema, {k: v for k, v in row.properties.items() if k in patchable}
        )
        status = spec.status_field
        if (
            status
            and status in patch.model_fields_set
            and getattr(patch, status) in spec.closing
            and getattr(found, status) != getattr(patch, status)
        ):
            self._require("close")
        before, ref = found.version, found.ref  # read now: a rollback expires `found`
        savepoint = await self.session.begin_nested()
        try:
            written = await objects.update(
                self.session,
                spec,
                found.id,
                patch,
                geometry,
                before,
                self.principal.as_actor,
                self.scope,
            )
        except BaseException:
            await savepoint.rollback()
            raise
        if written.version == before:
            await savepoint.commit()
            return result
        if row.version is not None and row.version != before:
            await savepoint.rollback()
            raise _Refused(
                [
                    (
                        "version",
                        f"{ref} changed since this file was made (version {row.version}, "
                        f"now {before}): export it again and redo the change",
                    )
                ]
            )
        await savepoint.commit()
        result.outcome = "update"
        return result

    async def _create(
        self, row: Row, values: dict[str, Any], geometry: ParsedGeometry | None
    ) -> RowResult:
        props = _validated(self.spec.create_schema, values)
        async with self.session.begin_nested():
            written = await objects.create(
                self.session, self.spec, props, geometry, self.principal.as_actor
            )
        props_out = written.feature["properties"]
        return RowResult(
            row.number,
            "create" if written.created else "unchanged",
            str(written.id),
            props_out.get("ref"),
            props_out.get("external_id"),
        )

    async def one(self, row: Row) -> RowResult:
        if row.problems:
            raise _Refused(row.problems)
        values = dict(row.properties)
        self._identify(row, values)
        geometry = await self._geometry(row)
        found = await self._existing(row, values)
        if found is not None:
            return await self._update(row, found, geometry)
        return await self._create(row, values, geometry)

    async def run(self, rows: list[Row], *, dry_run: bool) -> Report:
        report = Report(self.spec.path, dry_run, [])
        await driver(self.session)  # one transaction for the whole file (see the module's doc)
        for row in rows:
            try:
                result = await self.one(row)
            except _Refused as e:
                result = RowResult(row.number, "refused")
                result.errors = [{"field": f, "msg": m} for f, m in e.problems]
            except ProblemError as e:
                result = RowResult(row.number, "refused")
                result.errors = [{"field": f, "msg": m} for f, m in _problems(e)]
            except sa_exc.DBAPIError as e:
                if database_unreachable(e):
                    raise
                result = RowResult(row.number, "refused")
                reason = str(e.orig).splitlines()[0] if e.orig else "refused"
                result.errors = [{"field": "row", "msg": f"the database refused it: {reason}"}]
            report.results.append(result)
        if dry_run or report.refused:
            await self.session.rollback()
            if dry_run:
                for r in report.results:  # nothing was created: no id, no reference yet
                    if r.outcome == "create":
                        r.id = r.ref = None
        else:
            await self.session.commit()
            report.written = True
        return report


def problems_of(report: Report) -> list[dict[str, Any]]:
    """The refused rows' problems as a problem+json `errors` list, each located by row and
    field."""
    return [
        {"loc": ["row", r.row, e["field"]], "msg": e["msg"]}
        for r in report.refused
        for e in r.errors
    ]
