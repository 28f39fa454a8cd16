"""The self-started local cluster: created, started, serving PostGIS, and stopped again."""

from __future__ import annotations

import asyncio
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from app import localdb


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PORT = _free_port()  # not a fixed one: a left-over cluster may hold it


@pytest.fixture
def local_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: as root the server runs as `postgres`, and a short path keeps the
    # unix socket under the kernel's length limit.
    path = Path(tempfile.mkdtemp(prefix="sitcen-localdb-"))
    try:
        yield path
    finally:
        localdb.stop_cluster(path)
        shutil.rmtree(path, ignore_errors=True)


async def _postgis_version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        version: str = await conn.fetchval("SELECT postgis_version()")
        return version
    finally:
        await conn.close()


def test_local_cluster_serves_a_postgis_database_and_stops(local_dir: Path) -> None:
    base_url = localdb.ensure_cluster(local_dir, PORT)
    assert base_url == f"postgresql://postgres@127.0.0.1:{PORT}"
    assert localdb.ensure_cluster(local_dir, PORT) == base_url, "a second call just returns"
    assert (local_dir / "pg" / "run" / f".s.PGSQL.{PORT}").is_socket()

    url = localdb.ensure_database(base_url, "sitcen_localdb_test")
    assert url == f"{base_url}/sitcen_localdb_test"
    assert localdb.ensure_database(base_url, "sitcen_localdb_test") == url
    assert asyncio.run(_postgis_version(url))

    localdb.drop_database(base_url, "sitcen_localdb_test")
    with pytest.raises(asyncpg.InvalidCatalogNameError):
        asyncio.run(_postgis_version(url))

    localdb.stop_cluster(local_dir)
    localdb.stop_cluster(local_dir)
    assert not (local_dir / "pg" / "data" / "postmaster.pid").exists()


def test_a_running_cluster_is_used_on_the_port_it_runs_on(local_dir: Path) -> None:
    first = localdb.ensure_cluster(local_dir, PORT)
    assert localdb.ensure_cluster(local_dir, PORT + 1) == first


def test_a_port_held_by_another_server_is_avoided(local_dir: Path) -> None:
    # E.g. a second checkout (CI's fresh clone) beside a developer's running cluster.
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        url = localdb.ensure_cluster(local_dir, taken)
    assert not url.endswith(f":{taken}")
    db = localdb.ensure_database(url, "port_check")
    localdb.drop_database(url, "port_check")
    assert db.startswith(url)


def test_secret_key_is_generated_once_and_private(local_dir: Path) -> None:
    key = localdb.secret_key(local_dir)
    assert len(key) >= 64
    assert localdb.secret_key(local_dir) == key
    assert stat.S_IMODE((local_dir / "secret_key").stat().st_mode) == 0o600


def test_vapid_key_is_generated_once_private_and_usable(local_dir: Path) -> None:
    from app.alerts.channels.push import VapidKey

    key = localdb.vapid_private_key(local_dir)
    assert localdb.vapid_private_key(local_dir) == key
    assert stat.S_IMODE((local_dir / "vapid_key").stat().st_mode) == 0o600
    assert len(VapidKey.load(key, "mailto:watch@sitcen.test").public_key) == 87


def test_database_names_are_checked() -> None:
    with pytest.raises(ValueError, match="invalid database name"):
        localdb.ensure_database(f"postgresql://postgres@127.0.0.1:{PORT}", "x; DROP")
