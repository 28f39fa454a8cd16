"""The store interface (app/documents/store.py) on PostgreSQL, the intake a file goes through on
its way there, and the S3 store's configuration. The S3 store itself needs a server: none runs
here."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import AsyncIterator

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.documents.intake import Intake
from app.documents.settings import DocumentSettings
from app.documents.store import PgStore, S3Store, make_store
from app.errors import ProblemError


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def _rows(sessions: async_sessionmaker[AsyncSession], key: str) -> tuple[int, int]:
    async with sessions() as session:
        blobs = await session.scalar(
            text("SELECT count(*) FROM document_blobs WHERE key = :k"), {"k": key}
        )
        chunks = await session.scalar(
            text("SELECT count(*) FROM document_chunks WHERE blob_key = :k"), {"k": key}
        )
    return int(blobs or 0), int(chunks or 0)


async def _read(store: PgStore, key: str) -> list[bytes]:
    return [chunk async for chunk in store.get(key)]


async def test_what_is_put_comes_back_chunk_by_chunk_once_committed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = PgStore(sessions)
    data = os.urandom(300_000)
    key = os.urandom(8).hex()
    async with sessions() as session:
        assert await store.put(session, key, pieces(data, 100_000)) == len(data)
        await session.commit()
    got = await _read(store, key)
    assert [len(c) for c in got] == [100_000] * 3
    assert b"".join(got) == data
    assert await _rows(sessions, key) == (1, 3)


async def test_a_put_rolled_back_leaves_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = PgStore(sessions)
    key = os.urandom(8).hex()

    async def failing() -> AsyncIterator[bytes]:
        yield b"a" * 1000
        yield b"b" * 1000
        raise RuntimeError("the client went away")

    async with sessions() as session:
        with pytest.raises(RuntimeError):
            await store.put(session, key, failing())
        await session.rollback()
    assert await _rows(sessions, key) == (0, 0)
    with pytest.raises(KeyError):
        await _read(store, key)


async def test_delete_takes_the_blob_and_its_chunks(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = PgStore(sessions)
    key = os.urandom(8).hex()
    async with sessions() as session:
        await store.put(session, key, pieces(b"x" * 5000, 1000))
        await session.commit()
    async with sessions() as session:
        await store.delete(session, key)
        await session.commit()
    assert await _rows(sessions, key) == (0, 0)


async def test_an_unknown_key_is_a_key_error(sessions: async_sessionmaker[AsyncSession]) -> None:
    with pytest.raises(KeyError):
        await _read(PgStore(sessions), "no-such-key")


async def test_an_empty_blob_is_kept_and_read_as_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    store = PgStore(sessions)
    key = os.urandom(8).hex()
    async with sessions() as session:
        assert await store.put(session, key, pieces(b"", 10)) == 0
        await session.commit()
    assert await _read(store, key) == []


# ---- the intake --------------------------------------------------------------------------------


async def test_the_intake_rechunks_hashes_and_sniffs() -> None:
    data = b"%PDF-1.7\n" + os.urandom(250_000)
    intake = Intake(max_bytes=10**6, chunk_bytes=64 * 1024)
    out = [c async for c in intake.chunks(pieces(data, 7_777))]
    assert [len(c) for c in out[:-1]] == [64 * 1024] * (len(out) - 1)
    assert b"".join(out) == data
    assert intake.size == len(data)
    assert intake.sha256 == hashlib.sha256(data).hexdigest()
    assert intake.content_type == "application/pdf"


async def test_the_intake_refuses_past_the_limit_before_handing_the_excess_on() -> None:
    intake = Intake(max_bytes=100_000, chunk_bytes=64 * 1024)
    handed = 0
    with pytest.raises(ProblemError) as refused:
        async for chunk in intake.chunks(pieces(b"%PDF-1.7\n" + b"\0" * 200_000, 10_000)):
            handed += len(chunk)
    assert refused.value.status == 413
    assert handed <= 100_000


async def test_the_intake_refuses_a_forbidden_type_before_handing_anything_on() -> None:
    intake = Intake(max_bytes=10**6, chunk_bytes=64 * 1024)
    handed = []
    with pytest.raises(ProblemError) as refused:
        async for chunk in intake.chunks(pieces(b"MZ\x90\x00" + b"\0" * 200_000, 4096)):
            handed.append(chunk)
    assert refused.value.status == 415 and handed == []
    assert refused.value.extra["sniffed"] == "application/x-dosexec"


# ---- configuration -----------------------------------------------------------------------------


def test_postgres_is_the_default_store(sessions: async_sessionmaker[AsyncSession]) -> None:
    settings = DocumentSettings()
    assert settings.store == "postgres" and settings.max_bytes == 250_000_000
    assert isinstance(make_store(settings, sessions), PgStore)


def test_the_s3_store_needs_a_bucket() -> None:
    with pytest.raises(ValidationError, match="SITCEN_DOCUMENT_S3_BUCKET"):
        DocumentSettings(store="s3")


def test_s3_credentials_go_together() -> None:
    with pytest.raises(ValidationError, match="go together"):
        DocumentSettings(store="s3", s3_bucket="casus", s3_access_key_id="AKIA…")


def test_the_s3_store_says_which_package_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aioboto3", None)  # as if it were not installed
    settings = DocumentSettings(store="s3", s3_bucket="casus")
    with pytest.raises(RuntimeError, match="aioboto3"):
        S3Store(settings)


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITCEN_DOCUMENT_MAX_BYTES", "1234")
    monkeypatch.setenv("SITCEN_DOCUMENT_STORE", "s3")
    monkeypatch.setenv("SITCEN_DOCUMENT_S3_BUCKET", "casus")
    settings = DocumentSettings()
    assert (settings.max_bytes, settings.store, settings.s3_bucket) == (1234, "s3", "casus")
