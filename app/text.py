"""Text no person types: control characters, lone surrogates and non-characters.

PostgreSQL cannot store U+0000, XML (CAP, Atom) cannot carry the C0 controls, e-mail headers
break on line ends, and a lone surrogate cannot even be encoded as UTF-8. Such text is
refused where it comes in (request bodies, query strings), so that nothing stored can later
fail a feed, a delivery or a partner's parser; the XML writers still drop it from what was
stored before this check existed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson

# Tab, line feed and carriage return are text; the other C0 controls, DEL, the UTF-16
# surrogates and the two non-characters XML 1.0 excludes are not. Written as escapes that
# Python's, JavaScript's and Rust's regular expressions read alike: the API description gives
# TEXT_PATTERN to every text a request carries (app/api/openapi.py). It leaves the surrogates
# out: a lone one is no Unicode character, so validators working on characters (Rust's, which
# schemathesis uses) cannot even write the range, and no UTF-8 client can send one.
_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff"
_NOT_TEXT = re.compile(rf"[{_CONTROLS}\ud800-\udfff]")
TEXT_PATTERN = f"^[^{_CONTROLS}]*$"


def first_bad_character(value: str) -> str | None:
    match = _NOT_TEXT.search(value)
    return match.group() if match else None


def describe(char: str) -> str:
    return f"control character U+{ord(char):04X} is not allowed in text"


# How such characters come out of orjson: C0 controls as \u00XX or \b \f, DEL and the two
# non-characters as themselves (UTF-8); a lone surrogate it refuses to encode. A match may also
# be an escaped backslash followed by "b" or "u0001": only a hint, which the walk then settles.
_NOT_TEXT_ENCODED = re.compile(rb"\\u00(?:0[0-8bcef]|1[0-9a-f])|\\[bf]|\x7f|\xef\xbf[\xbe\xbf]")


def bad_text(data: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(where, what) for every string in a JSON value, keys included, that holds a character
    no text should.

    A request body of ten thousand coordinates holds no text at all, and walking it in Python
    cost 60 ms of the event loop: it is first encoded at C speed and searched, and walked only
    when that finds a sign of such a character."""
    try:
        hint = _NOT_TEXT_ENCODED.search(orjson.dumps(data)) is not None
    except (orjson.JSONEncodeError, TypeError):
        hint = True  # a lone surrogate, or something that is not JSON: the walk tells
    return _walk(data, ()) if hint else iter(())


def _walk(data: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(data, str):
        char = first_bad_character(data)
        if char is not None:
            yield loc, describe(char)
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _walk(key, (*loc, str(key)))
            yield from _walk(value, (*loc, str(key)))
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            yield from _walk(value, (*loc, i))


def xml_safe(value: str) -> str:
    return _NOT_TEXT.sub("", value)


def one_line(value: str) -> str:
    """For a mail header or a subject: line ends and runs of spaces become one space."""
    return " ".join(value.split())


# A spreadsheet reads a cell that starts with one of these as a formula (`=cmd|' /C calc'!A0`,
# `@SUM(...)`, or after a tab or carriage return): OWASP's CSV-injection advice is to make it
# text with a leading apostrophe. Every CSV the service writes (exports, reports) goes through
# this one function.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A value as one CSV cell a spreadsheet shows as text, never runs. Numbers stay numbers
    (a longitude of -0.5 is data, not a formula)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_value(cell: str) -> str:
    """A cell read back as it was before csv_cell made it text (a CSV import of an export)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_START) else cell
