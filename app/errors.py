"""One error type, turned into RFC 9457 problem+json in one place."""

from __future__ import annotations

import errno
import logging
import socket
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match, Mount

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


class ProblemError(Exception):
    """A failure the client should see: status, a short title and a specific detail."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        type_: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = PROBLEM_TYPE_BASE + (type_ or title.lower().replace(" ", "-"))
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
        status,
        "Validation failed" if status == 422 else "Bad request",
        detail
        or f"{where}: {first['msg']}"
        + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
        type_="validation",
        errors=errors,
    )


def not_found(what: str, ident: object) -> ProblemError:
    return ProblemError(404, "Not found", f"no {what} with id {ident}", type_="not-found")


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
        titles = {
            404: "Not found",
            405: "Method not allowed",
            401: "Unauthorized",
            403: "Forbidden",
            413: "Payload too large",
        }
        title = titles.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else title
        headers = dict(exc.headers or {})
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request)) or headers.get("Allow", "")
            detail = f"{request.method} is not allowed here; use {headers['Allow']}"
        return problem_response(
            ProblemError(exc.status_code, title, detail, headers=headers), request.url.path
        )

    async def _database(request: Request, exc: Exception) -> Response:
        # Handled here, below the server-error middleware: that one re-raises after answering,
        # and uvicorn then closes the connection, which a client retrying on it would see as a
        # second failure.
        if not database_unreachable(exc):
            raise exc
        log.warning("database unreachable on %s %s: %s", request.method, request.url.path, exc)
        return problem_response(
            ProblemError(
                503,
                "Database unavailable",
                "the database cannot be reached right now; retry in a few seconds. A write "
                "cut off by this may or may not have been saved: retry it with the same "
                "Idempotency-Key or external_id (creates) or If-Match (updates), which "
                "never applies it twice",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            ),
            request.url.path,
        )

    for kind in _DATABASE_ERROR_TYPES:
        app.add_exception_handler(kind, _database)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            ProblemError(
                500, "Internal error", "the server failed; nothing was changed", type_="internal"
            ),
            request.url.path,
        )
