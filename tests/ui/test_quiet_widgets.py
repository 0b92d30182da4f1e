"""Widgets that stay silent on the wire while nothing visible changes."""

from __future__ import annotations

import gc
import sys

import pytest
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input, Static

from palyra_tui.models import LogLine, LogStream, ServiceKind, ServiceSnapshot, ServiceState
from palyra_tui.state.log_filter import MAX_LINES, LogFilter
from palyra_tui.state.snapshot import ConnectionState, OverallStatus
from palyra_tui.ui.collector import FULL_EVERY, NEVER, QUIET
from palyra_tui.ui.frame_handoff import SWITCH_INTERVAL
from palyra_tui.ui.screens.health import describe_service
from palyra_tui.ui.widgets.log_view import LogView
from palyra_tui.ui.widgets.process_table import ProcessTable, duration, latency_label
from palyra_tui.ui.widgets.status_bar import StatusFacts, status_text
from palyra_tui.ui.widgets.steady import OneLine, SteadyStatic
from tests.snapshots.fixed import fixed_app
from tests.ui.conftest import advance, strip_cells, until, until_unpiloted


@pytest.mark.parametrize(
    ("latency", "label"),
    [
        (None, ""),
        (0.4, "<5ms"),
        (4.99, "<5ms"),
        (5.0, "5ms"),
        (9.9, "5ms"),
        (99.0, "95ms"),
        (100.0, "0.1s"),
        (2500.0, "2.5s"),
    ],
)
def test_latency_label_buckets(latency: float | None, label: str) -> None:
    assert latency_label(latency) == label


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (0.0, "0s"),
        (59.9, "59s"),
        (60.0, "1m"),
        (3599.0, "59m"),
        (3600.0, "1h00m"),
        (3661.0, "1h01m"),
        (86400.0, "1d00h"),
        (90000.0, "1d01h"),
    ],
)
def test_duration_steps(seconds: float, label: str) -> None:
    assert duration(seconds) == label


class _Counting(SteadyStatic):
    repaints = 0

    def refresh(self, *args: object, **kwargs: object) -> _Counting:
        self.repaints += 1
        return super().refresh(*args, **kwargs)  # type: ignore[arg-type]


async def test_steady_static_repaints_only_on_change() -> None:
    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield _Counting(id="probe")

    app = Host()
    async with app.run_test() as pilot:
        probe = app.query_one(_Counting)
        await pilot.pause()

        def facts(uptime: str, style: str = "green") -> Text:
            text = Text("HEALTHY", style=style)
            text.append(f" up {uptime}")
            return text

        probe.update(facts("1m"))
        first = probe.repaints
        probe.update(facts("1m"))
        probe.update(facts("1m"))
        assert probe.repaints == first
        probe.update(facts("2m"))
        assert probe.repaints > first
        changed = probe.repaints
        probe.update(facts("2m", style="red"))
        assert probe.repaints > changed
        assert "up 2m" in str(probe.render())


class _CountingLog(LogView):
    repaints = 0

    def refresh(self, *args: object, **kwargs: object) -> _CountingLog:
        self.repaints += 1
        return super().refresh(*args, **kwargs)  # type: ignore[arg-type]


def _lines(start: int, count: int, word: str = "line") -> list[LogLine]:
    return [
        LogLine(seq, 0.0, "gateway", LogStream.STDOUT, f"{word} number {seq}")
        for seq in range(start, start + count)
    ]


class _LogHost(App[None]):
    def compose(self) -> ComposeResult:
        yield _CountingLog()


async def test_log_view_repaints_each_batch_and_follows_the_tail() -> None:
    app = _LogHost()
    async with app.run_test(size=(60, 8)) as pilot:
        view = app.query_one(_CountingLog)
        for start, count in ((0, 2), (2, 1), (3, 30)):
            before = view.repaints
            view.write(_lines(start, count))
            assert view.repaints > before, f"batch at {start} was not repainted"
            await pilot.pause()
        assert view.scroll_y == view.max_scroll_y > 0
        rows = [view.render_line(y).text for y in range(view.size.height)]
        assert "line number 32" in rows[-1], rows


async def test_log_view_forgets_trimmed_lines_that_the_filter_showed() -> None:
    app = _LogHost()
    async with app.run_test(size=(60, 8)) as pilot:
        view = app.query_one(_CountingLog)
        view.set_filter(LogFilter(query="needle"))
        view.write(_lines(0, 40, word="needle"))
        await pilot.pause()
        before = view.repaints
        view.write(_lines(40, int(MAX_LINES * 1.1), word="hay"))
        (marker,) = view.lines
        assert marker.is_gap and marker.dropped == 40 + int(MAX_LINES * 1.1) - MAX_LINES
        assert view.virtual_size.height == 1 and view.scroll_y == 0
        assert view.repaints > before


def test_service_detail_and_status_error_show_hostile_text_inert() -> None:
    hostile = "bad\x1b]0;pwned\x07 [@click=app.quit]x[/]\nsecond"
    service = ServiceSnapshot(
        name="gateway",
        kind=ServiceKind.GATEWAY,
        state=ServiceState.FAILED,
        desired=True,
        reason=hostile,
        binary=hostile,
        endpoints=(("listen", hostile),),
    )
    detail = describe_service(service, (hostile,), now=0.0, held=False)
    assert "\x1b" not in detail.plain and "\x07" not in detail.plain
    assert "[@click=app.quit]x[/]" in detail.plain
    assert "reason: bad" in detail.plain
    assert not any("@click" in str(span.style) for span in detail.spans)
    facts = StatusFacts(ConnectionState.OFFLINE, OverallStatus.DOWN, 0, 0, 0, error=hostile)
    bar = status_text(facts)
    assert (
        "\x1b" not in bar.plain and "\n" not in bar.plain and "[@click=app.quit]x[/]" in bar.plain
    )


class _Lines(ProcessTable):
    """Records which lines the compositor asked for."""

    drawn: list[int]

    def render_line(self, y: int) -> Strip:
        self.drawn.append(y)
        return super().render_line(y)


def _service(name: str, state: ServiceState, pid: int | None) -> ServiceSnapshot:
    return ServiceSnapshot(
        name=name, kind=ServiceKind.CUSTOM, state=state, desired=True, pid=pid, started_at=0.0
    )


async def test_the_process_table_redraws_only_the_line_that_changed() -> None:
    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield _Lines(id="table")

    app = Host()
    async with app.run_test(size=(90, 12)) as pilot:
        table = app.query_one(_Lines)
        table.drawn = []
        running = tuple(
            _service(name, ServiceState.RUNNING, 100 + index)
            for index, name in enumerate(("gateway", "browserd", "node_host"))
        )
        table.show(running, 30.0)
        await pilot.pause()
        assert table.drawn, "the first show draws the table"
        table.drawn = []
        table.show(running, 30.4)
        await pilot.pause()
        assert table.drawn == [], "nothing visible changed: nothing is drawn"
        table.show((running[0], _service("browserd", ServiceState.STOPPED, None), running[2]), 30.8)
        await pilot.pause()
        assert set(table.drawn) == {2}, "only browserd's line (under the header) is drawn"
        table.drawn = []
        table.focus()
        await pilot.pause()
        table.drawn = []
        await pilot.press("down")
        assert table.selected_service == "browserd"
        assert set(table.drawn) <= {1, 2}, "moving the cursor draws the two lines it touched"


class _Built(ProcessTable):
    """Counts the rows it builds from their cells."""

    built = 0

    def _line(self, cells: tuple[Text, ...], width: int, style: Style) -> Strip:
        self.built += 1
        return super()._line(cells, width, style)


async def test_focus_coming_back_to_the_process_table_builds_no_row_again() -> None:
    """Showing Health moves focus to the table; the rows of both looks stay drawn."""

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield _Built(id="table")
            yield Input(id="elsewhere")

    app = Host()
    async with app.run_test(size=(90, 12)) as pilot:
        table = app.query_one(_Built)
        running = tuple(
            _service(name, ServiceState.RUNNING, 100 + index)
            for index, name in enumerate(("gateway", "browserd", "node_host"))
        )
        table.show(running, 30.0)
        for widget in (table, app.query_one(Input), table):
            widget.focus()
            await pilot.pause()
        assert table.built, "each look was drawn once"
        table.built = 0
        for widget in (app.query_one(Input), table):
            widget.focus()
            await pilot.pause()
        assert table.built == 0


async def test_a_text_of_the_same_height_is_not_a_new_layout() -> None:
    layouts: list[str] = []

    class Probe(SteadyStatic):
        def refresh(self, *args: object, layout: bool = False, **kwargs: object) -> Probe:
            if layout:
                layouts.append(str(self.render()))
            return super().refresh(*args, layout=layout, **kwargs)  # type: ignore[arg-type]

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield Probe("HEALTHY · up 5s", id="probe")

    app = Host()
    async with app.run_test(size=(40, 10)) as pilot:
        probe = app.query_one(Probe)
        await pilot.pause()
        layouts.clear()
        probe.update("HEALTHY · up 6s")
        await pilot.pause()
        assert layouts == [], "one line became another line: a repaint, not a layout"
        assert "up 6s" in str(probe.render())
        probe.update("HEALTHY · up 7s · " + "dashboard http://127.0.0.1:7142/ " * 2)
        await pilot.pause()
        assert layouts, "a text that wraps to more lines lays the screen out again"
        assert probe.size.height > 1


async def test_the_control_center_paces_full_collections_while_it_runs() -> None:
    """A key counts as input for the pacing; quitting gives the collector its schedule back."""
    before = gc.get_threshold()
    app = fixed_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.collector.installed)
        assert gc.get_threshold()[2] == NEVER
        advance(app, FULL_EVERY + QUIET)
        await pilot.press("down")
        assert not app.collector.tick(), "the key was just pressed"
        advance(app, QUIET)
        assert app.collector.tick()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


async def test_frames_get_the_gil_quickly_while_the_control_center_runs() -> None:
    """Textual's writer thread gets the GIL within a millisecond, not Python's default 5;
    quitting gives the process its own interval back."""
    before = sys.getswitchinterval()
    app = fixed_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.frame_handoff.installed)
        assert sys.getswitchinterval() == SWITCH_INTERVAL < before
    assert sys.getswitchinterval() == before


def rows_drawn(widget: Widget) -> list[int]:
    """The rows ``widget`` is asked to draw from now on, in order."""
    drawn: list[int] = []
    original = widget.render_line

    def recorded(y: int) -> Strip:
        drawn.append(y)
        return original(y)

    widget.render_line = recorded  # type: ignore[method-assign]
    return drawn


async def test_one_line_draws_what_static_draws_and_marks_a_cut_with_an_ellipsis() -> None:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(" 1 ", style="bold reverse")
    text.append(" Health ")
    text.append(" ^q ", style="bold reverse")
    text.append(" Quit ")

    class Host(App[None]):
        CSS = ".line { height: 1; background: $boost; color: $text-muted; }"

        def compose(self) -> ComposeResult:
            yield Static(text, classes="line", id="static")
            yield OneLine(classes="line", id="one")
            yield OneLine(classes="line", id="narrow")

    app = Host()
    async with app.run_test(size=(40, 4)) as pilot:
        one, narrow = app.query_one("#one", OneLine), app.query_one("#narrow", OneLine)
        one.update(text)
        narrow.styles.width = 12
        narrow.update(text)
        await pilot.pause()
        static_row = app.query_one("#static").render_lines(Region(0, 0, 40, 1))[0]
        assert strip_cells(one.render_lines(Region(0, 0, 40, 1))[0]) == strip_cells(static_row)
        cut = narrow.render_lines(Region(0, 0, 12, 1))[0]
        assert cut.text == " 1  Health …"
        drawn = rows_drawn(one)
        same = text.copy()
        one.update(same)
        await pilot.pause()
        assert drawn == [], "an equal text is not drawn again"
        same.append("!")
        one.update(same)
        await pilot.pause()
        assert drawn == [0]


async def test_a_pane_coming_into_view_draws_one_row_of_its_own_background() -> None:
    """Its widgets cover the rest: drawing all of its rows again cost as much as the log
    view on top of it, on every switch."""
    app = fixed_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.main.mounted_pane("logs") is not None)
        pane = app.main.mounted_pane("logs")
        assert pane is not None
        drawn = rows_drawn(pane)
        await pilot.press("2")
        await until(pilot, lambda: pane.display and bool(drawn))
        await pilot.pause()
        assert pane.size.height > 20
        assert len(drawn) == 1


async def test_moving_focus_to_another_pane_does_not_redraw_the_screen_itself() -> None:
    app = fixed_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.main.mounted_pane("logs") is not None)
        main = app.main
        drawn = rows_drawn(main)
        focused = app.focused
        await pilot.press("2")
        await until(pilot, lambda: app.focused is not focused and app.focused is not None)
        await pilot.pause()
        assert drawn == []


async def test_a_pane_switch_is_drawn_without_waiting_for_the_update_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a recent frame Textual's update timer ticks up to two frame intervals later;
    a switch is drawn as soon as the screen is idle instead.  The timer is held still
    here, as it is between its ticks."""
    app = fixed_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.main.mounted_pane("logs") is not None)
        await pilot.pause()
        main = app.main
        pane = main.mounted_pane("logs")
        assert pane is not None
        frames: list[bool] = []
        draw = main._compositor_refresh

        def recorded() -> None:
            draw()
            frames.append(pane in main._compositor.visible_widgets)

        monkeypatch.setattr(main._update_timer, "resume", lambda: None)
        monkeypatch.setattr(main, "_compositor_refresh", recorded)
        await pilot.press("2")
        await until_unpiloted(lambda: True in frames)  # a frame with the Logs pane on it
