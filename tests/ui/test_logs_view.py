"""The Logs screen's cursor, history, filters and search, under Pilot.

Screen flows run the real app over the reference daemons; the view's own rules
(trimming, gap markers, level and text matching, wrap-around search) run a
bare ``LogView`` fed with ``LogLine`` batches, as the supervisor feed does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from rich.console import Console
from rich.style import Style
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import Input, Static

from palyra_tui.models import LogLevel, LogLine, LogStream
from palyra_tui.state.log_filter import MAX_LINES, History, Jump, LogFilter
from palyra_tui.ui.app import PalyraApp
from palyra_tui.ui.screens.logs import WRITE_CHUNK, LogsPane, write_chunked
from palyra_tui.ui.widgets.log_view import LogView, format_line, plain_segments
from tests.ui.conftest import gateway_ready, strip_cells, until

SIZE = (100, 32)
NOW = time.time()


def line(
    seq: int,
    message: str = "",
    *,
    service: str = "svc",
    stream: LogStream = LogStream.STDOUT,
    level: LogLevel | None = LogLevel.INFO,
    target: str | None = None,
) -> LogLine:
    return LogLine(seq, NOW + seq / 1000, service, stream, message or f"line {seq}", level, target)


class ViewApp(App[None]):
    """One LogView filling the screen."""

    def __init__(self, history: History | None = None) -> None:
        super().__init__()
        self._history = history

    def compose(self) -> ComposeResult:
        yield LogView(id="log", history=self._history)


def notices(app: App[None]) -> list[str]:
    if isinstance(app, PalyraApp):
        return [notice.text for notice in app.notice_history]
    return [str(notification.message) for notification in app._notifications]


async def open_logs(pilot: Pilot[None], app: PalyraApp) -> LogView:
    """The demo's gateway up, then the Logs pane on screen; its log view."""
    await until(pilot, lambda: gateway_ready(app))
    await pilot.press("2")
    await until(pilot, lambda: bool(app.screen.query(LogView)))
    return app.screen.query_one(LogView)


def cursor_row_is_reversed(view: LogView) -> bool:
    assert view.cursor is not None
    row = view.cursor - view.scroll_offset.y
    assert 0 <= row < view.size.height, "the cursor line is on screen"
    styles = [segment.style or Style() for segment in view.render_line(row)]
    return bool(styles) and all(style.reverse for style in styles)


# 1. A visible cursor, and y copies the line under it ----------------------------


async def test_arrow_keys_show_a_cursor_and_y_copies_that_line(demo_app: PalyraApp) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        view = await open_logs(pilot, demo_app)
        await until(pilot, lambda: view.line_count > 5)
        await pilot.press("y")
        assert demo_app.clipboard == ""
        assert any("no line selected" in notice for notice in notices(demo_app))

        await pilot.press("up")
        assert view.cursor is not None and not view.follow
        assert cursor_row_is_reversed(view)
        first = view.selected_line()
        await pilot.press("up", "up")
        second = view.selected_line()
        assert first is not None and second is not None and second is not first
        assert view.lines.index(second) == view.lines.index(first) - 2
        assert cursor_row_is_reversed(view)
        await pilot.press("y")
        assert demo_app.clipboard == second.text
        title = str(demo_app.screen.query_one("#log-title", Static).render())
        assert "line " in title and " of " in title

        await pilot.press("f")
        assert view.follow and view.cursor is None


async def test_a_click_selects_a_line_and_the_cursor_stays_on_screen() -> None:
    app = ViewApp()
    async with app.run_test(size=(80, 10)) as pilot:
        view = app.query_one(LogView)
        view.write([line(seq) for seq in range(1, 101)])
        await pilot.pause()
        await pilot.click(LogView, offset=(5, 3))
        assert view.cursor == view.scroll_offset.y + 3
        assert cursor_row_is_reversed(view)
        view.scroll_to(y=0, animate=False, immediate=True)
        await pilot.pause()
        assert view.cursor is not None and view.cursor < view.size.height
        assert cursor_row_is_reversed(view)


async def test_page_home_and_end_move_the_cursor() -> None:
    app = ViewApp()
    async with app.run_test(size=(80, 10)) as pilot:
        view = app.query_one(LogView)
        view.write([line(seq) for seq in range(1, 101)])
        await pilot.pause()
        await pilot.press("pageup")
        assert view.cursor == 99 - 9 and not view.follow
        assert cursor_row_is_reversed(view)
        await pilot.press("home")
        assert view.cursor == 0 and view.scroll_offset.y == 0
        await pilot.press("end")
        assert view.follow and view.cursor is None


# 2. Per-service history and gap markers --------------------------------------------


async def test_a_noisy_service_leaves_a_marker_and_one_service_reloads_its_buffer(
    demo_app: PalyraApp,
) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        view = await open_logs(pilot, demo_app)
        await until(pilot, lambda: any("daemon listening" in ln.text for ln in view.lines))
        before = [ln for ln in view.lines if not ln.is_gap]
        flood = [
            LogLine(seq, time.time(), "flood", LogStream.STDOUT, f"flood {seq}", LogLevel.INFO)
            for seq in range(1, MAX_LINES + 10_001)
        ]
        view.write(flood)
        shown = view.lines
        assert not any("daemon listening" in ln.text for ln in shown)
        markers = [ln for ln in shown if ln.is_gap]
        assert shown[: len(markers)] == tuple(markers), "markers stand at the top"
        assert {"gateway", "flood"} <= {marker.service for marker in markers}
        assert all(marker.message.startswith("⟂ ") for marker in markers)
        # Every line the view forgot is counted: nothing silently disappears.
        kept = len(shown) - len(markers)
        assert sum(marker.dropped for marker in markers) + kept == len(before) + len(flood)

        await pilot.press("right_square_bracket")
        assert view.current_filter.service == "gateway"
        assert any("daemon listening" in ln.text for ln in view.lines)
        assert {ln.service for ln in view.lines} == {"gateway"}


async def test_one_service_view_starts_with_a_gap_and_takes_new_lines_once() -> None:
    def history(service: str, count: int) -> Sequence[LogLine]:
        return tuple(line(seq, service=service) for seq in range(501, 506))[-count:]

    app = ViewApp(history)
    async with app.run_test(size=(80, 20)) as pilot:
        view = app.query_one(LogView)
        view.write([line(seq, service="other") for seq in range(1, 5)])
        view.set_filter(LogFilter(service="svc"))
        await pilot.pause()
        marker, *rest = view.lines
        assert marker.is_gap and marker.service == "svc" and marker.dropped == 500
        assert "500 earlier lines dropped" in marker.message
        assert [ln.seq for ln in rest] == [501, 502, 503, 504, 505]
        # The feed delivers lines the reload already had, and other services' lines.
        view.write([line(seq, service="svc") for seq in range(504, 509)])
        view.write([line(9, service="other")])
        assert [ln.seq for ln in view.lines[1:]] == list(range(501, 509))
        view.set_filter(LogFilter())
        assert {ln.service for ln in view.lines} == {"svc", "other"}


async def test_trimming_keeps_the_cursor_on_its_line_and_marks_the_loss() -> None:
    app = ViewApp()
    async with app.run_test(size=(80, 20)) as pilot:
        view = app.query_one(LogView)
        view.write([line(seq, service="quiet") for seq in range(1, 11)])
        view.write([line(seq, service="noisy") for seq in range(11, MAX_LINES)])
        await pilot.pause()
        await pilot.press("up", "up")
        selected = view.selected_line()
        top = view.lines[view.scroll_offset.y]
        view.write([line(seq, service="noisy") for seq in range(MAX_LINES, 56_000)])
        await pilot.pause()
        assert view.selected_line() is selected
        assert view.lines[view.scroll_offset.y] is top, "the rows on screen do not move"
        markers = [ln for ln in view.lines if ln.is_gap]
        assert [(m.service, m.dropped) for m in markers] == [
            ("quiet", 10),
            ("noisy", 56_000 - 1 - MAX_LINES - 10),
        ]
        assert view.lines[: len(markers)] == tuple(markers)
        view.set_filter(LogFilter(min_level=LogLevel.ERROR))
        assert view.lines == tuple(markers), "a filter never hides a loss"


# 3. Levels for unlevelled stderr, text matching service and target -------------------


async def test_level_filter_keeps_tracebacks_and_text_matches_service_and_target() -> None:
    app = ViewApp()
    async with app.run_test(size=(80, 20)):
        view = app.query_one(LogView)
        traceback = line(1, "Traceback (most recent call last):", level=None)
        traceback = traceback._replace(stream=LogStream.STDERR)
        plain_print = line(2, "server ready", level=None)
        debug = line(3, "poll", level=LogLevel.DEBUG)
        routed = line(4, "request done", service="gateway", target="palyra::grpc")
        view.write([traceback, plain_print, debug, routed])

        view.set_filter(LogFilter(min_level=LogLevel.WARN))
        assert list(view.lines) == [traceback]
        view.set_filter(LogFilter(min_level=LogLevel.INFO))
        assert list(view.lines) == [traceback, plain_print, routed]
        view.set_filter(LogFilter(query="gateway"))
        assert list(view.lines) == [routed]
        view.set_filter(LogFilter(query="re:palyra::g"))
        assert list(view.lines) == [routed]
        view.set_filter(LogFilter(query="!gateway"))
        assert routed not in view.lines and len(view.lines) == 3


# 4. Search as less and vim do; a bad regex stays visible ------------------------------


async def test_next_and_previous_match_move_from_the_cursor_and_wrap() -> None:
    app = ViewApp()
    async with app.run_test(size=(80, 10)) as pilot:
        view = app.query_one(LogView)
        view.write([line(seq, "hit" if seq % 10 == 0 else "miss") for seq in range(1, 51)])
        await pilot.pause()
        assert view.jump(forward=True) is Jump.NO_PATTERN
        view.set_find("hit")
        # No cursor: the search starts at the top row on screen (lines 41-50 here).
        assert view.jump(forward=True) is Jump.FOUND
        assert view.selected_line() == view.lines[49]
        assert view.jump(forward=True) is Jump.WRAPPED
        assert view.selected_line() == view.lines[9]
        assert view.jump(forward=True) is Jump.FOUND
        assert view.selected_line() == view.lines[19]
        assert view.jump(forward=False) is Jump.FOUND
        assert view.selected_line() == view.lines[9]
        assert view.jump(forward=False) is Jump.WRAPPED
        assert view.selected_line() == view.lines[49]
        view.set_find("nowhere")
        assert view.jump(forward=True) is Jump.NOT_FOUND
        assert view.selected_line() == view.lines[49]


async def test_slash_pattern_enter_then_n_finds_and_esc_keeps_the_line(
    demo_app: PalyraApp,
) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: gateway_ready(demo_app))
        await pilot.press("2")
        screen = demo_app.pane
        assert isinstance(screen, LogsPane)
        view = screen.query_one(LogView)
        await until(pilot, lambda: any("grpc listening" in ln.text.lower() for ln in view.lines))
        await pilot.press("slash", *"listening", "enter")
        assert view.has_focus and view.current_filter.query == "listening"
        await pilot.press("n")
        assert view.cursor is not None, "n selects the first match on screen"
        found = view.selected_line()
        assert found is not None and "listening" in found.text.lower()
        await pilot.press("escape")
        assert view.current_filter.query == ""
        assert view.selected_line() is found, "Esc shows the found line in its context"
        matches = [ln for ln in view.lines if "listening" in ln.text.lower()]
        assert len(matches) >= 2
        seen = []
        for _ in range(len(matches) + 1):
            await pilot.press("n")
            seen.append(view.selected_line())
        assert set(seen) == set(matches)
        assert any("search hit the bottom" in notice for notice in notices(demo_app))
        await pilot.press("N")
        assert view.selected_line() is seen[-2]


async def test_a_bad_regex_stays_visible_and_keeps_the_typed_text(demo_app: PalyraApp) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: bool(demo_app.screen.query(LogView)))
        screen = demo_app.screen
        view = screen.query_one(LogView)
        box = screen.query_one("#filter", Input)
        await pilot.press("slash", *"re:(oops")
        title = screen.query_one("#log-title", Static)
        # A new batch of lines (or any other change) redraws the title.
        view.post_message(LogView.Changed())
        await pilot.pause()
        assert "bad regex" in str(title.render())
        assert box.has_class("-error")
        await pilot.press("enter")
        assert box.display and box.value == "re:(oops", "Enter keeps a bad pattern open"
        await pilot.press("backspace", *"s)")
        assert "bad regex" not in str(title.render())
        assert not box.has_class("-error")
        await pilot.press("enter")
        assert not box.display


async def test_lines_that_arrive_while_one_service_is_fetched_are_kept() -> None:
    """The feed goes on while the service's buffer is fetched: what it delivered meanwhile
    follows the buffer, and what neither holds is marked as lost."""

    def history(service: str, count: int) -> Sequence[LogLine]:
        return tuple(line(seq, service=service) for seq in range(1, 11))[-count:]

    app = ViewApp(history)
    async with app.run_test(size=(80, 30)) as pilot:
        view = app.query_one(LogView)
        view.write([line(seq, service="svc") for seq in range(1, 16)])
        view.set_filter(LogFilter(service="svc"))
        await pilot.pause()
        assert [ln.seq for ln in view.lines] == list(range(1, 16))
        view.write([line(16, service="svc")])
        assert [ln.seq for ln in view.lines][-2:] == [15, 16]

    app = ViewApp(history)
    async with app.run_test(size=(80, 30)) as pilot:
        view = app.query_one(LogView)
        view.write([line(seq, service="svc") for seq in range(14, 18)])
        view.set_filter(LogFilter(service="svc"))
        await pilot.pause()
        marker, *rest = view.lines
        assert marker.is_gap and marker.dropped == 3, "11, 12 and 13 are in neither"
        assert [ln.seq for ln in rest] == [*range(1, 11), *range(14, 18)]


# Drawing and writing cheaply under a flood -----------------------------------------


def test_plain_segments_draw_what_the_text_renderer_draws() -> None:
    """The direct drawing of a line matches ``format_line`` rendered by rich, cell for
    cell, for every level, stream and part a line can have."""
    console = Console(width=400, color_system="truecolor", legacy_windows=False)
    lines = [
        line(1, "started", target="palyrad::gateway"),
        line(2, "no level here", level=None),
        line(3, "noisy detail", level=LogLevel.TRACE),
        line(4, "it broke", stream=LogStream.STDERR, level=LogLevel.ERROR),
        line(5, "backing off", stream=LogStream.SUPERVISOR, level=LogLevel.WARN),
        line(6, "日本語 and ascii", level=LogLevel.DEBUG),
        LogLine(7, NOW, "svc", LogStream.STDOUT, "", LogLevel.INFO, None, (("port", "7142"),)),
        LogLine(8, NOW, "svc", LogStream.STDOUT, "ready", None, "t", (("a", "1"), ("b", "2"))),
    ]
    for each in lines:
        plain = plain_segments(each)
        assert plain is not None, each
        drawn = Strip(list(format_line(each).render(console)))
        assert strip_cells(Strip(plain)) == strip_cells(drawn), each
    assert plain_segments(line(9, "a\tb")) is None, "a tab is expanded by the text renderer"
    gap = line(10)._replace(dropped=4, stream=LogStream.SUPERVISOR)
    assert gap.is_gap and plain_segments(gap) is None


async def test_a_big_batch_is_written_in_chunks_between_turns_of_the_loop() -> None:
    """A key pressed while a flood's batch is written waits for one chunk, not the batch;
    the view is drawn once, after the last chunk, not at every frame the batch spans."""
    app = ViewApp()
    async with app.run_test(size=SIZE):
        view = app.query_one(LogView)
        batch = [line(seq) for seq in range(1, 5 * WRITE_CHUNK + 1)]
        seen: list[tuple[int, int]] = []
        writing = asyncio.ensure_future(write_chunked(view, batch))
        asyncio.get_running_loop().call_soon(
            lambda: seen.append((view.line_count, view.virtual_size.height))
        )
        await writing
        assert seen == [(WRITE_CHUNK, 0)], "a turn after the first chunk, nothing drawn yet"
        assert [ln.seq for ln in view.lines] == [ln.seq for ln in batch]
        assert view.virtual_size.height == len(batch) and view.is_vertical_scroll_end


async def test_the_title_says_which_rows_are_on_screen_once_scrolled_back(
    demo_app: PalyraApp,
) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        view = await open_logs(pilot, demo_app)
        title = demo_app.screen.query_one("#log-title", Static)
        view.write([line(seq, service="extra") for seq in range(1, 201)])
        await until(pilot, lambda: view.is_vertical_scroll_end and view.follow)
        assert " lines" in str(title.render()) and "–" not in str(title.render())
        view.scroll_to(y=10, animate=False, immediate=True)
        await until(pilot, lambda: "lines 11–" in str(title.render()))
        top, bottom = view.rows_shown
        assert (top, bottom) == (10, 10 + view.size.height - 1)
        assert f"lines 11–{bottom + 1:,} of {view.line_count:,}" in str(title.render())
        view.scroll_to(y=20, animate=False, immediate=True)
        await until(pilot, lambda: "lines 21–" in str(title.render()))
