"""A feed document (Atom 1.0, RSS 2.0 or 1.0; feedparser reads them all) as the entries it
lists, each with the CAP messages it carries inline or links to. Pure and CPU-bound: the poller
runs it off the event loop (app.cpu).

The document is untrusted: it is first parsed with defusedxml (no DTD, so no entity expansion
nor external entity), which also finds CAP <alert> elements carried inside entries (feedparser
keeps an entry's text and links, not the foreign XML within it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin
from xml.etree.ElementTree import Element, ParseError, tostring

import defusedxml
import defusedxml.ElementTree as safe_xml
import feedparser

from app.alerts.lifecycle.cap import NS as CAP_NS

ATOM = "{http://www.w3.org/2005/Atom}"
RSS1 = "{http://purl.org/rss/1.0/}"
RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"
CAP_ALERT = "{" + CAP_NS + "}alert"
ENTRY_TAGS = (ATOM + "entry", "item", RSS1 + "item")


class FeedInvalid(Exception):
    """The document is not a feed that can be read (or carries a DTD, refused)."""


@dataclass(frozen=True)
class Entry:
    # Changes when the entry does (its `updated`, or what it carries): an entry already
    # handled under this key is not fetched again.
    key: str
    id: str
    inline: list[bytes] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


def _safe_root(data: bytes) -> Element:
    try:
        root = safe_xml.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DTDForbidden:
        raise FeedInvalid("a DTD (<!DOCTYPE …>) is not accepted in a feed") from None
    except defusedxml.DefusedXmlException as e:
        raise FeedInvalid(f"refused XML: {type(e).__name__}") from None
    except ParseError as e:
        raise FeedInvalid(f"not well-formed XML: {e}") from None
    if not isinstance(root, Element):
        raise FeedInvalid("not an XML document")
    return root


def _entry_id(element: Element) -> str | None:
    for path in (ATOM + "id", "guid", "link", RSS1 + "link"):
        text = (element.findtext(path) or "").strip()
        if text:
            return text
    about = element.get(RDF_ABOUT)
    return about.strip() if about else None


def _inline_alerts(root: Element) -> dict[str, list[bytes]]:
    found: dict[str, list[bytes]] = {}
    for element in root.iter():
        if element.tag not in ENTRY_TAGS:
            continue
        alerts = [tostring(a, encoding="utf-8") for a in element.iter(CAP_ALERT)]
        ident = _entry_id(element)
        if alerts and ident:
            found.setdefault(ident, []).extend(alerts)
    return found


def _is_cap(link: Any) -> bool:
    kind = (link.get("type") or "").lower()
    return "cap" in kind


def _key(ident: str, updated: str, inline: list[bytes], links: list[str]) -> str:
    digest = hashlib.sha256()
    for part in (*inline, *(u.encode() for u in links)):
        digest.update(part)
    return f"{ident}|{updated}|{digest.hexdigest()[:16]}"


def entries(data: bytes, base_url: str, max_entries: int) -> list[Entry]:
    """The entries of a feed (at most `max_entries`, in the feed's order: newest first, as
    feeds list them), or the document itself when it is one CAP message."""
    root = _safe_root(data)
    if root.tag == CAP_ALERT:
        return [Entry(_key(base_url, "", [data], []), base_url, inline=[data])]
    inline = _inline_alerts(root)
    parsed = feedparser.parse(data)
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise FeedInvalid(f"not an Atom or RSS feed{f': {problem}' if problem else ''}")
    found: list[Entry] = []
    for item in parsed.entries[:max_entries]:
        ident = item.get("id") or item.get("link")
        if not ident:
            continue
        carried = inline.get(ident, [])
        links = [urljoin(base_url, x["href"]) for x in item.get("links", []) if _is_cap(x)]
        links += [
            urljoin(base_url, x["href"])
            for x in item.get("enclosures", [])
            if _is_cap(x) and x.get("href")
        ]
        if not carried and not links and item.get("link"):
            # A feed that names no type: the entry's own link is taken to be the message.
            links = [urljoin(base_url, item["link"])]
        links = list(dict.fromkeys(links))
        updated = item.get("updated") or item.get("published") or ""
        found.append(Entry(_key(ident, updated, carried, links), ident, carried, links))
    return found
