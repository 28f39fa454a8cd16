"""What an uploaded file goes through on its way to the store, a chunk at a time: its type
sniffed from its first bytes (never taken from the client), its size held to the limit, its
SHA-256 computed. A refusal is raised before the chunk that causes it is handed on, so the
store's transaction (or, for S3, its multipart upload) is abandoned with nothing kept."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field

import magic

from app import cpu
from app.errors import payload_too_large, unsupported_media_type, validation_problem

# What the library takes: documents people exchange in a crisis. Not SVG nor HTML: opened in
# a browser, they can run scripts.
ALLOWED: dict[str, str] = {
    "application/pdf": "PDF",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/gif": "GIF image",
    "image/webp": "WebP image",
    "image/tiff": "TIFF image",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (docx)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel (xlsx)",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "PowerPoint (pptx)"
    ),
    "application/vnd.oasis.opendocument.text": "OpenDocument text (odt)",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet (ods)",
    "application/msword": "Word 97-2003 (doc)",
    "application/vnd.ms-excel": "Excel 97-2003 (xls)",
    "text/plain": "plain text",
    "text/csv": "CSV",
    "message/rfc822": "e-mail (eml)",
}
IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/tiff"})


def sniff(head: bytes) -> str:
    """The MIME type libmagic reads in a file's first bytes."""
    return str(magic.from_buffer(head, mime=True))


@dataclass
class Intake:
    """One upload's bytes on their way in: iterate `chunks(body)`, then read size, sha256 and
    content_type."""

    max_bytes: int
    chunk_bytes: int
    size: int = 0
    content_type: str = ""
    _hash: hashlib._Hash = field(default_factory=hashlib.sha256)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    async def chunks(self, body: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        pending = bytearray()
        first = True
        async for piece in body:
            self.size += len(piece)
            if self.size > self.max_bytes:
                raise payload_too_large(
                    f"the file exceeds the library's limit of {self.max_bytes} bytes "
                    "(SITCEN_DOCUMENT_MAX_BYTES); nothing was stored",
                    max_bytes=self.max_bytes,
                )
            pending += piece
            while len(pending) >= self.chunk_bytes:
                chunk = bytes(pending[: self.chunk_bytes])
                del pending[: self.chunk_bytes]
                if first:
                    await self._sniff(chunk)
                    first = False
                self._hash.update(chunk)
                yield chunk
        if first:
            if not pending:
                raise validation_problem([{"loc": ["body"], "msg": "the file is empty"}])
            await self._sniff(bytes(pending))
        if pending:
            chunk = bytes(pending)
            self._hash.update(chunk)
            yield chunk

    async def _sniff(self, head: bytes) -> None:
        found = await cpu.run(sniff, head)
        if found not in ALLOWED:
            raise unsupported_media_type(
                f"the file is {found}, which the library does not take; it takes "
                + ", ".join(dict.fromkeys(ALLOWED.values())),
                sniffed=found,
                allowed=sorted(ALLOWED),
            )
        self.content_type = found
