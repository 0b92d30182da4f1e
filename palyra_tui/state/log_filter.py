"""Which log lines the log view shows and keeps, without any UI (no textual, no rich).

The filter value and its query rules decide what is shown; the backlog decides
what is kept: a bounded list of lines whose forgotten part is counted per
service in gap markers, so a trimmed or filtered view never hides a loss.
Kept apart from the widget so these rules can be tested without a terminal.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from palyra_tui.models import LogLevel, LogLine, LogStream
from palyra_tui.models.logs import line_bytes, line_costs

MAX_LINES = 50_000
"""Lines the view keeps for all services together, and for one service alone."""
TRIM_SLACK = MAX_LINES // 50
"""Lines past :data:`MAX_LINES` held before the oldest are dropped: trimming in small
steps keeps each step short while a flood arrives, and still not once a line."""
MAX_BYTES = 256 * 1024 * 1024
"""Bytes (as :func:`~palyra_tui.models.logs.line_bytes` counts them) the view keeps
unless told otherwise; the control center passes the supervisor's total log budget."""

History = Callable[[str, int], Sequence[LogLine]]
"""The newest ``count`` retained lines of one service, oldest first (``Supervisor.tail``)."""


def effective_level(line: LogLine) -> LogLevel:
    """The level a filter compares: a line without one counts as WARN on stderr
    (tracebacks, panics) and as INFO elsewhere."""
    if line.level is not None:
        return line.level
    return LogLevel.WARN if line.stream is LogStream.STDERR else LogLevel.INFO


def matches(line: LogLine, pattern: re.Pattern[str]) -> bool:
    """True when ``pattern`` occurs in the line's text, service or target."""
    return (
        pattern.search(line.text) is not None
        or pattern.search(line.service) is not None
        or (line.target is not None and pattern.search(line.target) is not None)
    )


@dataclass(frozen=True, slots=True)
class LogFilter:
    """What the view shows: a query (plain, ``re:`` regex, ``!`` inverted), levels, streams."""

    query: str = ""
    service: str | None = None
    min_level: LogLevel | None = None
    stream: LogStream | None = None

    def matcher(self) -> re.Pattern[str] | None:
        """The compiled query, or None when empty; raises ``re.error`` for a bad regex."""
        return compile_query(self.query.removeprefix("!"))

    def accepts(self, line: LogLine, pattern: re.Pattern[str] | None) -> bool:
        """True when ``line`` passes every part of the filter (gap markers pass all
        but the service filter, so a filter never hides a loss)."""
        if line.is_gap:
            return self.service is None or line.service == self.service
        if self.service is not None and line.service != self.service:
            return False
        if self.stream is not None and line.stream is not self.stream:
            return False
        if self.min_level is not None and effective_level(line) < self.min_level:
            return False
        if pattern is None:
            return True
        return matches(line, pattern) != self.query.startswith("!")


def compile_query(text: str) -> re.Pattern[str] | None:
    """``re:…`` as a regex, anything else literally, both ignoring case; None when empty."""
    if not text:
        return None
    if text.startswith("re:"):
        return re.compile(text[3:], re.IGNORECASE)
    return re.compile(re.escape(text), re.IGNORECASE)


class Jump(enum.Enum):
    """What a search for the next or previous match found."""

    FOUND = "found"
    WRAPPED = "wrapped"
    NOT_FOUND = "not found"
    NO_PATTERN = "no pattern"


class Backlog:
    """Lines oldest first, at most about ``MAX_LINES`` and at most ``max_bytes``; what
    it forgets is counted per service and stands in front of the lines as one gap
    marker per service.

    The view holds lines after the supervisor has rotated them out, so without a
    byte bound of its own a flood of wide lines would keep hundreds of megabytes
    alive here.  Callers only append to :attr:`lines`; :meth:`trim` counts what
    is new.
    """

    __slots__ = ("_bytes", "_counted", "_dropped", "_hint", "lines", "markers", "max_bytes")

    def __init__(self, hint: str = "", max_bytes: int = MAX_BYTES) -> None:
        self.lines: list[LogLine] = []
        self.markers: list[LogLine] = []
        self.max_bytes = max_bytes
        self._dropped: dict[str, tuple[int, LogLine]] = {}
        self._hint = hint
        self._bytes = 0
        self._counted = 0

    @property
    def bytes_held(self) -> int:
        """What the lines counted by the last :meth:`trim` cost."""
        return self._bytes

    def forget(self, lines: Iterable[LogLine]) -> None:
        """Count ``lines`` (a gap record counts what it stood for) as dropped."""
        for line in lines:
            count, _ = self._dropped.get(line.service, (0, line))
            self._dropped[line.service] = (count + (line.dropped or 1), line)
        self.markers = sorted(
            (_marker(last, count, self._hint) for count, last in self._dropped.values()),
            key=lambda marker: marker.ts,
        )

    def trim(self) -> list[LogLine]:
        """Drop the oldest lines once there are :data:`TRIM_SLACK` too many, or once they
        cost more than ``max_bytes`` (then down to nine tenths of it); returns them."""
        lines = self.lines
        self._bytes += sum(line_costs(lines[self._counted :]))
        self._counted = len(lines)
        cut = len(lines) - MAX_LINES if len(lines) > MAX_LINES + TRIM_SLACK else 0
        gone_bytes = 0
        if cut:
            gone_bytes = sum(line_costs(lines[:cut]))
        if self._bytes - gone_bytes > self.max_bytes:
            target = self._bytes - self.max_bytes + self.max_bytes // 10
            while cut < len(lines) and gone_bytes < target:
                gone_bytes += line_bytes(lines[cut])
                cut += 1
        if not cut:
            return []
        gone = lines[:cut]
        del lines[:cut]
        self._counted -= cut
        self._bytes -= gone_bytes
        self.forget(gone)
        return gone


def _marker(last: LogLine, count: int, hint: str) -> LogLine:
    noun = "line" if count == 1 else "lines"
    return LogLine(
        seq=last.seq,
        ts=last.ts,
        service=last.service,
        stream=LogStream.SUPERVISOR,
        message=f"⟂ {count:,} earlier {noun} dropped from this view{hint}",
        level=LogLevel.WARN,
        dropped=count,
    )
