"""deploy/haproxy.cfg, run by the haproxy binary itself in front of two local instances: HTTP
and /ws go through it, both instances get WebSockets, and when one stops (SIGTERM) its clients
reconnect through the proxy to the other and HTTP goes on being answered."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from app.devserver import free_port
from app.realtime.protocol import CloseCode
from app.settings import PROJECT_ROOT
from tests.conftest import ARTIFACTS, TIMEOUT, Server, auth, eventually
from tests.realtime.conftest import metrics, open_feed, write

# Debian puts it in /usr/sbin, which a CI user's PATH may lack.
HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
CONFIG = PROJECT_ROOT / "deploy" / "haproxy.cfg"

pytestmark = pytest.mark.skipif(
    HAPROXY is None, reason="the haproxy binary is not installed (scripts/setup.sh installs it)"
)


def _address(server: Server) -> str:
    return server.url.removeprefix("http://")


def test_the_configuration_is_valid() -> None:
    env = {
        "SITCEN_PROXY_BIND": "127.0.0.1:1",
        "SITCEN_BACKEND_1": "127.0.0.1:2",
        "SITCEN_BACKEND_2": "127.0.0.1:3",
    }
    checked = subprocess.run(
        [str(HAPROXY), "-c", "-f", str(CONFIG)], env=env, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.fixture
def proxy_for() -> Iterator[Callable[[Server, Server], Server]]:
    """Runs haproxy with deploy/haproxy.cfg in front of two instances; a Server-like handle
    whose url is the proxy's."""
    running: list[subprocess.Popen[bytes]] = []

    def start(first: Server, second: Server) -> Server:
        port = free_port()
        env = {
            "SITCEN_PROXY_BIND": f"127.0.0.1:{port}",
            "SITCEN_BACKEND_1": _address(first),
            "SITCEN_BACKEND_2": _address(second),
        }
        ARTIFACTS.mkdir(exist_ok=True)
        log = ARTIFACTS / f"haproxy-{port}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(HAPROXY), "-db", "-f", str(CONFIG)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        running.append(process)
        return Server(f"http://127.0.0.1:{port}", env, process, log)

    yield start
    for process in running:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


async def _connected(server: Server) -> int:
    return int((await metrics(server))["connected"])


async def test_http_and_websockets_through_the_proxy_and_an_instance_stopped(
    extra_servers: Callable[..., Any],
    server: Server,
    proxy_for: Callable[[Server, Server], Server],
) -> None:
    first, second = await asyncio.gather(extra_servers("proxied-1"), extra_servers("proxied-2"))
    proxy = proxy_for(first, second)
    proxy.tokens = server.tokens
    async with httpx.AsyncClient(base_url=proxy.url, headers=auth(server, "op"), timeout=30) as c:

        async def both_ready() -> bool:
            assert proxy.process.poll() is None, proxy.log.read_text()
            # Both instances in service: requests answered, and leastconn will use both.
            try:
                answers = [(await c.get("/api/ready")).status_code for _ in range(4)]
            except httpx.TransportError:
                return False
            return answers == [200] * 4

        await eventually(both_ready, "the proxy to find its instances ready", TIMEOUT * 3)
        # WebSockets through the proxy, spread over both instances (least connections).
        feeds = [await open_feed(proxy) for _ in range(4)]
        for feed in feeds:
            feed.read_in_background()
        assert [await _connected(first), await _connected(second)] == [2, 2]
        created = await write(c)
        for feed in feeds:
            await feed.wait_for(lambda f: any(ch["id"] == created["id"] for ch in f.changes))

        # One instance stops: its clients are told to go elsewhere, and find the other.
        first.process.send_signal(signal.SIGTERM)
        await eventually(
            lambda: sum(f.closed is not None for f in feeds) == 2, "its two clients sent away"
        )
        sent_away = [f for f in feeds if f.closed is not None]
        codes = [f.closed.rcvd.code if f.closed and f.closed.rcvd else None for f in sent_away]
        assert codes == [CloseCode.SERVER_RESTART] * 2, codes
        since = min(f.changes[-1]["seq"] for f in sent_away)
        moved = [await open_feed(proxy, since=since) for _ in sent_away]
        for feed in moved:
            feed.read_in_background()
        # Every HTTP request meanwhile is answered: a refused connection is retried on the
        # other instance by the proxy.
        for _ in range(20):
            r = await c.get("/api/incidents", params={"limit": 1})
            assert r.status_code == 200, r.text
        await asyncio.to_thread(first.process.wait, TIMEOUT * 3)
        assert await _connected(second) == 4, "the clients sent away are on the other instance"
        later = await write(c)
        for feed in (*moved, *(f for f in feeds if f.closed is None)):
            await feed.wait_for(lambda f: any(ch["id"] == later["id"] for ch in f.changes))
        for feed in (*feeds, *moved):
            await feed.close()
