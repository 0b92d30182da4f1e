"""A log viewer over the supervisor's lines, built on Textual's Line API.

Only the visible rows are rendered, so the cost of a frame follows the height
of the terminal, not the number of lines or the rate at which they arrive.
Lines are already sanitized and redacted by the supervisor; they are drawn as
plain ``Text`` and never parsed as markup.

The view holds a bounded, merged history of every service.  A noisy service
pushes the others out of it, so when the view shows one service it reloads
that service's own history from the supervisor's per-service buffer.  Every
line the view forgets is counted in a gap marker at the top, per service.
The rules for what is shown and kept, free of any UI, live in
``palyra_tui.state.log_filter``; this module draws them and handles keys.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from functools import lru_cache
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from palyra_tui.models import LogLevel, LogLine, LogStream
from palyra_tui.state.log_filter import (
    MAX_BYTES,
    MAX_LINES,
    Backlog,
    History,
    Jump,
    LogFilter,
    compile_query,
    matches,
)

# INFO and stdout, by far the most common, carry no style: every style change costs
# about twenty bytes per row on the wire, and a busy tail redraws every row.
_LEVEL_STYLES = {
    LogLevel.ERROR: "bold red",
    LogLevel.WARN: "yellow",
    LogLevel.DEBUG: "blue",
    LogLevel.TRACE: "dim",
}
_STREAM_STYLES = {LogStream.STDERR: "magenta", LogStream.SUPERVISOR: "cyan"}
_GAP_STYLE = Style(color="yellow", bold=True, italic=True)
_CURSOR_STYLE = Style(reverse=True, bold=True)
# Not plain reverse: a match on the cursor row (reversed too) would vanish.
_MATCH_STYLE = Style(color="black", bgcolor="yellow", bold=True)
STRIP_CACHE = 512
"""Drawn rows kept: a few screens, each line with and without the cursor."""
_RowKey = tuple[str, int, int, bool, "re.Pattern[str] | None", int, int, Style]
"""A row as drawn: the line (service, seq, dropped), cursor, find pattern, the
sideways scroll, the width and the widget's style."""


class LogView(ScrollView, can_focus=True):
    """Shows log lines with a line cursor; follows the tail until the operator scrolls
    up or moves the cursor."""

    # No scrollbars.  A horizontal one is redrawn cell by cell on every frame (about
    # 6 KB at 120 columns), so long lines scroll sideways with the arrow keys instead.
    # A vertical one is redrawn whenever a followed tail moves and costs as much to draw
    # as the lines beside it; the pane's title says which rows are on screen.  The
    # vertical overflow stays "scroll" (at no width) so that the mouse wheel scrolls.
    DEFAULT_CSS = """
    LogView {
        background: $surface;
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 0;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Line up", show=False),
        Binding("down", "cursor(1)", "Line down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First line", show=False),
        Binding("end", "last", "Follow", show=False),
        Binding("left", "sideways(-20)", "Scroll left", show=False),
        Binding("right", "sideways(20)", "Scroll right", show=False),
    ]

    follow: var[bool] = var(True)
    """Keep the newest line in view."""

    class Changed(Message):
        """The filter, follow mode, cursor or (paused) rows on screen changed (for the
        screen's title); new lines do not post it, the screen's feed updates the title
        after each batch."""

    def __init__(
        self,
        *,
        history: History | None = None,
        max_bytes: int = MAX_BYTES,
        service_max_bytes: int = MAX_BYTES,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._history = history
        self._service_max_bytes = service_max_bytes
        self._all = Backlog(hint="; ] shows one service's own buffer", max_bytes=max_bytes)
        self._one: Backlog | None = None
        self._one_seq = 0
        self._view: list[LogLine] = []
        self._lead = 0
        self._filter = LogFilter()
        self._pattern: re.Pattern[str] | None = None
        self._find: re.Pattern[str] | None = None
        self._strips: LRUCache[_RowKey, Strip] = LRUCache(STRIP_CACHE)
        """Drawn rows, as shown: a view that follows the end under a flood draws each line
        once, not once a frame for as long as it is on screen."""
        self._row_style = Style()
        self.find_query = ""
        """The text of the find pattern (empty when there is none)."""
        self.cursor: int | None = None
        self._width = 0
        self._undrawn = False
        """Lines were written without drawing (see :meth:`write`)."""
        self._undrawn_shift = 0
        """Rows dropped from the top since the last write that drew."""

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

    @property
    def _source(self) -> Backlog:
        return self._one if self._one is not None else self._all

    def write(self, batch: Iterable[LogLine], *, draw: bool = True) -> None:
        """Add lines (oldest first).

        ``draw=False`` leaves the scroll area as it is until a write that draws: the
        chunks of one batch are drawn once, at its end, not at every frame they span.
        """
        new = list(batch)
        if not new:
            return
        self._all.lines.extend(new)
        dropped = self._all.trim()
        if self._one is not None:
            new = [line for line in new if line.service == self._filter.service]
            new = [line for line in new if line.seq > self._one_seq]
            if new:
                self._one_seq = max(self._one_seq, new[-1].seq)
                self._one.lines.extend(new)
            dropped = self._one.trim()
        shown = [line for line in new if self._filter.accepts(line, self._pattern)]
        self._view.extend(shown)
        shift = self._drop_front(dropped) if dropped else 0
        if shift and self.cursor is not None:
            self.cursor = max(0, self.cursor - shift)
        self._undrawn_shift += shift
        self._undrawn = self._undrawn or bool(shown or dropped)
        if draw and self._undrawn:
            self._grow(self._undrawn_shift)
            self._undrawn, self._undrawn_shift = False, 0

    def set_filter(self, log_filter: LogFilter) -> None:
        """Show only the lines that pass ``log_filter`` (raises ``re.error`` for a bad regex).

        Choosing one service reloads its history from the supervisor's buffer.
        """
        pattern = log_filter.matcher()
        reload = log_filter.service != self._filter.service
        self._filter = log_filter
        self._pattern = pattern
        if reload:
            self._load_service()
        self._rebuild()
        self.post_message(self.Changed())

    def set_find(self, query: str) -> None:
        """Remember a pattern for :meth:`jump` and highlight it (raises ``re.error``)."""
        self._find = compile_query(query.removeprefix("!"))
        self.find_query = query if self._find is not None else ""
        self.refresh()

    def jump(self, forward: bool) -> Jump:
        """Move the cursor to the next (or previous) match after (before) it, as less and
        vim do, wrapping around the end.  Without a cursor the search starts at the top
        (or bottom) row on screen."""
        if self._find is None:
            return Jump.NO_PATTERN
        count = len(self._view)
        if self.cursor is not None:
            start = self.cursor
        elif forward:
            start = self.scroll_offset.y - 1
        else:
            start = min(count, self.scroll_offset.y + self.size.height)
        if forward:
            passes = (range(start + 1, count), range(min(start + 1, count)))
        else:
            passes = (range(min(start, count) - 1, -1, -1), range(count - 1, max(start, 0) - 1, -1))
        for wrapped, indices in enumerate(passes):
            for index in indices:
                if matches(self._view[index], self._find):
                    self.follow = False
                    self.move_cursor(index)
                    return Jump.WRAPPED if wrapped else Jump.FOUND
        return Jump.NOT_FOUND

    def move_cursor(self, index: int) -> None:
        """Select a line and scroll it into view."""
        if not self._view:
            self.cursor = None
            return
        self.cursor = max(0, min(index, len(self._view) - 1))
        top = self.scroll_offset.y
        height = max(1, self.size.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Changed())

    def selected_line(self) -> LogLine | None:
        """The line under the cursor, or None when no line is selected."""
        if self.cursor is None or self.cursor >= len(self._view):
            return None
        return self._view[self.cursor]

    def export(self) -> str:
        """The view as plain text, one line each."""
        return "\n".join(format_line(line).plain for line in self._view) + "\n"

    def resume_follow(self) -> None:
        """Jump to the newest line and keep following."""
        self.follow = True
        self.cursor = None
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()
        self.post_message(self.Changed())

    # Keys and mouse -----------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        """Move the cursor; the first press selects the bottom row on screen."""
        if not self._view:
            return
        self.follow = False
        if self.cursor is None:
            self.move_cursor(self._bottom_row())
        else:
            self.move_cursor(self.cursor + delta)

    def action_page(self, pages: int) -> None:
        if not self._view:
            return
        self.follow = False
        start = self.cursor if self.cursor is not None else self._bottom_row()
        self.move_cursor(start + pages * max(1, self.size.height - 1))

    def _bottom_row(self) -> int:
        return min(self.scroll_offset.y + max(1, self.size.height) - 1, len(self._view) - 1)

    def action_first(self) -> None:
        self.follow = False
        self.move_cursor(0)

    def action_last(self) -> None:
        self.resume_follow()

    def action_sideways(self, columns: int) -> None:
        """Scroll long lines sideways (there is no horizontal scrollbar), as far as the
        widest line on screen reaches.

        Widths are measured here, for the rows on screen, rather than for every line
        as it arrives: a flood would pay for them ten thousand times a second.
        """
        top = round(self.scroll_y)
        rows = self._view[top : top + max(1, self.size.height)]
        self._width = max((line_width(line) for line in rows), default=0)
        self.virtual_size = Size(self._width, len(self._view))
        self.scroll_to(x=max(0, self.scroll_x + columns), animate=False, force=True)

    def on_click(self, event: events.Click) -> None:
        index = self.scroll_offset.y + event.y
        if 0 <= index < len(self._view):
            self.follow = False
            self.move_cursor(index)

    # Scrolling decides follow mode ------------------------------------------

    @property
    def rows_shown(self) -> tuple[int, int]:
        """The first and last rows on screen, counted from 0 (for the pane's title)."""
        top = min(round(self.scroll_y), max(0, len(self._view) - 1))
        return top, min(len(self._view), top + max(1, self.size.height)) - 1

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if not self.follow and round(old) != round(new):
            self.post_message(self.Changed())
        if self.cursor is not None:
            # The cursor stays on screen (as in vim), so `y` never copies a hidden line.
            top = round(new)
            bottom = top + max(1, self.size.height) - 1
            self.cursor = max(top, min(self.cursor, bottom, len(self._view) - 1))
        if new < old and not self.is_vertical_scroll_end:
            if self.follow:
                self.follow = False
                self.post_message(self.Changed())
        elif self.is_vertical_scroll_end and not self.follow and self.cursor is None:
            self.follow = True
            self.post_message(self.Changed())

    # Rendering ----------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # The widget's style is the same for every row of a frame, and costs a walk of
        # the ancestors to work out.
        self._row_style = self.rich_style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        style = self._row_style
        if index >= len(self._view):
            return Strip.blank(width, style)
        line = self._view[index]
        at_cursor = index == self.cursor
        key = (line.service, line.seq, line.dropped, at_cursor, self._find, scroll_x, width, style)
        strip = self._strips.get(key)
        if strip is None:
            if at_cursor:
                style = style + _CURSOR_STYLE
            strip = self._draw(line, at_cursor).crop_extend(scroll_x, scroll_x + width, style)
            self._strips[key] = strip
        return strip

    def _draw(self, line: LogLine, at_cursor: bool) -> Strip:
        if self._find is None and not at_cursor:
            plain = plain_segments(line)
            if plain is not None:
                return Strip(plain)
        text = format_line(line)
        if self._find is not None:
            text.highlight_regex(self._find, _MATCH_STYLE)
        if at_cursor:
            text.stylize(_CURSOR_STYLE)
        segments = text.render(self.app.console)
        return Strip([Segment(s.text.replace("\n", " "), s.style, s.control) for s in segments])

    # Keeping the lines ----------------------------------------------------------

    def _load_service(self) -> None:
        """Replace the one-service history with the supervisor's buffer of that service."""
        service = self._filter.service
        if service is None or self._history is None:
            self._one = None
            return
        backlog = Backlog(max_bytes=self._service_max_bytes)
        backlog.lines = list(self._history(service, MAX_LINES))
        last = backlog.lines[-1].seq if backlog.lines else 0
        # Lines the feed delivered while the buffer was being fetched come after it.
        later = [line for line in self._all.lines if line.service == service and line.seq > last]
        if later and later[0].seq - later[0].dropped > last + 1:
            lost = later[0].seq - later[0].dropped - 1 - last
            backlog.forget((later[0]._replace(seq=last + lost, dropped=lost),))
        backlog.lines.extend(later)
        if backlog.lines:
            first = backlog.lines[0]
            if first.seq - first.dropped > 1:
                lost = first.seq - first.dropped - 1
                backlog.forget((first._replace(seq=first.seq - first.dropped - 1, dropped=lost),))
            self._one_seq = backlog.lines[-1].seq
        else:
            self._one_seq = 0
        backlog.trim()
        self._one = backlog

    def _drop_front(self, dropped: list[LogLine]) -> int:
        """Take the dropped lines and the old markers off the top of the view and put the
        new markers there; returns how many rows the rest moved up."""
        gone = {id(line) for line in dropped}
        cut = self._lead
        while cut < len(self._view) and id(self._view[cut]) in gone:
            cut += 1
        markers = [line for line in self._source.markers if self._filter.accepts(line, None)]
        self._view[:cut] = markers
        self._lead = len(markers)
        return cut - len(markers)

    def _rebuild(self) -> None:
        self._undrawn, self._undrawn_shift = False, 0
        selected = self.selected_line()
        source = self._source
        markers = [line for line in source.markers if self._filter.accepts(line, None)]
        shown = [line for line in source.lines if self._filter.accepts(line, self._pattern)]
        self._view = markers + shown
        self._lead = len(markers)
        self.virtual_size = Size(self._width, len(self._view))
        self.cursor = None
        if selected is not None:
            # The selected line stays selected when it still passes, so a filter can be
            # used to find a line and Esc then shows it in its context.
            found = next((i for i, line in enumerate(self._view) if line is selected), None)
            if found is not None:
                self.move_cursor(found)
        if self.follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def _grow(self, shift: int) -> None:
        top = self.scroll_y
        self.virtual_size = Size(self._width, len(self._view))
        if self.follow:
            bottom = self.max_scroll_y
            if bottom != self.scroll_y:
                self.scroll_to(y=bottom, animate=False, immediate=True)
                return
        elif shift:
            # Keep the rows on screen where they are while older ones are dropped.
            self.scroll_to(y=max(0, top - shift), animate=False, immediate=True)
        self.refresh()


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
    text = Text(no_wrap=True, end="")
    text.append(_stamp(int(line.ts)), style="dim")
    text.append(" ")
    text.append(line.service, style=_STREAM_STYLES.get(line.stream, ""))
    text.append(" ")
    if line.is_gap:
        text.append(line.message, style=_GAP_STYLE)
        return text
    level = line.level.name if line.level is not None else "-"
    text.append(f"{level:<5}", style=_LEVEL_STYLES.get(line.level, "") if line.level else "dim")
    text.append(" ")
    if line.target:
        text.append(line.target, style="dim")
        text.append(": ")
    text.append(line.text)
    return text


def plain_segments(line: LogLine) -> list[Segment] | None:
    """The segments :func:`format_line` renders to, built directly: the line as it is
    drawn without a cursor or find highlight.  Rendering through ``Text`` costs several
    times more, and a flood brings a screenful of new lines every redraw.  None for a
    line that needs ``Text`` (a gap marker, or a tab to expand)."""
    body = line.text
    target = line.target or ""
    if line.is_gap or "\t" in body or "\n" in body or "\t" in target:
        return None
    segments = [
        Segment(_stamp(int(line.ts)), _DIM),
        _SPACE,
        Segment(line.service, _STREAM_STYLE_OBJECTS.get(line.stream, _NO_STYLE)),
        _SPACE,
    ]
    if line.level is None:
        segments.append(_NO_LEVEL)
    else:
        segments.append(_LEVEL_SEGMENTS[line.level])
    segments.append(_SPACE)
    if target:
        segments.append(Segment(target, _DIM))
        segments.append(_COLON)
    if body:
        segments.append(Segment(body, _NO_STYLE))
    return segments


@lru_cache(maxsize=64)
def _stamp(second: int) -> str:
    return time.strftime("%H:%M:%S", time.localtime(second))


_NO_STYLE = Style()
_DIM = Style.parse("dim")
_SPACE = Segment(" ", _NO_STYLE)
_COLON = Segment(": ", _NO_STYLE)
_NO_LEVEL = Segment(f"{'-':<5}", _DIM)
_LEVEL_SEGMENTS = {
    level: Segment(f"{level.name:<5}", Style.parse(_LEVEL_STYLES.get(level, "")))
    for level in LogLevel
}
_STREAM_STYLE_OBJECTS = {stream: Style.parse(style) for stream, style in _STREAM_STYLES.items()}
