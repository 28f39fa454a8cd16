"""One error type, turned into RFC 9457 problem+json in one place."""

from __future__ import annotations

import errno
import logging
import socket
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match, Mount

from app.logs import request_id

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://sitcen.safe.brussels/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

# SQLSTATE classes that mean "the database is not there", not "this request is wrong":
# 08 connection exception; 57P01-04 shutdown, crash, starting up, dropped; 53300 too many
# connections.
_UNREACHABLE_SQLSTATES = ("08", "57P", "53300")
_UNREACHABLE_ERRNOS = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN}
_UNREACHABLE_TYPES = (sa_exc.TimeoutError, ConnectionError, TimeoutError, socket.gaierror)
# The errors a lost database shows up as, by the exception's own class (how handlers are
# found); database_unreachable() then tells an outage from a wrong statement.
_DATABASE_ERROR_TYPES: tuple[type[Exception], ...] = (
    sa_exc.DBAPIError,
    sa_exc.TimeoutError,
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class ProblemType:
    """One kind of failure the service reports: its URI's last segment, usual status and
    title (RFC 9457: the same title on every occurrence). docs/problems.md documents each; the
    type's URI leads there."""

    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        return PROBLEM_TYPE_BASE + self.slug


PROBLEM_TYPES: dict[str, ProblemType] = {
    t.slug: t
    for t in (
        ProblemType("validation", 422, "Validation failed"),
        ProblemType("invalid-geometry", 422, "Invalid geometry"),
        ProblemType("unsupported-crs", 400, "Unsupported CRS"),
        ProblemType("password-policy", 422, "Weak password"),
        ProblemType("idempotency-key-reused", 422, "Idempotency key reused"),
        ProblemType("bad-request", 400, "Bad request"),
        ProblemType("unauthorized", 401, "Unauthorized"),
        ProblemType("forbidden", 403, "Forbidden"),
        ProblemType("not-found", 404, "Not found"),
        ProblemType("method-not-allowed", 405, "Method not allowed"),
        ProblemType("already-exists", 409, "Already exists"),
        ProblemType("conflict", 409, "Conflict"),
        ProblemType("transition", 409, "Transition not allowed"),
        ProblemType("stale-version", 412, "Version mismatch"),
        ProblemType("payload-too-large", 413, "Payload too large"),
        ProblemType("header-too-large", 431, "Request header fields too large"),
        ProblemType("unsupported-media-type", 415, "Unsupported file type"),
        ProblemType("no-preview", 422, "No preview"),
        ProblemType("precondition-required", 428, "Precondition required"),
        ProblemType("locked-out", 429, "Too many failed logins"),
        ProblemType("malformed-cap", 400, "Malformed CAP"),
        ProblemType("cap-unknown-reference", 404, "Unknown reference"),
        ProblemType("cap-identifier-reused", 409, "Identifier reused"),
        ProblemType("cap-conflict", 409, "Changed since the feed wrote it"),
        ProblemType("cap-object-gone", 410, "Object deleted"),
        ProblemType("pruned", 410, "No longer kept"),
        ProblemType("invalid-link", 400, "Invalid link"),
        ProblemType("internal", 500, "Internal error"),
        ProblemType("reference-layers-missing", 503, "Reference layers missing"),
        ProblemType("database-unavailable", 503, "Database unavailable"),
        ProblemType("not-ready", 503, "Not ready"),
        ProblemType("http-error", 400, "HTTP error"),
    )
}


class ProblemError(Exception):
    """A failure the client should see: its type (one of PROBLEM_TYPES), a specific detail and
    what else helps the client act. Built by the named constructors below, one per type."""

    def __init__(
        self,
        kind: str,
        detail: str,
        *,
        status: int | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        known = PROBLEM_TYPES[kind]  # an unknown kind is a programming error, not a client's
        self.kind = kind
        self.status = status or known.status
        self.title = known.title
        self.detail = detail
        self.type = known.uri
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


def database_unreachable(error: BaseException) -> bool:
    """Whether `error` (or what caused it) says the database could not be reached: a refused
    or lost connection, a server shutting down or starting, a pool that found no connection in
    time. Such a request is answered 503, which clients and proxies know to retry."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, sa_exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, _UNREACHABLE_TYPES):
            return True
        if isinstance(cause, OSError) and cause.errno in _UNREACHABLE_ERRNOS:
            return True
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNREACHABLE_SQLSTATES):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def validation_problem(
    errors: list[dict[str, Any]], detail: str | None = None, status: int = 422
) -> ProblemError:
    """What was wrong, and where: 422 for a request's content, 400 where a standard asks it
    for query parameters (OGC API – Features, and text no person types)."""
    first = errors[0] if errors else {"loc": [], "msg": "invalid"}
    where = ".".join(str(p) for p in first["loc"]) or "request"
    return ProblemError(
        "validation",
        detail
        or f"{where}: {first['msg']}"
        + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
        status=status,
        errors=errors,
    )


def import_refused(
    detail: str, errors: list[dict[str, Any]], report: dict[str, Any]
) -> ProblemError:
    """A bulk import with refused rows (app/exchange): each problem located by row and field,
    and the whole report of the run, which wrote nothing."""
    return ProblemError("validation", detail, errors=errors, report=report)


def invalid_geometry(loc: list[Any], msg: str) -> ProblemError:
    return ProblemError(
        "invalid-geometry", f"{'.'.join(map(str, loc))}: {msg}", errors=[{"loc": loc, "msg": msg}]
    )


def unsupported_crs(where: str, value: str, supported: list[str]) -> ProblemError:
    return ProblemError(
        "unsupported-crs",
        f"{where}={value!r} is not supported; use one of {', '.join(supported)}",
        errors=[{"loc": ["query", where], "msg": f"one of {', '.join(supported)}"}],
    )


def weak_password(problem: str) -> ProblemError:
    return ProblemError(
        "password-policy", problem, errors=[{"loc": ["body", "password"], "msg": problem}]
    )


def idempotency_key_reused(key: str) -> ProblemError:
    return ProblemError(
        "idempotency-key-reused",
        f"Idempotency-Key {key!r} was already used for a different request; use a new key",
    )


def unauthorized(detail: str) -> ProblemError:
    return ProblemError("unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


def forbidden(detail: str, action: str | None = None) -> ProblemError:
    if action is None:
        return ProblemError("forbidden", detail)
    return ProblemError("forbidden", detail, action=action)


def not_found(what: str, ident: object = None, *, detail: str | None = None) -> ProblemError:
    """404, the same for what does not exist and what the caller may not see: `no <what> with
    id <ident>`, or the `detail` given."""
    return ProblemError("not-found", detail or f"no {what} with id {ident}")


def already_exists(detail: str) -> ProblemError:
    return ProblemError("already-exists", detail)


def conflict(detail: str, **extra: Any) -> ProblemError:
    return ProblemError("conflict", detail, **extra)


def transition_not_allowed(
    detail: str, *, field: str, current: str, allowed: list[str]
) -> ProblemError:
    return ProblemError("transition", detail, field=field, current=current, allowed=allowed)


def stale_version(detail: str, *, current: dict[str, Any], version: int) -> ProblemError:
    return ProblemError("stale-version", detail, current=current, headers={"ETag": f'"{version}"'})


def payload_too_large(
    detail: str, *, max_bytes: int | None = None, max_rows: int | None = None
) -> ProblemError:
    # The limit as a number too: a client says it in its user's language, not the detail's.
    limits: dict[str, Any] = {"max_bytes": max_bytes, "max_rows": max_rows}
    return ProblemError(
        "payload-too-large", detail, **{k: v for k, v in limits.items() if v is not None}
    )


def unsupported_media_type(detail: str, *, sniffed: str, allowed: list[str]) -> ProblemError:
    return ProblemError("unsupported-media-type", detail, sniffed=sniffed, allowed=allowed)


def no_preview(detail: str) -> ProblemError:
    return ProblemError("no-preview", detail)


def headers_too_large(detail: str) -> ProblemError:
    return ProblemError("header-too-large", detail)


def precondition_required(detail: str) -> ProblemError:
    return ProblemError("precondition-required", detail)


def locked_out(seconds: int) -> ProblemError:
    return ProblemError(
        "locked-out",
        f"too many failed logins; try again in {seconds} s or ask an administrator",
        headers={"Retry-After": str(seconds)},
    )


def malformed_cap(detail: str) -> ProblemError:
    return ProblemError("malformed-cap", detail)


def cap_unknown_reference(detail: str, references: list[str]) -> ProblemError:
    return ProblemError("cap-unknown-reference", detail, references=references)


def cap_identifier_reused(detail: str) -> ProblemError:
    return ProblemError("cap-identifier-reused", detail)


def cap_conflict(detail: str, **extra: Any) -> ProblemError:
    return ProblemError("cap-conflict", detail, **extra)


def cap_object_gone(detail: str) -> ProblemError:
    return ProblemError("cap-object-gone", detail)


def pruned(detail: str, oldest_at: str) -> ProblemError:
    return ProblemError("pruned", detail, oldest_at=oldest_at)


def invalid_link(detail: str) -> ProblemError:
    return ProblemError("invalid-link", detail)


def reference_layers_missing() -> ProblemError:
    return ProblemError(
        "reference-layers-missing", "no reference layers are loaded; run `sitcen reference load`"
    )


def database_unavailable() -> ProblemError:
    return ProblemError(
        "database-unavailable",
        "the database cannot be reached right now; retry in a few seconds. A write cut off by "
        "this may or may not have been saved: retry it with the same Idempotency-Key or "
        "external_id (creates) or If-Match (updates), which never applies it twice",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def not_ready(detail: str) -> ProblemError:
    return ProblemError("not-ready", detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def internal_error() -> ProblemError:
    return ProblemError("internal", "the server failed; nothing was changed")


# What Starlette and FastAPI themselves refuse (no route, wrong method, a form they cannot
# parse), by status.
_HTTP_KINDS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
}


def http_problem(status: int, detail: str, headers: dict[str, str] | None = None) -> ProblemError:
    return ProblemError(
        _HTTP_KINDS.get(status, "http-error"), detail, status=status, headers=headers
    )


def problem_response(problem: ProblemError, instance: str | None = None) -> Response:
    return Response(
        orjson.dumps(problem.body(instance), default=str),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


def _clean_loc(loc: tuple[Any, ...] | list[Any]) -> list[Any]:
    return [p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]


def pydantic_errors(raw: list[Any]) -> list[dict[str, Any]]:
    out = []
    for e in raw:
        msg = e.get("msg", "invalid")
        if e.get("type") == "extra_forbidden":
            msg = "unknown field"
        elif e.get("type") == "timezone_aware":
            msg = "time needs a timezone offset (e.g. 2026-09-26T10:00:00+02:00)"
        out.append({"loc": _clean_loc(e.get("loc", ())), "msg": msg, "type": e.get("type")})
    return out


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path: the router names only those of the first
    route matching it (POST /api/incidents, when GET is the list's). Mounts (the dashboard's
    and the docs' files) match whatever the method: their own answer says what they take."""
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    return [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    ]


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> Response:
        return problem_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return problem_response(
            validation_problem(pydantic_errors(list(exc.errors()))), request.url.path
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "refused"
        headers = dict(exc.headers or {})
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request)) or headers.get("Allow", "")
            detail = f"{request.method} is not allowed here; use {headers['Allow']}"
        return problem_response(http_problem(exc.status_code, detail, headers), request.url.path)

    async def _database(request: Request, exc: Exception) -> Response:
        # Handled here, below the server-error middleware: that one re-raises after answering,
        # and uvicorn then closes the connection, which a client retrying on it would see as a
        # second failure.
        if not database_unreachable(exc):
            raise exc
        log.warning("database unreachable on %s %s: %s", request.method, request.url.path, exc)
        return problem_response(database_unavailable(), request.url.path)

    for kind in _DATABASE_ERROR_TYPES:
        app.add_exception_handler(kind, _database)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        response = problem_response(internal_error(), request.url.path)
        # Answered outside the request log's middleware (app.middleware.RequestLog): the id
        # it gave the request, which this traceback's log line carries too.
        rid = request_id.get()
        if rid is not None:
            response.headers["X-Request-Id"] = rid
        return response
