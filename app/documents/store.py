"""Where a document's bytes are kept, behind one small interface: `put` a stream of chunks under
a key, `get` them back as a stream, `delete` them. Keys are never reused: a new version is a new
key, so a download in progress reads bytes that cannot change under it.

PostgreSQL is the default (PgStore): one backup holds the picture and its files, and a put runs
in the request's transaction, so a refused or failed upload leaves nothing. An S3-compatible
bucket is the option (S3Store), for sites whose database should not hold large files."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import driver
from app.documents.settings import DocumentSettings


class BlobStore(Protocol):
    # Whether a put is undone by rolling back the session's transaction; if not, whoever put
    # must delete the key when its transaction fails.
    transactional: bool

    async def put(self, session: AsyncSession, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the chunks under `key`; the number of bytes stored."""
        ...

    def get(self, key: str) -> AsyncIterator[bytes]:
        """The bytes under `key`, a chunk at a time; KeyError if there are none."""
        ...

    async def delete(self, session: AsyncSession, key: str) -> None: ...


_END = object()


async def _ahead(chunks: AsyncIterable[bytes], depth: int = 1) -> AsyncIterator[bytes]:
    """The chunks, the next one read while the caller handles the last: receiving from the
    client and writing to the database overlap on upload, reading from the database and sending
    to the client on download, for one more chunk in memory. What the reading raises is raised
    here, in its place."""
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=depth)

    async def read() -> None:
        try:
            async for chunk in chunks:
                await queue.put(chunk)
            await queue.put(_END)
        except BaseException as e:  # handed to the consumer, who raises it
            await queue.put(e)

    reader = asyncio.create_task(read())
    try:
        while True:
            item = await queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            yield item
    finally:
        reader.cancel()


class PgStore:
    """The bytes in `document_chunks`, one row per chunk, under a `document_blobs` row."""

    transactional = True

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def put(self, session: AsyncSession, key: str, chunks: AsyncIterable[bytes]) -> int:
        conn = await driver(session)
        n = size = 0
        async for chunk in _ahead(chunks):
            await conn.execute(
                "INSERT INTO document_chunks (blob_key, n, data) VALUES ($1, $2, $3)",
                key,
                n,
                chunk,
            )
            n += 1
            size += len(chunk)
        await conn.execute(
            "INSERT INTO document_blobs (key, size, chunks, created_at) VALUES ($1, $2, $3, $4)",
            key,
            size,
            n,
            datetime.now(UTC),
        )
        return size

    def get(self, key: str) -> AsyncIterator[bytes]:
        # The next chunk is read from the database while the last is sent to the client.
        return _ahead(self._chunks(key))

    async def _chunks(self, key: str) -> AsyncIterator[bytes]:
        # A connection per chunk, not one for the whole download: a slow client reading a large
        # file must not hold one of the pool's connections for minutes.
        async with self.sessions() as session:
            conn = await driver(session, begin=False)
            chunks = await conn.fetchval("SELECT chunks FROM document_blobs WHERE key = $1", key)
        if chunks is None:
            raise KeyError(key)
        for n in range(chunks):
            async with self.sessions() as session:
                conn = await driver(session, begin=False)
                data = await conn.fetchval(
                    "SELECT data FROM document_chunks WHERE blob_key = $1 AND n = $2", key, n
                )
            if data is None:
                raise KeyError(f"{key}: chunk {n} is missing")
            yield data

    async def delete(self, session: AsyncSession, key: str) -> None:
        # The chunks go with the blob (ON DELETE CASCADE).
        await (await driver(session)).execute("DELETE FROM document_blobs WHERE key = $1", key)


class S3Store:
    """The bytes as objects of an S3-compatible bucket, written by multipart upload so that
    memory holds one part at a time. aioboto3 is imported here only, when configured."""

    transactional = False

    def __init__(self, settings: DocumentSettings) -> None:
        if settings.s3_bucket is None:
            raise ValueError("SITCEN_DOCUMENT_STORE=s3 needs SITCEN_DOCUMENT_S3_BUCKET")
        try:
            import aioboto3
        except ImportError as e:
            raise RuntimeError(
                "SITCEN_DOCUMENT_STORE=s3 needs the aioboto3 package: pip install 'sitcen[s3]'"
            ) from e
        self.bucket = settings.s3_bucket
        self.prefix = settings.s3_prefix
        self.part_bytes = settings.s3_part_bytes
        self.session = aioboto3.Session(
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key,
            region_name=settings.s3_region,
        )
        self.endpoint_url = settings.s3_endpoint_url

    def _client(self) -> Any:
        return self.session.client("s3", endpoint_url=self.endpoint_url)

    async def put(self, session: AsyncSession, key: str, chunks: AsyncIterable[bytes]) -> int:
        name = self.prefix + key
        async with self._client() as s3:
            upload = await s3.create_multipart_upload(Bucket=self.bucket, Key=name)
            upload_id = upload["UploadId"]
            parts: list[dict[str, Any]] = []
            size = 0
            part = bytearray()

            async def send(data: bytes) -> None:
                number = len(parts) + 1
                sent = await s3.upload_part(
                    Bucket=self.bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=data
                )
                parts.append({"ETag": sent["ETag"], "PartNumber": number})

            try:
                async for chunk in chunks:
                    size += len(chunk)
                    part += chunk
                    if len(part) >= self.part_bytes:
                        await send(bytes(part))
                        part.clear()
                if part or not parts:
                    await send(bytes(part))
                await s3.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=name,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
            except BaseException:
                await s3.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
                raise
        return size

    async def get(self, key: str) -> AsyncIterator[bytes]:
        async with self._client() as s3:
            try:
                found = await s3.get_object(Bucket=self.bucket, Key=self.prefix + key)
            except s3.exceptions.NoSuchKey as e:
                raise KeyError(key) from e
            body = found["Body"]
            try:
                async for chunk in body.iter_chunks(1024 * 1024):
                    yield chunk
            finally:
                body.close()

    async def delete(self, session: AsyncSession, key: str) -> None:
        async with self._client() as s3:
            await s3.delete_object(Bucket=self.bucket, Key=self.prefix + key)


def make_store(settings: DocumentSettings, sessions: async_sessionmaker[AsyncSession]) -> BlobStore:
    """The store the settings choose; a misconfigured S3 store fails here, at start."""
    if settings.store == "s3":
        return S3Store(settings)
    return PgStore(sessions)
