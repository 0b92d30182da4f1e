"""Value types for captured log lines.

Log lines are the most numerous objects palyra-tui holds and are built on the
ingest hot path (300k lines/s on one core), so :class:`LogLine` is an immutable
``NamedTuple``: it builds three times faster than a frozen dataclass and holds
the display text split into ``message`` and ``fields`` rather than a second
rendered copy.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import add, attrgetter
from typing import NamedTuple


class LogStream(enum.Enum):
    """Where a line came from."""

    STDOUT = "stdout"
    STDERR = "stderr"
    SUPERVISOR = "supervisor"


class LogLevel(enum.IntEnum):
    """Severity, ordered so that filters can say "WARN and above"."""

    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4

    @classmethod
    def parse(cls, text: str) -> LogLevel | None:
        """Map a daemon's level name (``INFO``, ``warning``, ``err``…) to a level."""
        return _LEVEL_NAMES.get(text.strip().lower())


_LEVEL_NAMES: dict[str, LogLevel] = {
    "trace": LogLevel.TRACE,
    "debug": LogLevel.DEBUG,
    "info": LogLevel.INFO,
    "warn": LogLevel.WARN,
    "warning": LogLevel.WARN,
    "error": LogLevel.ERROR,
    "err": LogLevel.ERROR,
    "fatal": LogLevel.ERROR,
    "critical": LogLevel.ERROR,
}

NO_FIELDS: tuple[tuple[str, str], ...] = ()


class LogLine(NamedTuple):
    """One sanitized, redacted line of a service's output.

    ``seq`` counts every line a service ever produced, so a reader that holds the
    last ``seq`` it saw can tell exactly how many lines it missed.  A gap record
    (``dropped > 0``) stands in for lines that a reader could no longer get.
    """

    seq: int
    ts: float
    service: str
    stream: LogStream
    message: str
    level: LogLevel | None = None
    target: str | None = None
    fields: tuple[tuple[str, str], ...] = NO_FIELDS
    truncated: bool = False
    dropped: int = 0

    @property
    def text(self) -> str:
        """The line as an operator reads it: message, then ``key=value`` fields."""
        if not self.fields:
            return self.message
        rendered = " ".join(f"{key}={value}" for key, value in self.fields)
        return f"{self.message} {rendered}" if self.message else rendered

    @property
    def is_gap(self) -> bool:
        """True for a record that says lines were lost here."""
        return self.dropped > 0


# What a line costs in memory, for the byte budgets of the log store and the log view.

LINE_OVERHEAD = 256
"""Bytes a line costs besides its strings: the ten-slot tuple (120), its time and
seq (52), its cost as a number (28) and two ring slots (16), with room for the
allocator's rounding."""
FIELD_OVERHEAD = 72
"""Bytes a structured field costs besides its key and value: the pair (56) and its
slot in the line's field tuple (8), with room for the tuple's header."""

_size = str.__sizeof__
_message = attrgetter("message")
_target = attrgetter("target")
_fields = attrgetter("fields")


def line_bytes(line: LogLine) -> int:
    """What ``line`` counts against a byte budget.

    Strings count at their size in memory (about 50 bytes plus one byte a
    character for ASCII and Latin-1 text, two or four for wider characters).
    """
    return LINE_OVERHEAD + _size(line.message) + _extra_bytes(line)


def line_costs(lines: Sequence[LogLine]) -> list[int]:
    """``[line_bytes(line) for line in lines]``, without a Python call per plain line
    (the ingest path stores hundreds of thousands of lines a second)."""
    costs = list(map(add, repeat(LINE_OVERHEAD), map(_size, map(_message, lines))))
    if any(map(_fields, lines)) or any(map(_target, lines)):
        costs = list(map(add, costs, map(_extra_bytes, lines)))
    return costs


def _extra_bytes(line: LogLine) -> int:
    target = line.target
    size = 0 if target is None else _size(target)
    for key, value in line.fields:
        size += FIELD_OVERHEAD + _size(key) + _size(value)
    return size


@dataclass(frozen=True, slots=True)
class LogCounters:
    """What happened to a service's output so far.

    ``evicted`` lines rotated out of the ring buffer (past its line count or a
    byte budget); ``truncated`` lines were longer than the line cap and were cut
    with a mark; ``hidden`` lines were replaced because they were inside a PEM
    private-key block; ``retained_bytes`` is what the retained lines count
    against the byte budgets.
    """

    total: int = 0
    retained: int = 0
    evicted: int = 0
    truncated: int = 0
    bytes_read: int = 0
    retained_bytes: int = 0
    hidden: int = 0
