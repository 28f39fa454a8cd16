"""Previews: a small PNG of an image, or of a PDF's first page (PDFium, through pypdfium2: the
renderer of Chromium, shipped in its wheel; no browser on the server). Run in app.cpu's pool."""

from __future__ import annotations

import io
import threading

from PIL import Image

from app.documents.intake import IMAGES
from app.errors import no_preview

PDF = "application/pdf"
# An image this large (pixels) is refused before it is decoded: a small file can claim a huge
# canvas (a decompression bomb) and take the server's memory.
MAX_PIXELS = 60_000_000
# PDFium is not thread-safe: one rendering at a time in the process.
_pdfium = threading.Lock()


def possible(content_type: str) -> bool:
    return content_type in IMAGES or content_type == PDF


def _png(image: Image.Image, pixels: int) -> bytes:
    image.thumbnail((pixels, pixels))
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    return out.getvalue()


def _image(data: bytes, pixels: int) -> bytes:
    try:
        # WeasyPrint (the fiche's PDF) sets Pillow's process-wide LOAD_TRUNCATED_IMAGES on
        # import, so decoding alone would draw a damaged file padded with grey: check its
        # structure (chunks and checksums) first, on a handle of its own as verify() wants.
        with Image.open(io.BytesIO(data)) as checked:
            checked.verify()
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise no_preview(f"the image is {width}×{height} pixels: too large to preview")
            image.draft("RGB", (pixels, pixels))  # JPEG: decode at a reduced scale
            return _png(image.copy(), pixels)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise no_preview(f"the image cannot be read: {e}") from e


def _pdf(data: bytes, pixels: int) -> bytes:
    import pypdfium2 as pdfium

    with _pdfium:
        pdf = None
        try:
            pdf = pdfium.PdfDocument(data)
            if len(pdf) == 0:
                raise no_preview("the PDF has no page")
            page = pdf[0]
            width, height = page.get_size()
            image = page.render(scale=pixels / max(width, height, 1)).to_pil()
            page.close()
        except pdfium.PdfiumError as e:
            raise no_preview(f"the PDF cannot be read: {e}") from e
        finally:
            if pdf is not None:
                pdf.close()
    return _png(image, pixels)


def render(data: bytes, content_type: str, pixels: int) -> tuple[bytes, str]:
    """The preview of a file's bytes: (PNG bytes, "image/png")."""
    if content_type == PDF:
        return _pdf(data, pixels), "image/png"
    return _image(data, pixels), "image/png"
