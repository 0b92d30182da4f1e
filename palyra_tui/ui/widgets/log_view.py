"""A log viewer over the supervisor's lines, built on Textual's Line API.

Only the visible rows are rendered, so the cost of a frame follows the height
of the terminal, not the number of lines or the rate at which they arrive.
Lines are already sanitized and redacted by the supervisor; they are drawn as
plain ``Text`` and never parsed as markup.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from palyra_tui.models import LogLevel, LogLine, LogStream

MAX_LINES = 50_000
# INFO and stdout, by far the most common, carry no style: every style change costs
# about twenty bytes per row on the wire, and a busy tail redraws every row.
_LEVEL_STYLES = {
    LogLevel.ERROR: "bold red",
    LogLevel.WARN: "yellow",
    LogLevel.DEBUG: "blue",
    LogLevel.TRACE: "dim",
}
_STREAM_STYLES = {LogStream.STDERR: "magenta", LogStream.SUPERVISOR: "cyan"}


@dataclass(frozen=True, slots=True)
class LogFilter:
    """What the view shows: a query (plain, ``re:`` regex, ``!`` inverted), levels, streams."""

    query: str = ""
    service: str | None = None
    min_level: LogLevel | None = None
    stream: LogStream | None = None

    def matcher(self) -> re.Pattern[str] | None:
        """The compiled query, or None when empty; raises ``re.error`` for a bad regex."""
        text = self.query.removeprefix("!")
        if not text:
            return None
        if text.startswith("re:"):
            return re.compile(text[3:], re.IGNORECASE)
        return re.compile(re.escape(text), re.IGNORECASE)

    def accepts(self, line: LogLine, pattern: re.Pattern[str] | None) -> bool:
        """True when ``line`` passes every part of the filter."""
        if line.is_gap:
            return self.service is None or line.service == self.service
        if self.service is not None and line.service != self.service:
            return False
        if self.stream is not None and line.stream is not self.stream:
            return False
        if self.min_level is not None and (line.level is None or line.level < self.min_level):
            return False
        if pattern is None:
            return True
        found = pattern.search(line.text) is not None
        return not found if self.query.startswith("!") else found


class LogView(ScrollView, can_focus=True):
    """Shows log lines; follows the tail until the operator scrolls up."""

    # No horizontal scrollbar: it is redrawn cell by cell on every frame (about 6 KB
    # at 120 columns), so long lines scroll sideways with the arrow keys instead.
    DEFAULT_CSS = """
    LogView {
        background: $surface;
        overflow-x: hidden;
        overflow-y: scroll;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "sideways(-20)", "Scroll left", show=False),
        Binding("right", "sideways(20)", "Scroll right", show=False),
    ]

    follow: var[bool] = var(True)
    """Keep the newest line in view."""

    class Changed(Message):
        """The filter, follow mode or cursor changed (for the screen's title); new lines
        do not post it, the screen's feed updates the title after each batch."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._all: list[LogLine] = []
        self._view: list[LogLine] = []
        self._filter = LogFilter()
        self._pattern: re.Pattern[str] | None = None
        self._find: re.Pattern[str] | None = None
        self.cursor: int | None = None
        self._width = 0

    @property
    def lines(self) -> tuple[LogLine, ...]:
        """The lines the view shows now."""
        return tuple(self._view)

    @property
    def line_count(self) -> int:
        """How many lines the view shows now (without copying them)."""
        return len(self._view)

    @property
    def current_filter(self) -> LogFilter:
        """The active filter."""
        return self._filter

    def write(self, batch: Iterable[LogLine]) -> None:
        """Add lines (oldest first)."""
        new = list(batch)
        if not new:
            return
        self._all.extend(new)
        shown = [line for line in new if self._filter.accepts(line, self._pattern)]
        self._view.extend(shown)
        trimmed = 0
        if len(self._all) > MAX_LINES * 1.1:
            trimmed = self._trim(len(self._all) - MAX_LINES)
        if shown or trimmed:
            self._grow(shown)

    def set_filter(self, log_filter: LogFilter) -> None:
        """Show only the lines that pass ``log_filter`` (raises ``re.error`` for a bad regex)."""
        pattern = log_filter.matcher()
        self._filter = log_filter
        self._pattern = pattern
        self._rebuild()
        self._after_change()

    def set_find(self, query: str) -> None:
        """Remember a pattern for :meth:`jump`; lines matching it are highlighted."""
        try:
            self._find = LogFilter(query=query.removeprefix("!")).matcher()
        except re.error:
            self._find = None
        self.refresh()

    def jump(self, forward: bool) -> bool:
        """Move the cursor to the next (or previous) line matching the find pattern."""
        if self._find is None or not self._view:
            return False
        start = self.cursor if self.cursor is not None else len(self._view) - 1
        indices = range(start + 1, len(self._view)) if forward else range(start - 1, -1, -1)
        for index in indices:
            if self._find.search(self._view[index].text):
                self.follow = False
                self.move_cursor(index)
                return True
        return False

    def action_sideways(self, columns: int) -> None:
        """Scroll long lines sideways (there is no horizontal scrollbar)."""
        self.scroll_to(x=max(0, self.scroll_x + columns), animate=False, force=True)

    def move_cursor(self, index: int) -> None:
        """Select a line and scroll it into view."""
        if not self._view:
            self.cursor = None
            return
        self.cursor = max(0, min(index, len(self._view) - 1))
        top = self.scroll_offset.y
        height = max(1, self.size.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)
        self.refresh()
        self.post_message(self.Changed())

    def selected_line(self) -> LogLine | None:
        """The line under the cursor, else the newest."""
        if not self._view:
            return None
        index = self.cursor if self.cursor is not None else len(self._view) - 1
        return self._view[index]

    def export(self) -> str:
        """The view as plain text, one line each."""
        return "\n".join(format_line(line).plain for line in self._view) + "\n"

    def resume_follow(self) -> None:
        """Jump to the newest line and keep following."""
        self.follow = True
        self.cursor = None
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.post_message(self.Changed())

    # Scrolling decides follow mode ------------------------------------------

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new < old and not self.is_vertical_scroll_end:
            if self.follow:
                self.follow = False
                self.post_message(self.Changed())
        elif self.is_vertical_scroll_end and not self.follow and self.cursor is None:
            self.follow = True
            self.post_message(self.Changed())

    # Rendering ----------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        style = self.rich_style
        if index >= len(self._view):
            return Strip.blank(width, style)
        text = format_line(self._view[index])
        if self._find is not None:
            text.highlight_regex(self._find, "reverse")
        if index == self.cursor:
            text.stylize("reverse bold")
        segments = list(text.render(self.app.console))
        strip = Strip([Segment(s.text.replace("\n", " "), s.style, s.control) for s in segments])
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_offsets(scroll_x, index)

    def _trim(self, count: int) -> int:
        """Forget the ``count`` oldest lines (from the view too) without refiltering.

        Returns how many of them the view showed.
        """
        dropped = {id(line) for line in self._all[:count]}
        del self._all[:count]
        keep = 0
        while keep < len(self._view) and id(self._view[keep]) in dropped:
            keep += 1
        if keep:
            del self._view[:keep]
            if self.cursor is not None:
                self.cursor = max(0, self.cursor - keep)
        return keep

    def _rebuild(self) -> None:
        self._view = [line for line in self._all if self._filter.accepts(line, self._pattern)]
        self._width = max((line_width(line) for line in self._view[-2000:]), default=0)
        self.virtual_size = Size(self._width, len(self._view))
        self.cursor = None
        if self.follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def _grow(self, shown: list[LogLine]) -> None:
        widest = max((line_width(line) for line in shown), default=0)
        if widest > self._width:
            self._width = widest
        self.virtual_size = Size(self._width, len(self._view))
        if self.follow:
            bottom = self.max_scroll_y
            if bottom != self.scroll_y:
                self.scroll_to(y=bottom, animate=False, immediate=True)
                return
        self.refresh()

    def _after_change(self) -> None:
        self.post_message(self.Changed())


def line_width(line: LogLine) -> int:
    """The cells :func:`format_line` needs, close enough to size the scroll area cheaply."""
    width = 16 + len(line.service) + len(line.message)
    if line.target:
        width += len(line.target) + 2
    for key, value in line.fields:
        width += len(key) + len(value) + 2
    return width


def format_line(line: LogLine) -> Text:
    """``12:00:01 gateway INFO message`` with styles; never markup."""
    stamp = time.strftime("%H:%M:%S", time.localtime(line.ts))
    text = Text(no_wrap=True, end="")
    text.append(stamp, style="dim")
    text.append(" ")
    text.append(line.service, style=_STREAM_STYLES.get(line.stream, ""))
    text.append(" ")
    if line.is_gap:
        text.append(line.message, style=Style(color="yellow", bold=True, italic=True))
        return text
    level = line.level.name if line.level is not None else "-"
    text.append(f"{level:<5}", style=_LEVEL_STYLES.get(line.level, "") if line.level else "dim")
    text.append(" ")
    if line.target:
        text.append(line.target, style="dim")
        text.append(": ")
    text.append(line.text)
    return text
