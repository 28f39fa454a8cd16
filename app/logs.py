"""The service's logs: one JSON object per line for the log shipper (Loki, Elasticsearch,
journald), or plain lines for a person at a terminal in local mode (SITCEN_LOG_FORMAT).

Every line written while a request is handled carries its id (`request_id`), the one the answer
gives in `X-Request-Id`: the middleware (app.middleware.RequestLog) sets it in a context
variable, which the tasks the request starts inherit (a WebSocket connection's sender and
receiver), and a logging filter copies it onto each record. Lines of the background loops carry
none.

The JSON lines are written by python-json-logger, a formatter for the standard library's
logging: every logger of the service and of uvicorn goes through it unchanged, with `extra`
fields as JSON fields.
"""

from __future__ import annotations

import logging
import random
import re
from contextvars import ContextVar
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS

LogFormat = Literal["json", "text"]

request_id: ContextVar[str | None] = ContextVar("sitcen_request_id", default=None)

# What an incoming X-Request-Id from a proxy may be to be kept (nginx's $request_id is 32 hex
# digits, HAProxy's unique-id and a UUID fit too): anything else, or longer, gets an id of ours,
# so a client cannot write what it likes into every log line of its request.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")


def accept_request_id(incoming: bytes | None) -> str:
    """The id of a request: the proxy's when well-formed, else a new one."""
    if incoming is not None:
        text = incoming.decode("latin-1")
        if _WELL_FORMED.fullmatch(text):
            return text
    # 128 random bits as uuid4 has, without its system call per request (5 µs): an id
    # needs to be unique, not unguessable.
    return f"{random.getrandbits(128):032x}"


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class NoWebSocketAccess(logging.Filter):
    """Drops uvicorn's own lines of a WebSocket's handshake and of its opening and closing
    (logged at INFO on `uvicorn.error` whatever its access log setting): RequestLog writes the
    WebSocket's lines, with its route, principal, close code and id."""

    HANDSHAKE = '%s - "WebSocket %s"'
    STATES = frozenset({"connection open", "connection closed"})

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.msg
        return not (isinstance(msg, str) and (msg.startswith(self.HANDSHAKE) or msg in self.STATES))


class TextFormatter(logging.Formatter):
    """`time level [request id] logger: message`: the request line's message says its fields
    in words (`GET /api/incidents 201 12.3 ms by op`)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return super().format(record)


def logging_config(log_format: LogFormat, level: str) -> dict[str, Any]:
    """The `logging.config.dictConfig` of `sitcen serve`, given to uvicorn as its log_config:
    every logger (the service's, uvicorn's) writes to stderr through one formatter at `level`.
    uvicorn's access log is off: RequestLog writes the one line per request, with what uvicorn's
    cannot know (route template, principal, request id)."""
    formatter: dict[str, Any] = (
        {
            "()": "pythonjsonlogger.orjson.OrjsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
            # uvicorn's lines carry their text again with terminal colours: not for a shipper.
            "reserved_attrs": [*RESERVED_ATTRS, "color_message"],
        }
        if log_format == "json"
        else {"()": "app.logs.TextFormatter"}
    )
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "app.logs.RequestIdFilter"},
            "no_websocket_access": {"()": "app.logs.NoWebSocketAccess"},
        },
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {
                "handlers": [],
                "level": level,
                "propagate": True,
                "filters": ["no_websocket_access"],
            },
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
