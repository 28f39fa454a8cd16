"""The S3 store against an S3-compatible server: moto's, run in this process on a local port
(no AWS, no network). What the PostgreSQL store's tests check, the same way."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from app.devserver import free_port
from app.documents.settings import DocumentSettings
from app.documents.store import S3Store, make_store

pytest.importorskip("aioboto3", reason="the s3 extra (aioboto3) is not installed")
moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed")

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3_settings() -> Iterator[DocumentSettings]:
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    settings = DocumentSettings(
        store="s3",
        s3_bucket="casus",
        s3_endpoint_url=f"http://127.0.0.1:{port}",
        s3_region="eu-west-1",
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
        s3_part_bytes=5 * MIB,
    )
    import boto3

    boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket="casus", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    yield settings
    server.stop()


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def _read(store: S3Store, key: str) -> bytes:
    return b"".join([chunk async for chunk in store.get(key)])


async def test_the_settings_choose_the_s3_store(s3_settings: DocumentSettings) -> None:
    store = make_store(s3_settings, None)  # type: ignore[arg-type]
    assert isinstance(store, S3Store) and store.transactional is False


async def test_a_file_of_several_parts_comes_back_whole(s3_settings: DocumentSettings) -> None:
    store = S3Store(s3_settings)
    data = os.urandom(12 * MIB + 123)  # three parts: 5 MiB, 5 MiB and the rest
    key = os.urandom(8).hex()
    assert await store.put(None, key, pieces(data, MIB)) == len(data)  # type: ignore[arg-type]
    assert await _read(store, key) == data


async def test_a_small_and_an_empty_file(s3_settings: DocumentSettings) -> None:
    store = S3Store(s3_settings)
    for data in (b"%PDF-1.7\n", b""):
        key = os.urandom(8).hex()
        await store.put(None, key, pieces(data, MIB))  # type: ignore[arg-type]
        assert await _read(store, key) == data


async def test_a_failed_upload_is_aborted_and_leaves_no_object(
    s3_settings: DocumentSettings,
) -> None:
    store = S3Store(s3_settings)
    key = os.urandom(8).hex()

    async def failing() -> AsyncIterator[bytes]:
        yield b"a" * (6 * MIB)
        raise RuntimeError("the client went away")

    with pytest.raises(RuntimeError):
        await store.put(None, key, failing())  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        await _read(store, key)
    async with store._client() as s3:
        uploads: dict[str, Any] = await s3.list_multipart_uploads(Bucket="casus")
    assert not uploads.get("Uploads")


async def test_delete_and_an_unknown_key(s3_settings: DocumentSettings) -> None:
    store = S3Store(s3_settings)
    key = os.urandom(8).hex()
    await store.put(None, key, pieces(b"x" * 1000, 100))  # type: ignore[arg-type]
    await store.delete(None, key)  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        await _read(store, key)


async def _objects(settings: DocumentSettings) -> list[str]:
    async with S3Store(settings)._client() as s3:
        listed = await s3.list_objects_v2(Bucket="casus")
    return [o["Key"] for o in listed.get("Contents", [])]


async def test_the_service_keeps_its_documents_in_the_bucket(
    s3_settings: DocumentSettings, settings: Any, server: Any
) -> None:
    import httpx

    from tests.conftest import auth, start_server, stop_server
    from tests.documents import files
    from tests.documents.conftest import make_incident, upload

    env = {
        f"SITCEN_DOCUMENT_{name.upper()}": str(value)
        for name, value in s3_settings.model_dump().items()
        if value is not None
    }
    s3_server = start_server(settings, extra_env=env, name="documents-s3")
    s3_server.tokens = server.tokens
    try:
        async with httpx.AsyncClient(
            base_url=s3_server.url, headers=auth(s3_server, "op"), timeout=60
        ) as client:
            subject = await make_incident(client)
            before = await _objects(s3_settings)
            data = files.pdf()
            doc = (await upload(client, subject, data)).json()
            assert (await client.get(f"/api/documents/{doc['id']}/content")).content == data
            assert len(await _objects(s3_settings)) == len(before) + 1
            # Refused: nothing is left in the bucket.
            assert (await upload(client, subject, files.ELF)).status_code == 415
            assert (await upload(client, subject, data, subject_id="x")).status_code == 422
            assert len(await _objects(s3_settings)) == len(before) + 1
            deleted = await httpx.AsyncClient(
                base_url=s3_server.url, headers=auth(s3_server, "adm")
            ).delete(f"/api/documents/{doc['id']}")
            assert deleted.status_code == 204
            assert await _objects(s3_settings) == before
    finally:
        stop_server(s3_server)
