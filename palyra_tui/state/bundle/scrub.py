"""Every member of a support bundle passes here before it is written.

The project's one redaction policy (:class:`~palyra_tui.text.Redactor`) runs
over each member with the secret values the runtime knows registered (admin
and browser tokens, a remote profile's token, an OpenAI key sent through it,
secret-named variables of its environment and of each service's ``env``).
Log lines were redacted when they were read; they are redacted again, in case
a secret became known later.

Two rules go further than the log pump's, because a bundle is read by someone
else.  Before the redactor, a private key written over several lines is hidden
from a ``-----BEGIN … PRIVATE KEY-----`` marker anywhere in a line (chat text, a
tool's input) up to its END marker, at most :data:`MAX_KEY_LINES` lines.  After
it, what is left of a known secret cut short is hidden: a run that starts a known
secret and holds at least half of it, and at least :data:`MIN_PIECE` characters (a
session is named after the first words of its first message, cut with ``…``).  Half,
so that a secret that is no random token (a path under a secret-named variable) does
not hide every path that shares its first directories.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from palyra_tui.text import MARK, Redactor

MIN_PIECE = 8
"""The shortest start of a known secret that is hidden where the rest of it is missing
(and it must hold half of the secret)."""
MAX_KEY_LINES = 256
"""Lines hidden after a BEGIN marker that no END marker follows (an RSA-16384 key has
fewer than 200)."""

_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY-----")


class Scrubber:
    """Redacts the text of a bundle's member; its repr shows no secret."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._redactor = Redactor()
        for secret in secrets:
            self._redactor.add_secret(secret)

    def __repr__(self) -> str:
        return f"Scrubber(<{len(self._redactor.secrets)} secret forms>)"

    def __call__(self, text: str) -> str:
        """``text`` without secrets."""
        redacted = self._redactor.redact(hide_key_blocks(text))
        for secret in self._redactor.secrets:
            redacted = hide_pieces(redacted, secret)
        return redacted


def hide_pieces(text: str, secret: str) -> str:
    """``text`` with every run that starts ``secret`` and holds at least half of it and
    :data:`MIN_PIECE` characters (a secret cut short) replaced by the mark."""
    shortest = max(MIN_PIECE, (len(secret) + 1) // 2)
    head = secret[:MIN_PIECE]
    if len(secret) < shortest or head not in text:
        return text
    pieces: list[str] = []
    done = 0
    found = text.find(head)
    while found != -1:
        length = MIN_PIECE
        limit = min(len(secret), len(text) - found)
        while length < limit and text[found + length] == secret[length]:
            length += 1
        if length >= shortest:
            pieces += [text[done:found], MARK]
            done = found + length
        found = text.find(head, found + length)
    pieces.append(text[done:])
    return "".join(pieces)


def hide_key_blocks(text: str) -> str:
    """``text`` with each private key written over several lines replaced by marks."""
    if "PRIVATE KEY-----" not in text:
        return text
    kept: list[str] = []
    hiding = 0
    for line in text.split("\n"):
        if hiding:
            indent = line[: len(line) - len(line.lstrip())]
            end = _END.search(line)
            if end is not None:
                kept.append(indent + MARK + line[end.end() :])
                hiding = 0
            else:
                kept.append(indent + MARK)
                hiding = hiding + 1 if hiding < MAX_KEY_LINES else 0
            continue
        begin = _BEGIN.search(line)
        if begin is None or _END.search(line, begin.end()) is not None:
            kept.append(line)  # an END on the same line: the redactor's inline rule hides it
            continue
        kept.append(line[: begin.start()] + MARK)
        hiding = 1
    return "\n".join(kept)
