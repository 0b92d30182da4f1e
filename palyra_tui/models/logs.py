"""Value types for captured log lines.

Log lines are the most numerous objects palyra-tui holds and are built on the
ingest hot path (300k lines/s on one core), so :class:`LogLine` is an immutable
``NamedTuple``: it builds three times faster than a frozen dataclass and holds
the display text split into ``message`` and ``fields`` rather than a second
rendered copy.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class LogCounters:
    """What happened to a service's output so far.

    ``evicted`` lines rotated out of the ring buffer (older than its capacity);
    ``truncated`` lines were longer than the line cap and were cut with a mark.
    """

    total: int = 0
    retained: int = 0
    evicted: int = 0
    truncated: int = 0
    bytes_read: int = 0
