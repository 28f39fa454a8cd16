"""One error type, turned into RFC 9457 problem+json in one place."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://sitcen.safe.brussels/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


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
        }
        title = titles.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        return problem_response(
            ProblemError(exc.status_code, title, detail, headers=dict(exc.headers or {})),
            request.url.path,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            ProblemError(
                500, "Internal error", "the server failed; nothing was changed", type_="internal"
            ),
            request.url.path,
        )
