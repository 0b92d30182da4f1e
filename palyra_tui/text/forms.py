"""The shapes a known secret takes in text, and the invisible characters that can split it.

A secret reaches a log line as itself, percent-encoded (with upper- or
lower-case hex, ``/`` encoded or kept) or JSON-escaped inside a larger text
(``\\/``, ``\\"``, ``\\u00e9``, ``\\u003c``).  Each form is registered and
replaced literally, which keeps redaction a few substring searches a chunk.

Zero-width characters and bidi controls inside a secret hide it from a literal
search while the terminal shows it whole.  :func:`strip_invisible` removes them
and the sanitizer's visible rendering of them (``\\u200b``), so the redactor can
match the text an operator actually reads.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, quote_plus

INVISIBLE_CLASS = "\u200b-\u200f\u2060\ufeff\u061c\u202a-\u202e\u2066-\u2069"
"""Zero-width characters (U+200B–U+200D, U+2060, U+FEFF) and bidi marks and
controls (U+200E, U+200F, U+061C, U+202A–U+202E, U+2066–U+2069)."""

_INVISIBLE = re.compile(
    f"[{INVISIBLE_CLASS}]+|(?:\\\\u(?i:200[b-f]|2060|feff|061c|202[a-e]|206[6-9]))+"
)
_RAW_INVISIBLE = re.compile(f"[{INVISIBLE_CLASS}]")
_MARK_ESCAPE = re.compile(r"\\u(?i:200[b-f]|2060|feff|061c|202[a-e]|206[6-9])")
_UPPER_HEX = re.compile(r"%[0-9A-F]{2}")
_UNICODE_ESCAPE = re.compile(r"\\u[0-9a-f]{4}")
_HTML_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def has_invisible(text: str) -> bool:
    """True when ``text`` holds an invisible character or the sanitizer's mark for one.

    Called for every chunk of output: a search for a backslash and the string's
    ASCII flag come first, because one regular expression for both shapes
    tries every position of the chunk and is ten times slower.
    """
    if "\\" in text and _MARK_ESCAPE.search(text) is not None:
        return True
    return not text.isascii() and _RAW_INVISIBLE.search(text) is not None


def strip_invisible(text: str) -> str:
    """``text`` without invisible characters and without their ``\\uXXXX`` marks."""
    return _INVISIBLE.sub("", text)


def _upper_escape(match: re.Match[str]) -> str:
    return "\\u" + match.group()[2:].upper()


def secret_forms(value: str) -> set[str]:
    """``value`` and every encoded form of it that :mod:`palyra_tui.text.redact` hides."""
    forms = {value, strip_invisible(value)}
    for safe in ("", "/"):
        for encoded in (quote(value, safe=safe), quote_plus(value, safe=safe)):
            forms.add(encoded)
            forms.add(_UPPER_HEX.sub(lambda match: match.group().lower(), encoded))
    for ascii_only in (True, False):
        escaped = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        for variant in (escaped, escaped.translate(_HTML_SAFE)):
            for solidus in (variant, variant.replace("/", "\\/")):
                forms.add(solidus)
                forms.add(_UNICODE_ESCAPE.sub(_upper_escape, solidus))
    forms.discard("")
    return forms
