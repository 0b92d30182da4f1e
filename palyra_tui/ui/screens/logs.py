"""Screen 2: every service's logs on one time axis, or one service alone.

Lines come from a supervisor log subscription and are written in batches at
most ten times a second, three times while lines pour in, so a service writing
10,000 lines/s costs three redraws of the visible rows a second, not ten
thousand: a busy tail stays within about 32 KiB/s on a slow SSH link.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input

from palyra_tui.config.dirs import private_dir
from palyra_tui.models import LogLevel, LogLine, LogStream
from palyra_tui.state.log_filter import MAX_LINES, Jump, LogFilter
from palyra_tui.ui.safe import plain
from palyra_tui.ui.screens.base import ControlPane, switch_keys
from palyra_tui.ui.widgets.log_view import LogView
from palyra_tui.ui.widgets.steady import OneLine

REDRAW_INTERVAL = 0.1
BUSY_REDRAW_INTERVAL = 0.33
BUSY_BATCH = 200
WRITE_CHUNK = 500
"""Lines written to the view between two turns of the event loop, so that a key pressed
during a flood waits for one chunk, not a third of a second's worth of lines."""
_LEVELS: tuple[LogLevel | None, ...] = (None, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR)
_STREAMS: tuple[LogStream | None, ...] = (
    None,
    LogStream.STDOUT,
    LogStream.STDERR,
    LogStream.SUPERVISOR,
)


class LogsPane(ControlPane):
    """Follow, filter, search, export and copy log lines."""

    TITLE = "Logs"
    BINDINGS = [
        *switch_keys(),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear", show=False),
        Binding("n", "next_match", "Next match"),
        Binding("N", "previous_match", "Prev match", show=False),
        Binding("f", "follow", "Follow"),
        Binding("l", "cycle_level", "Level"),
        Binding("t", "cycle_stream", "Stream"),
        Binding("right_square_bracket", "next_service", "Service"),
        Binding("left_square_bracket", "previous_service", "Service", show=False),
        Binding("y", "copy_line", "Copy"),
        Binding("ctrl+s", "export", "Export"),
    ]

    _error: str | None = None
    """A bad regex in the filter or find pattern, shown until it is fixed."""

    def compose(self) -> ComposeResult:
        yield OneLine(id="log-title")
        view = self.control.runtime.view()
        yield LogView(
            id="log",
            history=self._history,
            max_bytes=view.log_total_bytes,
            service_max_bytes=view.log_service_bytes,
        )
        yield Input(
            placeholder="filter: text, re:regex, ! inverts (Enter keeps, Esc clears)", id="filter"
        )

    def _history(self, service: str, count: int) -> tuple[LogLine, ...]:
        """The runtime's buffer of ``service``, fetched before its filter is applied."""
        fetched, lines = self._fetched
        return lines[-count:] if fetched == service else ()

    def on_mount(self) -> None:
        self._fetched: tuple[str, tuple[LogLine, ...]] = ("", ())
        self._following = False
        box = next(iter(self.query("#filter").results(Input)), None)
        view = next(iter(self.query(LogView)), None)
        if box is None or view is None or self.control.exiting:
            return  # the app is closing and takes the pane's widgets one by one
        box.display = False
        self._show_title()

    def focus_first(self) -> None:
        self.query_one(LogView).focus()

    def on_shown(self) -> None:
        """The logs are followed from the first time the pane is shown, starting with
        the retained backlog: an operator who never opens Logs pays nothing for them."""
        if not self._following:
            self._following = True
            self.feed_logs()
        self._show_title()

    def feed_logs(self) -> None:
        self.run_worker(self._feed(), group="log-feed", exclusive=True, exit_on_error=False)

    async def _feed(self) -> None:
        view = self.query_one(LogView)
        feed = self.control.runtime.subscribe_logs(backlog=True)
        try:
            async for batch in feed:
                await write_chunked(view, batch)
                if self.shown:
                    self._show_title()
                busy = len(batch) > BUSY_BATCH
                await asyncio.sleep(BUSY_REDRAW_INTERVAL if busy else REDRAW_INTERVAL)
        finally:
            feed.close()

    # Filtering and finding -----------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.query_one(LogView).current_filter.query
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        self._apply(replace(self.query_one(LogView).current_filter, query=event.value))

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if self._error is not None:
            self.app.bell()
            return
        view = self.query_one(LogView)
        self._find(event.value)
        self.query_one("#filter", Input).display = False
        view.focus()

    def action_clear_filter(self) -> None:
        view = self.query_one(LogView)
        box = self.query_one("#filter", Input)
        # What was typed, even a bad regex, becomes the find pattern (its error stays shown).
        query = box.value if box.display else view.current_filter.query
        box.display = False
        self._apply(replace(view.current_filter, query=""))
        self._find(query)
        view.focus()

    def _find(self, query: str) -> None:
        """Make ``query`` the pattern of n and N; a bad regex stays on screen as an error."""
        try:
            self.query_one(LogView).set_find(query)
        except re.error as error:
            self._show_error(f"bad regex in find pattern: {error}")
            return
        self._show_error(None)

    def _apply(self, log_filter: LogFilter) -> None:
        """Apply a filter; one that picks a service first fetches that service's buffer."""
        service = log_filter.service
        if service is not None and service != self.query_one(LogView).current_filter.service:
            self.run_worker(
                self._fetch_and_apply(service, log_filter),
                group="log-history",
                exclusive=True,
                exit_on_error=False,
            )
            return
        self._set_filter(log_filter)

    async def _fetch_and_apply(self, service: str, log_filter: LogFilter) -> None:
        self._fetched = (service, await self.control.runtime.tail(service, MAX_LINES))
        self._set_filter(log_filter)

    def _set_filter(self, log_filter: LogFilter) -> None:
        try:
            self.query_one(LogView).set_filter(log_filter)
        except re.error as error:
            self._show_error(f"bad regex: {error}; the last good filter stays")
            return
        self._show_error(None)

    def _show_error(self, error: str | None) -> None:
        """Show (or clear) a filter error in the title and the filter bar until it is fixed."""
        self._error = error
        box = self.query_one("#filter", Input)
        box.set_class(error is not None, "-error")
        box.border_subtitle = plain(error) if error is not None else None
        self._show_title()

    def action_next_match(self) -> None:
        self._jump(forward=True)

    def action_previous_match(self) -> None:
        self._jump(forward=False)

    def _jump(self, forward: bool) -> None:
        result = self.query_one(LogView).jump(forward)
        if result is Jump.NO_PATTERN:
            self.app.notify("no find pattern: type / and a pattern, then Enter", severity="warning")
        elif result is Jump.NOT_FOUND:
            self.app.notify("pattern not found", severity="warning")
        elif result is Jump.WRAPPED:
            where = "bottom, continued at the top" if forward else "top, continued at the bottom"
            self.app.notify(f"search hit the {where}")

    def action_follow(self) -> None:
        self.query_one(LogView).resume_follow()

    def action_cycle_level(self) -> None:
        view = self.query_one(LogView)
        current = view.current_filter.min_level
        nxt = _LEVELS[(_LEVELS.index(current) + 1) % len(_LEVELS)]
        self._apply(replace(view.current_filter, min_level=nxt))

    def action_cycle_stream(self) -> None:
        view = self.query_one(LogView)
        current = view.current_filter.stream
        nxt = _STREAMS[(_STREAMS.index(current) + 1) % len(_STREAMS)]
        self._apply(replace(view.current_filter, stream=nxt))

    def action_next_service(self) -> None:
        self._cycle_service(1)

    def action_previous_service(self) -> None:
        self._cycle_service(-1)

    def _cycle_service(self, step: int) -> None:
        view = self.query_one(LogView)
        choices: list[str | None] = [None, *self.control.runtime.service_names()]
        index = choices.index(view.current_filter.service)
        self._apply(replace(view.current_filter, service=choices[(index + step) % len(choices)]))

    # Export and copy ---------------------------------------------------------

    def action_copy_line(self) -> None:
        line = self.query_one(LogView).selected_line()
        if line is None:
            self.app.notify("no line selected: ↑ ↓ or a click selects one", severity="warning")
            return
        self.app.copy_to_clipboard(line.text)
        self.app.notify(f"copied {len(line.text):,} characters (OSC 52)")

    async def action_export(self) -> None:
        view = self.query_one(LogView)
        folder = Path(self.control.runtime.view().state_dir) / "exports"
        target = folder / time.strftime("logs-%Y%m%d-%H%M%S.txt")
        text, count = view.export(), view.line_count
        try:
            await asyncio.to_thread(_write_private, target, text)
        except OSError as error:
            self.app.notify(f"export failed: {error.strerror}", severity="error", markup=False)
            return
        self.app.notify(f"exported {count:,} lines to {target}", markup=False)

    # Title -------------------------------------------------------------------

    @on(LogView.Changed)
    def _view_changed(self) -> None:
        self._show_title()

    def _show_title(self) -> None:
        view = self.query_one(LogView)
        log_filter = view.current_filter
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(
            " following " if view.follow else " paused (f follows) ",
            style="bold green" if view.follow else "bold yellow",
        )
        text.append(f" {log_filter.service or 'all services'}")
        if log_filter.min_level is not None:
            text.append(f" · {log_filter.min_level.name}+")
        if log_filter.stream is not None:
            text.append(f" · {log_filter.stream.value}")
        if log_filter.query:
            text.append(" · filter ", style="cyan")
            text.append(plain(repr(log_filter.query), style="cyan"))
        if view.find_query and view.find_query != log_filter.query:
            text.append(" · n/N find ", style="cyan")
            text.append(plain(repr(view.find_query), style="cyan"))
        if view.cursor is not None:
            text.append(f" · line {view.cursor + 1:,} of {view.line_count:,}", style="dim")
        elif not view.follow and view.line_count:
            top, bottom = view.rows_shown
            text.append(f" · lines {top + 1:,}–{bottom + 1:,} of {view.line_count:,}", style="dim")
        else:
            text.append(f" · {view.line_count:,} lines", style="dim")
        if self._error is not None:
            text.append(" · ")
            text.append(plain(self._error, style="bold red"))
        self.query_one("#log-title", OneLine).update(text)


async def write_chunked(view: LogView, batch: Sequence[LogLine]) -> None:
    """Write ``batch`` :data:`WRITE_CHUNK` lines at a time, giving the event loop a turn
    between chunks; the view is drawn once, after the last."""
    for start in range(0, len(batch), WRITE_CHUNK):
        if start:
            await asyncio.sleep(0)
        view.write(batch[start : start + WRITE_CHUNK], draw=start + WRITE_CHUNK >= len(batch))


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` (and its folder) readable by the owner only; never overwrite.

    A write that fails part way (a full disk) leaves no half file behind.
    """
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError:
        path.unlink(missing_ok=True)
        raise
