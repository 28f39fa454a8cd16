"""GET /api/config (no sign-in needed) and the Content-Security-Policy with and without the
optional online base map."""

from __future__ import annotations

import secrets

import httpx
import pytest

from app.main import create_app
from app.settings import Settings

STYLE = "https://tiles.example.org:8443/styles/brussels/style.json"


def _client(**overrides: str) -> httpx.AsyncClient:
    settings = Settings(secret_key=secrets.token_urlsafe(48), **overrides)
    transport = httpx.ASGITransport(app=create_app(settings))
    return httpx.AsyncClient(transport=transport, base_url="http://sitcen.test")


def _csp(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


async def test_config_answers_before_sign_in_with_languages_and_no_base_map() -> None:
    async with _client() as client:
        r = await client.get("/api/config")
    assert r.status_code == 200
    assert r.json() == {
        "languages": ["fr", "nl", "en"],
        "default_language": "fr",
        "basemap_style_url": None,
        "tile_threshold": 5000,
    }


async def test_config_publishes_the_base_map_style_when_set() -> None:
    async with _client(basemap_style_url=STYLE) as client:
        r = await client.get("/api/config")
    assert r.json()["basemap_style_url"] == STYLE


async def test_without_a_base_map_the_policy_names_no_other_origin() -> None:
    async with _client() as client:
        csp = _csp(await client.get("/api/config"))
    assert csp["default-src"] == ["'self'"]
    # 'self' covers the page's own ws:/wss: (CSP Level 3); bare `ws: wss:` allowed any host.
    assert csp["connect-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:", "blob:"]
    assert csp["worker-src"] == ["'self'", "blob:"]
    assert "example.org" not in str(csp)


async def test_a_base_map_adds_exactly_its_origin_for_fetches_and_images() -> None:
    async with _client(basemap_style_url=STYLE) as client:
        # Every response carries the policy: the page, the API and static files alike.
        for path in ("/api/config", "/api/health-not-here"):
            csp = _csp(await client.get(path))
            assert csp["connect-src"] == ["'self'", "https://tiles.example.org:8443"]
            assert csp["img-src"] == ["'self'", "data:", "blob:", "https://tiles.example.org:8443"]
            assert csp["default-src"] == ["'self'"]
            assert csp["worker-src"] == ["'self'", "blob:"]
            assert csp["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("bad", ["ftp://tiles.example.org/style.json", "tiles.example.org/style"])
def test_a_base_map_url_that_is_not_http_refuses_to_start(bad: str) -> None:
    with pytest.raises(ValueError, match="SITCEN_BASEMAP_STYLE_URL"):
        Settings(secret_key=secrets.token_urlsafe(48), basemap_style_url=bad)
