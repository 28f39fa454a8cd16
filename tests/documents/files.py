"""Files of every kind the library takes or refuses, made in memory (none is kept in the repo)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator

from PIL import Image

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"></Types>'
)


def _zip(entries: list[tuple[str, str, int]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data, method in entries:
            z.writestr(name, data, compress_type=method)
    return out.getvalue()


def docx() -> bytes:
    deflated = zipfile.ZIP_DEFLATED
    return _zip(
        [
            ("[Content_Types].xml", CONTENT_TYPES, deflated),
            ("_rels/.rels", "<Relationships/>", deflated),
            ("word/document.xml", "<w:document/>", deflated),
        ]
    )


def odt() -> bytes:
    return _zip(
        [
            ("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED),
            ("content.xml", "<office:document-content/>", zipfile.ZIP_DEFLATED),
        ]
    )


def png(width: int = 1200, height: int = 800) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 640, height: int = 480) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 30, 200)).save(out, "JPEG")
    return out.getvalue()


def pdf(pages: int = 2) -> bytes:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument.new()
    for _ in range(pages):
        doc.new_page(595, 842)  # A4 in points
    out = io.BytesIO()
    doc.save(out)
    doc.close()
    return out.getvalue()


CSV = (
    b"organisation,telephone,zone\n"
    b"PZ Bruxelles-Capitale/Ixelles,02 279 79 79,5339\n"
    b"PZ Bruxelles-Ouest,02 412 12 12,5340\n"
    b"PZ Midi,02 559 85 00,5341\n"
    b"PZ Uccle/Watermael-Boitsfort/Auderghem,02 370 65 11,5342\n"
)
TEXT = "Rapport de situation : circulation rétablie rue de la Loi.\n".encode()
EML = (
    b"From: permanence@safe.brussels\nTo: pz5339@police.belgium.eu\n"
    b"Subject: Fermeture du tunnel Louise\nDate: Mon, 7 Dec 2026 10:00:00 +0100\n"
    b"Message-ID: <1@safe.brussels>\n\nLe tunnel Louise est ferme.\n"
)
ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\x02\x00\x3e\x00" + b"\0" * 400
WINDOWS_EXE = b"MZ\x90\x00" + b"\0" * 60 + b"PE\0\0" + b"\0" * 400
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


async def generated(total: int, piece: int = 256 * 1024) -> AsyncIterator[bytes]:
    """`total` bytes of a PDF-looking stream, made as they are sent: a large upload that no
    file and no buffer of the test holds whole."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    block = bytes(range(256)) * (piece // 256)
    sent = 0
    first = True
    while sent < total:
        data = head + block[len(head) :] if first else block
        first = False
        data = data[: total - sent]
        sent += len(data)
        yield data
