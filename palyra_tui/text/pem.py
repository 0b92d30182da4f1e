"""Hide PEM private-key blocks in a stream of log lines, without letting a stray
header hide the stream.

A block starts only on a line that *is* a PEM header: after trimming and after
an optional log prefix (a timestamp, a level word, one ``target:``), nothing but
``-----BEGIN … PRIVATE KEY-----`` is left.  A header inside ordinary text
(``docs: -----BEGIN RSA PRIVATE KEY----- is the header``) starts nothing, so
text a user controls cannot blank a daemon's output.  Inside a block every line
is replaced by ``<redacted>`` until the END marker, and at most
:data:`MAX_BLOCK_LINES` lines or :data:`MAX_BLOCK_BYTES` characters are hidden
(an RSA-16384 key has under 200 lines of 64 characters); a block that runs past
the cap, or meets a JSON line (never key material), ends with a note and the
stream shows again.  Keys that sit inside one line (JSON-escaped) are the
redactor's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARK = "<redacted>"
MAX_BLOCK_LINES = 256
MAX_BLOCK_BYTES = 64 * 1024

_HEADER_LINE = re.compile(
    r"[ \t]*"
    r"(?:\[?\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\]?[ \t]+)?"
    r"(?:\[?(?:TRACE|DEBUG|INFO|WARN|WARNING|ERROR)\]?:?[ \t]+)?"
    r"(?:[A-Za-z_][\w.\-]*(?:::[\w.\-]+)*:[ \t]+)?"
    r"(?P<marker>-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)[ \t]*\Z"
)
_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY-----")


def header_prefix(line: str) -> str | None:
    """What comes before the marker when ``line`` is a PEM private-key header, else None."""
    if "PRIVATE KEY-----" not in line:
        return None
    match = _HEADER_LINE.match(line)
    return None if match is None else line[: match.start("marker")]


def ends_private_key(line: str) -> bool:
    """True when ``line`` closes a PEM private-key block."""
    return "PRIVATE KEY-----" in line and _END.search(line) is not None


@dataclass(frozen=True, slots=True)
class HiddenLines:
    """The lines to store, how many were hidden, and the notes to store among them.

    Each note is ``(index, message)``: it goes before ``lines[index]``.
    """

    lines: list[str]
    hidden: int
    notes: tuple[tuple[int, str], ...] = ()


class KeyBlocks:
    """The private-key block state of one output stream of one process."""

    __slots__ = ("_bytes", "_lines", "inside", "max_bytes", "max_lines")

    def __init__(self, max_lines: int = MAX_BLOCK_LINES, max_bytes: int = MAX_BLOCK_BYTES) -> None:
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.inside = False
        self._lines = 0
        self._bytes = 0

    def hide(self, lines: list[str]) -> HiddenLines:
        """Replace the lines of private-key blocks in ``lines`` (consecutive output)."""
        kept: list[str] = []
        notes: list[tuple[int, str]] = []
        hidden = 0
        for line in lines:
            if not self.inside:
                prefix = header_prefix(line)
                if prefix is None:
                    kept.append(line)
                else:
                    kept.append(prefix + MARK)
                    self.inside = True
                    self._lines = self._bytes = 0
                continue
            if line.lstrip().startswith("{"):
                self.inside = False
                notes.append((len(kept), self._note("then a JSON line came before an END marker")))
                kept.append(line)
                continue
            kept.append(MARK)
            hidden += 1
            self._lines += 1
            self._bytes += len(line) + 1
            if ends_private_key(line):
                self.inside = False
            elif self._lines >= self.max_lines or self._bytes >= self.max_bytes:
                self.inside = False
                cap = f"{self.max_lines} lines or {self.max_bytes // 1024} KiB"
                notes.append((len(kept), self._note(f"and no END marker within {cap}")))
        return HiddenLines(kept, hidden, tuple(notes))

    def _note(self, what: str) -> str:
        noun = "line" if self._lines == 1 else "lines"
        return (
            f"private key: hid {self._lines:,} {noun} after the header {what}; showing output again"
        )
