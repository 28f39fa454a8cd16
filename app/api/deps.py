"""Request-scoped dependencies: the instance's runtime, the session, the caller, and common query
parameters."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.requests import HTTPConnection
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import audit, errors
from app.auth.models import User
from app.auth.permissions import may
from app.auth.principal import Principal
from app.auth.tokens import authenticate
from app.domain.enums import Language, Severity
from app.domain.objects import ListFilter
from app.domain.schema import TIME_RANGE, Props, Time
from app.domain.spec import EntitySpec
from app.errors import ProblemError, not_found, precondition_required, validation_problem
from app.geo.crs import CRS_NAMES, parse_crs
from app.middleware import READ_SESSION_SCOPE_KEY, SESSION_SCOPE_KEY
from app.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /api/auth/token")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Machine client key")


def runtime_of(connection: HTTPConnection) -> Runtime:
    """What runs in this instance (app.runtime), as the lifespan built it. A plain attribute
    read: the per-request paths below call it rather than add a dependency to every request."""
    runtime: Runtime = connection.app.state.runtime
    return runtime


async def _runtime(connection: HTTPConnection) -> Runtime:
    return runtime_of(connection)


# For routes and WebSocket endpoints alike.
RuntimeDep = Annotated[Runtime, Depends(_runtime)]


async def get_session(request: Request) -> AsyncSession:
    """The request's session, made at first use; `RequestSession` closes it once the request
    is answered, and what was not committed is then rolled back. Writes commit explicitly
    before answering (`await session.commit()`): committing after the answer could say 201 for
    a write that then fails."""
    session: AsyncSession | None = request.scope.get(SESSION_SCOPE_KEY)
    if session is None:
        session = request.scope[SESSION_SCOPE_KEY] = runtime_of(request).sessions()
    return session


Session = Annotated[AsyncSession, Depends(get_session)]


async def get_read_session(request: Request) -> AsyncSession:
    """The request's read-only session: on SITCEN_READ_DATABASE_URL (a replica, every
    transaction read-only) when it is set, else the request's own session on the primary.
    Only for reads that need not see the latest writes, the caller's own included (the OGC
    API Features items, the exports): a replica lags. Authentication and everything that
    writes stay on `Session`. Closed with the request like `Session`."""
    runtime = runtime_of(request)
    if runtime.read_engine is None or runtime.read_sessions is None:
        return await get_session(request)
    session: AsyncSession | None = request.scope.get(READ_SESSION_SCOPE_KEY)
    if session is None:
        session = request.scope[READ_SESSION_SCOPE_KEY] = runtime.read_sessions()
    return session


ReadSession = Annotated[AsyncSession, Depends(get_read_session)]


async def current_principal(
    request: Request,
    session: Session,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    runtime = runtime_of(request)
    token = bearer.credentials if bearer and bearer.scheme.lower() == "bearer" else None
    principal = await authenticate(
        session, runtime.settings, runtime.key_cache, api_key=api_key, token=token
    )
    if session.info.pop("key_used", False):
        await session.commit()  # keeps the last-used time even when the request only reads
    request.state.principal = principal
    return principal


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def forbid(request: Request, principal: Principal, action: str, detail: str) -> ProblemError:
    """A 403 for `action`, recorded in the audit trail (in its own transaction: the request's
    own is rolled back)."""
    await audit.record_now(
        runtime_of(request).engine,
        audit.AuditKind.permission_refused,
        subject=principal.actor,
        ip=client_ip(request),
        detail={"action": action, "method": request.method, "path": request.url.path},
    )
    return errors.forbidden(detail, action)


async def enforce(request: Request, principal: Principal, action: str) -> None:
    """Refuse (403, audited) what the permission table does not allow this principal."""
    if may(principal, action):
        return
    why = (
        f"API key {principal.name} is read-only"
        if principal.read_only
        else f"role {principal.role.value} may not {action}"
    )
    raise await forbid(request, principal, action, why)


async def reader_language(
    session: Session,
    principal: Annotated[Principal, Depends(current_principal)],
    lang: Annotated[
        Language | None,
        Query(
            description="the language to read it in; by default the reader's own, else the "
            "first of Accept-Language spoken here (fr, nl, en), else French"
        ),
    ] = None,
    accept_language: Annotated[str | None, Header(max_length=200)] = None,
) -> Language:
    """The language a printout (fiche, SITREP, hotspot fiche) is written in for its reader."""
    if lang is not None:
        return lang
    if principal.kind == "user":
        own = await session.scalar(select(User.language).where(User.username == principal.name))
        if own is not None and own in Language.__members__:
            return Language(own)
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in Language.__members__:
            return Language(code)
    return Language.fr


ReaderLanguage = Annotated[Language, Depends(reader_language)]


def require(action: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that lets the request through only if the permission table allows it.

    The action is kept on the dependency (`.action`) so tests can check every route against
    the table."""

    async def _check(
        request: Request, principal: Annotated[Principal, Depends(current_principal)]
    ) -> Principal:
        await enforce(request, principal, action)
        return principal

    _check.__name__ = f"require_{action.replace(':', '_')}"
    _check.action = action  # type: ignore[attr-defined]
    return _check


async def check_key_scope(
    request: Request, principal: Principal, entity: str, props: Props
) -> None:
    """An API key writes only its object types, and only under its own `source`."""
    if principal.kind != "apikey":
        return
    if principal.entities is not None and entity not in principal.entities:
        raise await forbid(
            request,
            principal,
            f"{entity}:write",
            f"API key {principal.name} may not write {entity} objects",
        )
    source = getattr(props, "source", None)
    if source is not None and source != principal.source:
        raise await forbid(
            request,
            principal,
            f"{entity}:source",
            f"API key {principal.name} writes with source {principal.source!r} only",
        )


async def require_close_if_closing(
    request: Request, principal: Principal, spec: EntitySpec, props: Props
) -> None:
    """Ending an object (closing, cancelling, lifting) is its own action in the table."""
    field = spec.status_field
    if field and field in props.model_fields_set and getattr(props, field) in spec.closing:
        await enforce(request, principal, f"{spec.entity.value}:close")


async def crs_param(
    crs: Annotated[
        str | None,
        Query(
            description="EPSG:4326 (default), EPSG:31370 or EPSG:3812",
            json_schema_extra={"enum": list(CRS_NAMES)},
        ),
    ] = None,
) -> str:
    return parse_crs(crs)


# A number as JSON writes one: what float() would also take (inf, nan, 1_000, spaces) is not.
NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
BBOX_PATTERN = rf"^{NUMBER},{NUMBER},{NUMBER},{NUMBER}$"
_NUMBER = re.compile(NUMBER)


def finite_number(text: str) -> float | None:
    """The number `text` writes, if it is one and finite (1e999 is written like one, and is
    not)."""
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


async def bbox_param(
    bbox: Annotated[
        str | None,
        Query(
            description="minx,miny,maxx,maxy: four finite numbers, min < max (WGS 84 lon/lat, "
            "or in bbox-crs)",
            json_schema_extra={"pattern": BBOX_PATTERN},
        ),
    ] = None,
    bbox_crs: Annotated[
        str | None,
        Query(
            alias="bbox-crs",
            description="CRS of bbox: EPSG:4326 (default), EPSG:31370 or EPSG:3812",
            json_schema_extra={"enum": list(CRS_NAMES)},
        ),
    ] = None,
) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    problem = validation_problem(
        [
            {
                "loc": ["query", "bbox"],
                "msg": "expected 4 finite numbers minx,miny,maxx,maxy with min < max",
            }
        ]
    )
    numbers = [finite_number(p) for p in bbox.split(",")]
    if len(numbers) != 4 or None in numbers:
        raise problem
    parts = tuple(n for n in numbers if n is not None)
    if not (parts[0] < parts[2] and parts[1] < parts[3]):
        raise problem
    crs = parse_crs(bbox_crs, "bbox-crs")
    if crs != "EPSG:4326":
        from shapely.geometry import box

        from app.geo.crs import transform

        parts = tuple(transform(box(*parts), crs, "EPSG:4326").bounds)
        if not all(map(math.isfinite, parts)):
            raise problem
    return parts[0], parts[1], parts[2], parts[3]


_time: TypeAdapter[datetime] = TypeAdapter(Time)


def time_query(description: str) -> Any:
    """A time parameter, described as parse_time reads it."""
    return Query(
        description=f"{description}: an RFC 3339 time with a timezone, {TIME_RANGE}",
        json_schema_extra={"format": "date-time"},
    )


def uuid_query(description: str) -> Any:
    return Query(description=description, json_schema_extra={"format": "uuid"})


def values_query(description: str, values: Iterable[str] | None) -> Any:
    """A comma-separated list of known values, described as parse_list reads it; hidden from
    the description where there are none to give (every value would be refused)."""
    names = sorted(values or ())
    one = "(?:" + "|".join(re.escape(name) for name in names) + ")"
    return Query(
        description=f"{description}, comma-separated",
        json_schema_extra={"pattern": f"^{one}(?:,{one})*$"},
        include_in_schema=bool(names),
    )


def parse_time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return _time.validate_python(value)
    except ValidationError as e:
        out_of_range = e.errors()[0]["type"] == "time_range"
        raise validation_problem(
            [
                {
                    "loc": ["query", name],
                    "msg": e.errors()[0]["msg"]
                    if out_of_range
                    else "an ISO 8601 time with a timezone, e.g. 2026-09-26T10:00:00+02:00",
                }
            ]
        ) from None


def parse_list(
    value: str | None, name: str, allowed_values: set[str] | None = None
) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if allowed_values is not None:
        bad = [v for v in items if v not in allowed_values]
        if bad:
            raise validation_problem(
                [
                    {
                        "loc": ["query", name],
                        "msg": f"unknown value {bad[0]!r}; "
                        f"one of {', '.join(sorted(allowed_values))}",
                    }
                ]
            )
    return items or None


def parse_uuid(value: str, name: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise not_found(name, detail=f"{value!r} is not a valid {name}") from None


def if_match(value: str | None, *, required: bool) -> int | None:
    """Versions travel as ETags: `"3"`, `W/"3"` or a bare `3`."""
    if value is None:
        if required:
            raise precondition_required(
                "send If-Match: <version> (the version you are editing) so that no "
                "concurrent change is overwritten"
            )
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise validation_problem(
            [{"loc": ["header", "If-Match"], "msg": 'expected the object version, e.g. "3"'}]
        )
    return int(raw)


IfMatch = Annotated[
    str | None, Header(alias="If-Match", description='Version being edited, e.g. "3"')
]


# The longest `q` a list takes, REST and OGC alike: a search phrase, not a document.
Q_MAX_LENGTH = 200


def list_filter(
    spec: EntitySpec,
    *,
    bbox: tuple[float, float, float, float] | None,
    start: datetime | None,
    end: datetime | None,
    status: str | None,
    category: str | None,
    kind: str | None,
    municipality: str | None,
    police_zone: str | None,
    q: str | None,
    exercise: bool | None,
    subject: str | None,
    activation: str | None = None,
    zone: str | None = None,
    severity: str | None = None,
) -> ListFilter:
    """The list filters of a collection's query string, checked against its enumerations: the
    REST lists and the OGC API items (app/api/features.py) filter alike."""
    status_values = {s.value for s in spec.status_enum} if spec.status_enum else set()
    kind_values = {k.value for k in spec.kind_enum} if spec.kind_enum else set()
    return ListFilter(
        bbox=bbox,
        start=start,
        end=end,
        status=parse_list(status, "status", status_values),
        kind=parse_list(
            category if category is not None else kind,
            "category" if category is not None else "kind",
            kind_values,
        ),
        severity=parse_list(severity, "severity", {s.value for s in Severity}),
        municipality=parse_list(municipality, "municipality"),
        police_zone=parse_list(police_zone, "police_zone"),
        q=q,
        exercise=exercise,
        subject=parse_uuid(subject, "subject") if subject else None,
        activation=parse_uuid(activation, "activation") if activation else None,
        zone=parse_uuid(zone, "zone") if zone else None,
    )
