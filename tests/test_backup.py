"""`sitcen backup` and `sitcen restore`: a backup restored into a fresh database holds the same
picture, feed, users, keys, partners and documents, and the service starts on it."""

from __future__ import annotations

import os
import re
import secrets
import tarfile
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from app import localdb
from app.db import upgrade_database
from app.devserver import free_port
from app.settings import Settings, plain_url
from tests.conftest import PASSWORD, Identities, Server, incident, start_server, stop_server
from tests.test_cli import sitcen

# Tables whose rows the running test server may add while the backup is taken (an audit event
# for a request, a background worker's cursor): not compared if they moved meanwhile.
LIVE = {"audit_events", "feed_cursors", "dead_letters", "alert_deliveries"}


async def digests(url: str) -> dict[str, str]:
    """Every table of the database and an MD5 of its rows in a fixed order."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        tables = [
            r["relname"]
            for r in await conn.fetch(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY c.relname"
            )
        ]
        return {
            t: await conn.fetchval(
                f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' "
                f"ORDER BY t::text)), '') FROM \"{t}\" t"
            )
            for t in tables
        }
    finally:
        await conn.close()


def _base(url: str) -> str:
    return plain_url(url).rsplit("/", 1)[0]


async def _fill(server: Server, identities: Identities) -> dict[str, Any]:
    """Something of each kind: an incident, a logbook entry, a partner, a document."""
    admin = {"Authorization": f"Bearer {server.tokens['adm']}"}
    op = {"Authorization": f"Bearer {server.tokens['op']}"}
    async with httpx.AsyncClient(base_url=server.url, headers=op, timeout=60) as c:
        r = await c.post("/api/incidents", json=incident("Backup: incendie rue Haute"))
        assert r.status_code == 201, r.text
        inc = r.json()
        r = await c.post(
            "/api/logbook",
            json={
                "type": "Feature",
                "geometry": None,
                "properties": {
                    "title": "Backup: appel du voisin",
                    "subject_entity": "incident",
                    "subject_id": inc["id"],
                },
            },
        )
        assert r.status_code == 201, r.text
        code = f"bk-{uuid.uuid4().hex[:8]}"
        r = await c.post(
            "/api/organisations",
            headers=admin,
            json={"code": code, "name_fr": code, "name_nl": code, "kind": "other"},
        )
        assert r.status_code == 201, r.text
        # Text (a type the library takes) over more than one stored chunk (1 MiB).
        content = "".join(f"ligne {i} {secrets.token_hex(16)}\n" for i in range(40_000)).encode()
        r = await c.post(
            "/api/documents",
            params={"subject_entity": "incident", "subject_id": inc["id"], "filename": "plan.txt"},
            content=content,
        )
        assert r.status_code == 201, r.text
        return {"incident": inc, "document": r.json()["id"], "content": content, "partner": code}


async def test_a_restored_backup_holds_everything_and_the_service_starts_on_it(
    settings: Settings, server: Server, identities: Identities, tmp_path: Any
) -> None:
    made = await _fill(server, identities)
    path = tmp_path / "sitcen.backup"
    before = await digests(settings.database_url or "")
    out = sitcen(settings, "backup", str(path))
    assert out.returncode == 0, out.stderr
    after = await digests(settings.database_url or "")
    with tarfile.open(path) as tar:
        assert set(tar.getnames()) == {"manifest.json", "database.dump"}

    base = _base(settings.database_url or "")
    name = f"sitcen_restore_{os.getpid()}"
    target = localdb.ensure_database(base, name)
    restored_settings = Settings(database_url=target, secret_key=settings.secret_key)
    restored_server = None
    try:
        out = sitcen(restored_settings, "restore", str(path))
        assert out.returncode == 0, out.stderr
        head = int(re.search(r"feed head (\d+)", out.stdout).group(1))  # type: ignore[union-attr]

        # Every table, row for row, as it stood when the backup was taken.
        restored = await digests(target)
        moved = {t for t in before if before[t] != after[t]}
        assert moved <= LIVE, moved
        assert set(restored) == set(before)
        assert {t: restored[t] for t in before if t not in moved} == {
            t: before[t] for t in before if t not in moved
        }
        for table in (
            "incidents",
            "changes",
            "users",
            "api_keys",
            "organisations",
            "document_chunks",
            "logbook_entries",
        ):
            assert table in restored and not restored[table].startswith("0:"), table

        # The service starts on it; the users log in, the keys are still valid, the picture,
        # feed and documents answer as on the original.
        restored_server = start_server(restored_settings, name="restored")
        async with (
            httpx.AsyncClient(base_url=restored_server.url, timeout=60) as new,
            httpx.AsyncClient(base_url=server.url, timeout=60) as old,
        ):
            r = await new.post("/api/auth/token", data={"username": "op", "password": PASSWORD})
            assert r.status_code == 200, r.text
            token = {"Authorization": f"Bearer {r.json()['access_token']}"}
            key = {"X-API-Key": identities.keys["dispatch-a"]}
            r = await new.post(
                "/api/incidents",
                headers=key,
                json=incident("Après restauration", external_id="bk-1"),
            )
            assert r.status_code == 201, r.text
            old_op = {"Authorization": f"Bearer {server.tokens['op']}"}
            inc = made["incident"]["id"]
            a = (await old.get(f"/api/incidents/{inc}", headers=old_op)).json()
            b = (await new.get(f"/api/incidents/{inc}", headers=token)).json()
            assert a == b
            # The feed as far as the backup holds it, record for record.
            since = max(0, head - 500)
            page_old = (
                await old.get("/api/changes", headers=old_op, params={"since": since, "limit": 500})
            ).json()["changes"]
            page_new = (
                await new.get("/api/changes", headers=token, params={"since": since, "limit": 500})
            ).json()["changes"]
            assert page_old and page_old[-1]["seq"] == head
            assert page_new[: len(page_old)] == page_old
            r = await new.get(f"/api/documents/{made['document']}/content", headers=token)
            assert r.status_code == 200 and r.content == made["content"]
            r = await new.get("/api/organisations", headers=token)
            assert made["partner"] in r.text
    finally:
        if restored_server is not None:
            stop_server(restored_server)
        localdb.drop_database(base, name)


def test_restore_refuses_a_database_that_is_not_empty(settings: Settings, tmp_path: Any) -> None:
    path = tmp_path / "b.tar"
    with tarfile.open(path, "w"):
        pass
    out = sitcen(settings, "restore", str(path))
    assert out.returncode != 0 and "not empty" in out.stderr


def test_restore_refuses_a_file_that_is_not_a_backup(settings: Settings, tmp_path: Any) -> None:
    base = _base(settings.database_url or "")
    name = f"sitcen_restore_bad_{os.getpid()}"
    target = localdb.ensure_database(base, name)
    try:
        path = tmp_path / "b.tar"
        path.write_bytes(b"not a tar file")
        out = sitcen(Settings(database_url=target, secret_key="x" * 40), "restore", str(path))
        assert out.returncode != 0 and "not a sitcen backup" in out.stderr
    finally:
        localdb.drop_database(base, name)


def test_with_the_s3_store_the_backup_carries_the_documents_and_restores_them(
    settings: Settings, tmp_path: Any
) -> None:
    pytest.importorskip("aioboto3", reason="the s3 extra (aioboto3) is not installed")
    moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    import boto3

    port = free_port()
    s3_server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    s3_server.start()
    s3_env = {
        "SITCEN_DOCUMENT_STORE": "s3",
        "SITCEN_DOCUMENT_S3_BUCKET": "sitcen-docs",
        "SITCEN_DOCUMENT_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "SITCEN_DOCUMENT_S3_REGION": "eu-west-1",
        "SITCEN_DOCUMENT_S3_ACCESS_KEY_ID": "testing",
        "SITCEN_DOCUMENT_S3_SECRET_ACCESS_KEY": "testing",
    }
    bucket = boto3.client(
        "s3",
        endpoint_url=s3_env["SITCEN_DOCUMENT_S3_ENDPOINT_URL"],
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bucket.create_bucket(
        Bucket="sitcen-docs", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    base = _base(settings.database_url or "")
    names = [f"sitcen_s3_src_{os.getpid()}", f"sitcen_s3_dst_{os.getpid()}"]
    servers: list[Server] = []
    try:
        source = Settings(
            database_url=localdb.ensure_database(base, names[0]), secret_key=settings.secret_key
        )
        upgrade_database(source.database_url or "")
        out = sitcen(source, "user", "create", "s3-op", "--role", "operator", password=PASSWORD)
        assert out.returncode == 0, out.stderr
        servers.append(start_server(source, extra_env=s3_env, name="s3-source"))
        content = "".join(f"ligne {i}\n" for i in range(20_000)).encode()
        with httpx.Client(base_url=servers[0].url, timeout=60) as c:
            token = c.post("/api/auth/token", data={"username": "s3-op", "password": PASSWORD})
            c.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            inc = c.post("/api/incidents", json=incident("Incendie, S3"))
            assert inc.status_code == 201, inc.text
            params = {"subject_entity": "incident", "subject_id": inc.json()["id"]}
            doc = c.post("/api/documents", params={**params, "filename": "a.txt"}, content=content)
            assert doc.status_code == 201, doc.text
        stop_server(servers.pop())

        path = tmp_path / "s3.backup"
        out = sitcen(source, "backup", str(path), env=s3_env)
        assert out.returncode == 0, out.stderr
        assert "1 documents copied" in out.stdout
        # The bucket is lost with the site: the backup brings the bytes back.
        for listed in bucket.list_objects_v2(Bucket="sitcen-docs").get("Contents", []):
            bucket.delete_object(Bucket="sitcen-docs", Key=listed["Key"])

        target = Settings(
            database_url=localdb.ensure_database(base, names[1]), secret_key=settings.secret_key
        )
        out = sitcen(target, "restore", str(path))
        assert out.returncode != 0 and "S3 store" in out.stderr
        out = sitcen(target, "restore", str(path), env=s3_env)
        assert out.returncode == 0, out.stderr
        servers.append(start_server(target, extra_env=s3_env, name="s3-restored"))
        with httpx.Client(base_url=servers[0].url, timeout=60) as c:
            token = c.post("/api/auth/token", data={"username": "s3-op", "password": PASSWORD})
            c.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            r = c.get(f"/api/documents/{doc.json()['id']}/content")
            assert r.status_code == 200 and r.content == content
    finally:
        for server in servers:
            stop_server(server)
        for name in names:
            localdb.drop_database(base, name)
        s3_server.stop()
