"""Printed documents: HTML from Jinja2 templates, and its PDF by WeasyPrint (no browser on the
server). One place for both, so every printout (the operational fiche, SITREPs, hotspot fiches)
is escaped and sandboxed alike. The PDF is CPU work: callers run it in app.cpu's pool."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2


@cache
def templates(directory: Path) -> jinja2.Environment:
    """The templates of a directory. Every value comes from a person: escaped, never markup
    (a caller marks its own SVG with `markupsafe.Markup`); a missing value is an error, not an
    empty cell on paper."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def pdf(html: str) -> bytes:
    """The PDF of an HTML document that refers to nothing outside itself."""
    # Imported here: WeasyPrint loads Pango when imported, which only printing needs.
    import weasyprint

    # No base URL and a fetcher that fetches nothing: the text printed is people's, and no text
    # may make the server open a file or a URL. Charts and maps are inline SVG and need none.
    def refuse(url: str, *_: Any, **__: Any) -> dict[str, Any]:
        raise ValueError(f"a printed document refers to nothing outside itself: {url}")

    document: bytes = weasyprint.HTML(string=html, url_fetcher=refuse).write_pdf()
    return document
