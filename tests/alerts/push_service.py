"""A local push service: the receiving side of RFC 8030, with the checks a real one makes, and
the browser's half (its key pair and auth secret) to decrypt what it received (RFC 8291).

It runs in its own thread on 127.0.0.1, so no request leaves the machine. Each device has a
path of its own (`/push/<name>`) and a script of answers (e.g. 503, then 429 with Retry-After,
then 201). Every request is recorded with what was checked:

- `Authorization: vapid t=<JWT>, k=<public key>` (RFC 8292 §2-3): the JWT is ES256, signed by
  the key `k` names, `aud` is this service's origin, `exp` in the future and at most 24 h away,
  `sub` a mailto: or https: URL;
- `TTL` (RFC 8030 §5.2) present, a non-negative integer; `Urgency` (§5.3) one of its values;
- `Content-Encoding: aes128gcm` (RFC 8188/8291).
"""

from __future__ import annotations

import base64
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import http_ece
import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.threaded import ThreadedServer

URGENCIES = {"very-low", "low", "normal", "high"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_problems(header: str, origin: str, now: float) -> tuple[list[str], str | None]:
    """What is wrong with a VAPID Authorization header (none: valid), and the key it names."""
    if not header.startswith("vapid "):
        return [f"not a vapid authorization: {header[:40]!r}"], None
    params = {}
    for part in header[len("vapid ") :].split(","):
        name, _, value = part.strip().partition("=")
        params[name] = value
    token, key = params.get("t", ""), params.get("k", "")
    try:
        head, claims, signature = token.split(".")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    except ValueError as e:
        return [f"malformed t or k: {e}"], None
    problems = []
    if orjson.loads(unb64url(head)).get("alg") != "ES256":
        problems.append("alg is not ES256")
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        problems.append("the JWT's signature does not verify with k")
    body = orjson.loads(unb64url(claims))
    if body.get("aud") != origin:
        problems.append(f"aud {body.get('aud')!r} is not {origin!r}")
    if not now < int(body.get("exp", 0)) <= now + 86_400:
        problems.append(f"exp {body.get('exp')} not within 24 h")
    if not str(body.get("sub", "")).startswith(("mailto:", "https://")):
        problems.append(f"sub {body.get('sub')!r}")
    return problems, key


@dataclass
class Device:
    """A browser's push subscription: the keys it made (RFC 8291) and its push service path."""

    name: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # then 201
    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def subscription(self) -> dict[str, Any]:
        """What `PushSubscription.toJSON()` gives the page."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)},
        }

    def decrypt(self, body: bytes) -> dict[str, Any]:
        """The browser's side: the message decrypted with the device's private key and auth
        secret (http_ece, RFC 8188 aes128gcm with the RFC 8291 key derivation)."""
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return dict(orjson.loads(plain))

    @property
    def taken(self) -> list[dict[str, Any]]:
        """The requests answered 201."""
        return [r for r in self.requests if r["status"] == 201]


class PushService(ThreadedServer):
    def __init__(self) -> None:
        super().__init__(
            Starlette(routes=[Route("/push/{name}", self._receive, methods=["POST"])]),
            "push service",
        )
        self.origin = f"http://127.0.0.1:{self.port}"
        self.devices: dict[str, Device] = {}
        self._lock = threading.Lock()

    def device(self, *answers: int | tuple[int, dict[str, str]]) -> Device:
        """A new browser subscription; its push service answers `answers` first, then 201."""
        name = uuid.uuid4().hex[:12]
        script = [a if isinstance(a, tuple) else (a, {}) for a in answers]
        device = Device(
            name,
            f"{self.origin}/push/{name}",
            ec.generate_private_key(ec.SECP256R1()),
            os.urandom(16),
            script,
        )
        self.devices[name] = device
        return device

    async def _receive(self, request: Request) -> Response:
        device = self.devices.get(request.path_params["name"])
        if device is None:
            return Response(status_code=404)
        body = await request.body()
        problems, key = vapid_problems(
            request.headers.get("authorization", ""), self.origin, time.time()
        )
        ttl = request.headers.get("ttl", "")
        if not ttl.isdigit():
            problems.append(f"TTL {ttl!r}")
        urgency = request.headers.get("urgency", "normal")
        if urgency not in URGENCIES:
            problems.append(f"Urgency {urgency!r}")
        if request.headers.get("content-encoding") != "aes128gcm":
            problems.append(f"Content-Encoding {request.headers.get('content-encoding')!r}")
        with self._lock:
            status, headers = device.answers.pop(0) if device.answers else (201, {})
            if problems:
                status, headers = 400, {}
            device.requests.append(
                {
                    "at": time.monotonic(),
                    "status": status,
                    "problems": problems,
                    "vapid_key": key,
                    "ttl": int(ttl) if ttl.isdigit() else None,
                    "urgency": urgency,
                    "topic": request.headers.get("topic"),
                    "body": body,
                }
            )
        return Response(status_code=status, headers=headers)
