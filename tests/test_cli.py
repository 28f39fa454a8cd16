"""The `sitcen` command against a real database: reference layers, users, API keys."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from tests.conftest import REFERENCE_DIR, Server
from tests.samples import SAMPLES


def sitcen(
    settings, *args: str, password: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SITCEN_DATABASE_URL": settings.database_url,
        "SITCEN_SECRET_KEY": settings.secret_key,
        **(env or {}),
    }
    if password:
        env["SITCEN_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_reference_load_is_idempotent(settings, sessions) -> None:
    for _ in range(2):
        out = sitcen(settings, "reference", "load", str(REFERENCE_DIR))
        assert out.returncode == 0, out.stderr
        assert "municipality: 19 areas" in out.stdout
        assert "police_zone: 6 areas" in out.stdout
        assert "region: 1 areas" in out.stdout
        assert "landmark: 12 places" in out.stdout


def test_reference_load_refuses_an_unknown_file(settings, sessions, tmp_path) -> None:
    bad = tmp_path / "x.geojson"
    bad.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"a": 1},'
        ' "geometry": {"type": "Point", "coordinates": [4, 50]}}]}'
    )
    out = sitcen(settings, "reference", "load", str(bad))
    assert out.returncode != 0 and "cannot tell which reference layer" in out.stderr


def test_user_created_by_cli_can_log_in(settings, server: Server) -> None:
    out = sitcen(
        settings,
        "user",
        "create",
        "cli-agent",
        "--role",
        "operator",
        password="a long cli passphrase",
    )
    assert out.returncode == 0, out.stderr
    r = httpx.post(
        server.url + "/api/auth/token",
        data={"username": "cli-agent", "password": "a long cli passphrase"},
    )
    assert r.status_code == 200


def test_weak_password_is_refused(settings, sessions) -> None:
    out = sitcen(settings, "user", "create", "weak", "--role", "operator", password="short")
    assert out.returncode != 0 and "at least 12" in out.stderr


def test_api_key_is_shown_once_works_and_can_be_revoked(settings, server: Server) -> None:
    out = sitcen(settings, "apikey", "create", "pz-5340-dispatch", "--role", "dispatch")
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip().splitlines()[-1]
    assert key.startswith("sitcen_")
    headers = {"X-API-Key": key}
    assert httpx.get(server.url + "/api/incidents", headers=headers).status_code == 200
    assert sitcen(settings, "apikey", "revoke", "pz-5340-dispatch").returncode == 0
    assert httpx.get(server.url + "/api/incidents", headers=headers).status_code == 401


def test_a_read_only_key_reads_like_its_role_and_writes_nothing(settings, server: Server) -> None:
    """A GIS workstation's key: the picture through REST and the OGC API, no write; the key
    an admin gives Prometheus: the metrics, and no user management."""
    gis = sitcen(settings, "apikey", "create", "qgis-sitcen", "--role", "operator", "--read-only")
    assert gis.returncode == 0, gis.stderr
    assert "(operator, read-only)" in gis.stdout
    scraper = sitcen(settings, "apikey", "create", "prometheus", "--role", "admin", "--read-only")
    assert scraper.returncode == 0, scraper.stderr
    with httpx.Client(
        base_url=server.url, headers={"X-API-Key": gis.stdout.strip().splitlines()[-1]}
    ) as c:
        assert c.get("/api/incidents").status_code == 200
        assert c.get("/api/features/collections/incidents/items").status_code == 200
        refused = c.post("/api/incidents", json=SAMPLES["incidents"][0])
        assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
    with httpx.Client(
        base_url=server.url, headers={"X-API-Key": scraper.stdout.strip().splitlines()[-1]}
    ) as c:
        assert c.get("/api/metrics").status_code == 200
        assert c.post("/api/users", json={"username": "x", "role": "admin"}).status_code == 403
    listed = {
        k["name"]: k["read_only"]
        for k in httpx.get(
            server.url + "/api/apikeys",
            headers={"Authorization": f"Bearer {server.tokens['adm']}"},
        ).json()["apikeys"]
    }
    assert listed["qgis-sitcen"] is True and listed["prometheus"] is True


def test_a_partner_key_needs_an_organisation_and_no_key_expires_in_the_past(
    settings, sessions
) -> None:
    out = sitcen(settings, "apikey", "create", "cli-partner", "--role", "partner")
    assert out.returncode != 0 and "organisation" in out.stderr, out
    out = sitcen(settings, "apikey", "create", "cli-old", "--expires", "2020-01-01T00:00:00+01:00")
    assert out.returncode != 0 and "expires_at" in out.stderr and "past" in out.stderr, out
    out = sitcen(
        settings,
        "apikey",
        "create",
        "cli-partner",
        "--role",
        "partner",
        "--organisation",
        "pz-5339",
    )
    assert out.returncode == 0, out.stderr
    assert "pz-5339" in out.stdout
