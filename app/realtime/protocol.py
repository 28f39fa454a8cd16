"""The /ws wire protocol: client messages, the subscription filter, close codes, server messages.

docs/realtime.md is the reference for client developers; keep the two in step.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from app.domain.enums import (
    ActivationLevel,
    Entity,
    EventKind,
    IncidentCategory,
    LogbookKind,
    Severity,
    ZoneKind,
)
from app.domain.schema import BIGINT_MAX, Input

# Client messages are small (a hello with a filter); anything bigger is a mistake or an attack.
MAX_CLIENT_MESSAGE = 64 * 1024
# RFC 6455 §5.5: a close frame's payload is at most 125 bytes, two of them for the code.
MAX_CLOSE_REASON = 123

CATEGORIES = frozenset(
    v.value
    for e in (IncidentCategory, EventKind, ZoneKind, ActivationLevel, LogbookKind)
    for v in e
)


class CloseCode(IntEnum):
    """Why the server closed a socket. 4000-4003: fix the client or its credentials first;
    4008-4009, 1011, 1012: reconnect with ``since`` = the last seq received."""

    BAD_HELLO = 4000
    UNAUTHENTICATED = 4001
    HELLO_TIMEOUT = 4002
    FORBIDDEN = 4003
    TOO_SLOW = 4008
    NO_PONG = 4009
    FEED_UNAVAILABLE = 1011
    SERVER_RESTART = 1012

    @property
    def reason(self) -> str:
        return _REASONS[self]


_REASONS = {
    CloseCode.BAD_HELLO: "bad hello",
    CloseCode.UNAUTHENTICATED: "unauthenticated",
    CloseCode.HELLO_TIMEOUT: "no hello in time",
    CloseCode.FORBIDDEN: "role may not read the change feed",
    CloseCode.TOO_SLOW: "too slow, resume with since",
    CloseCode.NO_PONG: "no pong in time, resume with since",
    CloseCode.FEED_UNAVAILABLE: "change feed unavailable, resume with since",
    CloseCode.SERVER_RESTART: "server restart, reconnect elsewhere with since",
}


def close_reason(code: CloseCode, detail: str | None = None) -> str:
    """The reason text of a close frame, cut to what the frame can carry."""
    text = f"{code.reason}: {detail}" if detail else code.reason
    raw = text.encode()
    if len(raw) <= MAX_CLOSE_REASON:
        return text
    return raw[: MAX_CLOSE_REASON - 3].decode(errors="ignore") + "..."


Code = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[0-9A-Za-z_-]+$")]


class Filter(BaseModel):
    """What a client wants to hear about. Every given criterion must hold; an absent one is
    no restriction. A criterion on a property an object does not have does not exclude it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entities: list[Entity] | None = Field(default=None, min_length=1)
    bbox: tuple[float, float, float, float] | None = None
    categories: list[str] | None = Field(default=None, min_length=1)
    min_severity: Severity | None = None
    municipalities: list[Code] | None = Field(default=None, min_length=1)
    police_zones: list[Code] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Filter:
        if self.bbox is not None:
            minx, miny, maxx, maxy = self.bbox
            if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
                raise ValueError(
                    "bbox must be [minx, miny, maxx, maxy] in WGS 84 lon/lat with min < max"
                )
        unknown = sorted(set(self.categories or ()) - CATEGORIES)
        if unknown:
            raise ValueError(
                f"unknown category {unknown[0]!r}; one of the incident categories or the kinds of "
                "events, zones, logbook entries or activation levels"
            )
        return self

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class Hello(Input):
    type: Literal["hello"]
    token: str = Field(min_length=1, max_length=4096)
    since: int | None = Field(default=None, ge=0, le=BIGINT_MAX)
    filter: Filter = Filter()


class Subscribe(Input):
    type: Literal["subscribe"]
    filter: Filter


class Ping(BaseModel):
    type: Literal["ping"]


class Pong(BaseModel):
    type: Literal["pong"]


class Ack(Input):
    type: Literal["ack"]
    alert: str = Field(min_length=1, max_length=64)


ClientMessage = Hello | Subscribe | Ping | Pong | Ack
_client_message: TypeAdapter[ClientMessage] = TypeAdapter(
    Annotated[ClientMessage, Field(discriminator="type")]
)
MESSAGE_TYPES = ("hello", "subscribe", "ping", "pong", "ack")


class ProtocolError(Exception):
    """A client message that cannot be acted on; `code` is the `error` message's code."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def parse(raw: str | bytes | None) -> ClientMessage:
    """One client frame as a typed message, or ProtocolError saying what is wrong with it."""
    if raw is None or isinstance(raw, bytes):
        raise ProtocolError("bad_json", "send JSON objects in text frames, not binary frames")
    if len(raw) > MAX_CLIENT_MESSAGE:
        raise ProtocolError("too_large", f"messages are limited to {MAX_CLIENT_MESSAGE} bytes")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ProtocolError("bad_json", "not JSON: send one JSON object per text frame") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_json", 'expected a JSON object with a "type"')
    kind = data.get("type")
    if kind not in MESSAGE_TYPES:
        raise ProtocolError(
            "unknown_type", f"unknown message type {kind!r}; one of {', '.join(MESSAGE_TYPES)}"
        )
    try:
        return _client_message.validate_python(data)
    except ValidationError as e:
        field, message = describe(e)
        raise ProtocolError("invalid", message, field=field) from None


def describe(error: ValidationError) -> tuple[str, str]:
    """The first problem of a validation error as (dotted field, readable message)."""
    first = error.errors(include_url=False)[0]
    loc = [str(p) for p in first["loc"]]
    # The discriminated union puts the message type first in the location; it is noise here.
    if loc and loc[0] in MESSAGE_TYPES:
        loc = loc[1:]
    field = ".".join(loc) or "message"
    message = str(first["msg"]).removeprefix("Value error, ")
    return field, f"{field}: {message}"


def encode(message: dict[str, Any]) -> str:
    """A server message as the text of one frame (text frames, since JSON is text)."""
    return orjson.dumps(message).decode()


def welcome(head: int, flt: Filter, ping_seconds: float) -> str:
    return encode(
        {"type": "welcome", "head": head, "filter": flt.wire(), "ping_seconds": ping_seconds}
    )


def reset(head: int, why: str) -> str:
    return encode({"type": "reset", "head": head, "reason": why})


def live(seq: int) -> str:
    return encode({"type": "live", "seq": seq})


def subscribed(flt: Filter, seq: int) -> str:
    return encode({"type": "subscribed", "filter": flt.wire(), "seq": seq})


def ping(seq: int) -> str:
    """A heartbeat that also tells a filtered client how far its stream has come: every change
    up to `seq` that passes its filter has been sent before this ping."""
    return encode({"type": "ping", "seq": seq})


def error(code: str, message: str, field: str | None = None) -> str:
    body: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if field:
        body["field"] = field
    return encode(body)


PONG = encode({"type": "pong"})
