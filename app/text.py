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

# Tab, line feed and carriage return are text; the other C0 controls, DEL, the UTF-16
# surrogates and the two non-characters XML 1.0 excludes are not.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def first_bad_character(value: str) -> str | None:
    match = _NOT_TEXT.search(value)
    return match.group() if match else None


def describe(char: str) -> str:
    return f"control character U+{ord(char):04X} is not allowed in text"


def bad_text(
    data: Any, loc: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(where, what) for every string in a JSON value, keys included, that holds a character
    no text should."""
    if isinstance(data, str):
        char = first_bad_character(data)
        if char is not None:
            yield loc, describe(char)
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from bad_text(key, (*loc, str(key)))
            yield from bad_text(value, (*loc, str(key)))
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            yield from bad_text(value, (*loc, i))


def xml_safe(value: str) -> str:
    return _NOT_TEXT.sub("", value)


def one_line(value: str) -> str:
    """For a mail header or a subject: line ends and runs of spaces become one space."""
    return " ".join(value.split())
