"""Remove secrets from text before it is stored, written or shown.

Two passes, in this order:

1. **By value.**  The supervisor knows every secret it hands to a daemon (admin
   and browser tokens, secrets in a service's ``env``) and the secret-named
   variables of its own environment; each is replaced literally, also in its
   percent-encoded and JSON-escaped forms (:mod:`palyra_tui.text.forms`).
   Values shorter than :data:`MIN_SECRET_LENGTH` characters are not
   registered: hiding them would blank out ordinary words.
2. **By pattern**, following the desktop companion's rules:
   ``key=value`` / ``key: value`` / ``"key":"value"`` where the key names a
   secret, the token after ``Bearer``, user info in URLs, sensitive URL query
   parameters, well-known credential shapes (``sk-…``, ``ghp_…``, ``AKIA…``,
   JWTs) and private keys written inside one line (JSON-escaped PEM).  Keys
   written over several lines are hidden by :mod:`palyra_tui.text.pem`.

Text with zero-width characters or bidi controls in it (raw, or as the
sanitizer's ``\u200b`` marks) is also redacted without them.  When that hides
something the first result shows, the lines concerned are returned without
them, so a secret split by an invisible character is still caught; everywhere
else the marks stay visible.

Unlike the desktop, ``session`` and ``sig`` are not treated as secret words on
their own (``session_id`` and ``signal`` are what an operator correlates logs
by), and keys that plainly hold counts, ids, flags or times (``max_tokens``,
``token_id``, ``admin_token_configured``) keep their values.

A cheap scan for trigger words guards the regular expressions, so text with
nothing secret-like in it costs a lowercase copy and a few substring searches.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable

from palyra_tui.text.forms import has_invisible, secret_forms, strip_invisible

MARK = "<redacted>"
MIN_SECRET_LENGTH = 6

_SECRET_WORDS = (
    "token",
    "secret",
    "passwd",
    "password",
    "passphrase",
    "apikey",
    "api_key",
    "api-key",
    "authorization",
    "credential",
    "cookie",
    "private_key",
    "private-key",
    "privatekey",
    "signature",
    "vault_ref",
)

_KEY_HINTS = (*_SECRET_WORDS, "sig")
_SHAPE_HINTS = ("sk-", "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_", "akia", "xox", "eyj")

_NORMALIZED_WORDS = tuple(
    sorted({re.sub(r"[^a-z0-9]+", "_", word).strip("_") for word in _SECRET_WORDS})
)

_ASSIGNMENT = re.compile(
    r"(?P<key>[A-Za-z_][\w.\-]{0,63})"
    r"(?P<sep>(?:\\?[\"'])?[ \t]*[=:][ \t]*(?:\\?[\"'])?)"
    r"(?P<value>(?:[Bb]earer[ \t]+|[Bb]asic[ \t]+)?[^\s\"'\\,;&)\]}<>]+)"
)
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_MAX_KEY = 64

_BEARER = re.compile(r"\b(?P<scheme>[Bb]earer|BEARER)[ \t]+(?P<value>[^\s\"'\\,;<>]+)")

_USERINFO = re.compile(r"://(?P<info>[^/\s@\"'<>]+)@")

_SHAPES = re.compile(
    r"\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}"
    r"|gh[pousr]_[A-Za-z0-9]{20,}"
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|AKIA[0-9A-Z]{16}"
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}"
    r"|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})"
)

# A key inside one line: the BEGIN marker up to the END marker, or with the base64 that
# follows it.  The lazy scan for END stops at the next BEGIN, so a line full of markers
# costs linear time.
_INLINE_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
    r"(?:(?:(?!-----BEGIN )[^\n])*?-----END [A-Z0-9 ]*PRIVATE KEY-----"
    r"|(?:\\[nr]|⏎|[A-Za-z0-9+/=]|[ \t]+(?=[A-Za-z0-9+/=]{16}))+)"
)

_HARMLESS_SUFFIXES = (
    "tokens",
    "_id",
    "_ids",
    "_count",
    "_ms",
    "_at",
    "_len",
    "_length",
    "_bytes",
    "_enabled",
    "_configured",
    "_required",
    "_present",
    "_kind",
    "_type",
    "_source",
)

_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_KEY_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_COOKIE_HEADER = re.compile(
    r"(?P<key>\b(?:set-)?cookie)(?P<sep>[\"']?[ \t]*[:=][ \t]*[\"']?)(?P<value>[^\"\n]+)",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=4096)
def is_sensitive_key(key: str) -> bool:
    """True when a ``key=value`` pair with this key holds a secret.

    ``privateKey``, ``private-key`` and ``PRIVATE_KEY`` all normalise to
    ``private_key``.
    """
    normalized = _NON_ALNUM.sub("_", _CAMEL.sub(r"\1_\2", key).lower())
    if normalized.endswith(_HARMLESS_SUFFIXES):
        return False
    if any(word in normalized for word in _NORMALIZED_WORDS):
        return True
    return "sig" in normalized.split("_")


def _redact_assignments(text: str, lowered: str) -> str:
    """Redact ``key=value`` pairs whose key names a secret.

    Instead of running one slow alternation over the whole text, find each
    secret word with ``str.find`` and try the assignment pattern only where the
    key around that word starts.
    """
    starts: set[int] = set()
    for word in _KEY_HINTS:
        index = lowered.find(word)
        while index != -1:
            start = index
            limit = max(0, index - _MAX_KEY)
            while start > limit and text[start - 1] in _KEY_CHARS:
                start -= 1
            while start < index and text[start] not in _KEY_START:
                start += 1
            starts.add(start)
            index = lowered.find(word, index + len(word))
    if not starts:
        return text
    pieces: list[str] = []
    done = 0
    for start in sorted(starts):
        if start < done:
            continue
        match = _ASSIGNMENT.match(text, start)
        if match is None or not is_sensitive_key(match.group("key")):
            continue
        pieces.append(text[done : match.start("value")])
        pieces.append(MARK)
        done = match.end()
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _lower(text: str) -> str:
    """``text`` lowercased, index for index: the secret words are ASCII, and a few
    characters (such as ``İ``) grow when ``str.lower`` folds them, which would
    shift every position found in the lowered copy."""
    lowered = text.lower()
    if len(lowered) != len(text):
        lowered = text.translate(_ASCII_LOWER)
    return lowered


class Redactor:
    """Replaces known secret values and secret-shaped text with ``<redacted>``.

    One redactor is shared by a supervisor and everything that shows its output;
    :meth:`add_secret` registers values as they become known.  Reading and adding
    are safe from several threads: the value list is replaced, never mutated.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values: tuple[str, ...] = ()
        for secret in secrets:
            self.add_secret(secret)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The literal values this redactor hides (longest first)."""
        return self._values

    def add_secret(self, value: str) -> None:
        """Hide ``value`` and its encoded forms from now on.

        Values shorter than :data:`MIN_SECRET_LENGTH` characters are ignored.
        """
        value = value.strip()
        if len(value) < MIN_SECRET_LENGTH:
            return
        merged = set(self._values) | secret_forms(value)
        self._values = tuple(sorted(merged, key=len, reverse=True))

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret it contains replaced by ``<redacted>``."""
        redacted = self._redact(text)
        if not has_invisible(text):
            return redacted
        clean = self._redact(strip_invisible(text))
        if strip_invisible(redacted) == clean:
            return redacted
        if "\n" in text:
            by_line = "\n".join(self.redact(line) for line in text.split("\n"))
            if strip_invisible(by_line) == clean:
                return by_line
        return clean

    def _redact(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MARK)
        lowered = _lower(text)
        if "://" in lowered:
            text = _USERINFO.sub(f"://{MARK}@", text)
            lowered = _lower(text)
        if "cookie" in lowered:
            text = _COOKIE_HEADER.sub(rf"\g<key>\g<sep>{MARK}", text)
            lowered = _lower(text)
        text = _redact_assignments(text, lowered)
        if "bearer" in lowered:
            text = _BEARER.sub(rf"\g<scheme> {MARK}", text)
        if any(hint in lowered for hint in _SHAPE_HINTS):
            text = _SHAPES.sub(MARK, text)
        if "PRIVATE KEY-----" in text:
            text = _INLINE_KEY.sub(MARK, text)
        return text

    def truncated_tail(self, text: str) -> str:
        """Hide a known secret that a truncation cut in half at the end of ``text``."""
        for value in self._values:
            for size in range(min(len(value) - 1, len(text)), 3, -1):
                if text.endswith(value[:size]):
                    return text[:-size] + MARK
        return text
