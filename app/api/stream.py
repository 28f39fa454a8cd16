"""`/ws`: the live stream's edge. The protocol, from the hello on, is app.realtime.ws's; this
hands it the socket and what this instance runs (docs/realtime.md)."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from app.api.deps import RuntimeDep
from app.realtime.ws import Connection

router = APIRouter()


@router.websocket("/ws")
async def stream(websocket: WebSocket, runtime: RuntimeDep) -> None:
    await Connection(
        websocket, runtime.hub, runtime.sessions, runtime.settings, runtime.key_cache
    ).run()
