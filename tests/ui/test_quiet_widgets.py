"""Widgets that stay silent on the wire while nothing visible changes."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from palyra_tui.models import LogLine, LogStream
from palyra_tui.ui.widgets.log_view import LogView
from palyra_tui.ui.widgets.process_table import duration, latency_label
from palyra_tui.ui.widgets.steady import SteadyStatic


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


async def test_log_view_draws_each_batch_and_follows_the_tail() -> None:
    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield LogView()

    def batch(start: int, count: int) -> list[LogLine]:
        return [
            LogLine(seq, 0.0, "gateway", LogStream.STDOUT, f"line number {seq}")
            for seq in range(start, start + count)
        ]

    def visible_rows(view: LogView) -> list[str]:
        return [view.render_line(y).text for y in range(view.size.height)]

    app = Host()
    async with app.run_test(size=(60, 8)) as pilot:
        view = app.query_one(LogView)
        view.write(batch(0, 2))
        await pilot.pause()
        view.write(batch(2, 1))
        await pilot.pause()
        rows = visible_rows(view)
        assert any("line number 2" in row for row in rows), rows
        view.write(batch(3, 30))
        await pilot.pause()
        rows = visible_rows(view)
        assert any("line number 32" in row for row in rows), rows
        assert not any("line number 2 " in row + " " for row in rows)
