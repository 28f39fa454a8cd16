"""One bounded HTTP GET of a feed or of a CAP document it links: conditional (ETag,
Last-Modified), limited in time from connecting to the last byte, and in size as it streams (a
larger answer is cut off, not read whole first)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

USER_AGENT = "sitcen-feeds/1 (+https://safe.brussels)"
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/cap+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.1"
)
MAX_REDIRECTS = 3


class FetchFailed(Exception):
    """The request failed; `status` is the HTTP status when an answer came."""

    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.status = status


@dataclass(frozen=True)
class Fetched:
    status: int
    body: bytes  # empty for a 304
    etag: str | None
    last_modified: str | None


def client(timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT},
    )


async def get(
    http: httpx.AsyncClient,
    url: str,
    *,
    within: float,
    max_bytes: int,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        # httpx's timeout bounds each read; this bounds the whole exchange (a trickling server).
        async with asyncio.timeout(within):
            return await _get(http, url, headers, max_bytes)
    except TimeoutError:
        raise FetchFailed(f"no complete answer within {within:g} s") from None
    except httpx.HTTPError as e:
        raise FetchFailed(f"{type(e).__name__}: {e}" if str(e) else type(e).__name__) from None


async def _get(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], max_bytes: int
) -> Fetched:
    async with http.stream("GET", url, headers=headers) as response:
        if response.status_code == 304:
            return Fetched(304, b"", response.headers.get("ETag"), _modified(response))
        if response.status_code != 200:
            raise FetchFailed(f"HTTP {response.status_code} from {url}", response.status_code)
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise FetchFailed(f"answer of {declared} bytes: the limit is {max_bytes}", 200)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchFailed(f"answer larger than the limit of {max_bytes} bytes", 200)
            chunks.append(chunk)
        return Fetched(200, b"".join(chunks), response.headers.get("ETag"), _modified(response))


def _modified(response: httpx.Response) -> str | None:
    value: str | None = response.headers.get("Last-Modified")
    return value
