"""The services table of the Health screen: one line per service, redrawn line by line.

Every cell fits its column at any value (a cut cell such as ``3 (#`` says
nothing): counts are capped, sizes change unit, and the held flag lives in
the Next column, where it answers "when does it start again?".

The table draws its own lines instead of using ``DataTable``: a changed cell
there repaints the whole table, so one daemon's CPU figure moving rewrote
every row to the terminal each second.  Here a change redraws that row's line
only (the supervisor holds CPU and probe latency still until they really
moved, so an idle daemon's row stays as it is).
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from palyra_tui.models import HealthState, ServiceSnapshot, ServiceState
from palyra_tui.ui.safe import plain

COLUMNS = (
    ("service", "Service", 10),
    ("state", "State", 8),
    ("pid", "PID", 7),
    ("uptime", "Up", 6),
    ("restarts", "Rst", 4),
    ("next", "Next", 6),
    ("cpu", "CPU", 5),
    ("rss", "RSS", 6),
    ("health", "Health", 9),
)
_COLUMN_INDEX = {key: index for index, (key, _, _) in enumerate(COLUMNS)}
_PAD = 1
STRIP_VARIANTS = 6
"""Drawn looks kept per service (cursor or not, focused or not, odd or even row) before
the cache starts again, so theme changes cannot grow it without end."""
"""Blank cells each side of a cell, as between the columns of a DataTable."""
_STATE_STYLES = {
    ServiceState.RUNNING: "green",
    ServiceState.STARTING: "cyan",
    ServiceState.STOPPING: "yellow",
    ServiceState.BACKOFF: "bold yellow",
    ServiceState.HELD: "bold magenta",
    ServiceState.EXITED: "dim",
    ServiceState.FAILED: "bold red",
    ServiceState.STOPPED: "dim",
}
_HEALTH_STYLES = {
    HealthState.HEALTHY: "green",
    HealthState.UNHEALTHY: "bold red",
    HealthState.UNKNOWN: "dim",
    HealthState.NOT_CHECKED: "dim",
}
Cells = tuple[Text, ...]


class ProcessTable(ScrollView, can_focus=True):
    """One line per service under a header, with a line cursor (the selected service)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "process-table--header",
        "process-table--cursor",
        "process-table--even-row",
    }
    DEFAULT_CSS = """
    ProcessTable {
        background: $surface;
        color: $foreground;
        height: auto;
        overflow-x: hidden;
        overflow-y: auto;
        & > .process-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .process-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .process-table--even-row {
            background: $surface-lighten-1 50%;
        }
        &:dark > .process-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .process-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .process-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        &:nocolor > .process-table--cursor {
            text-style: reverse;
        }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Previous service", show=False),
        Binding("down", "cursor(1)", "Next service", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First service", show=False),
        Binding("end", "last", "Last service", show=False),
    ]

    class Highlighted(Message):
        """The cursor moved to another service (or the table emptied)."""

        def __init__(self, service: str | None) -> None:
            super().__init__()
            self.service = service

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._names: list[str] = []
        self._cells: dict[str, Cells] = {}
        self._strips: dict[tuple[str, int, Style], Strip] = {}
        """Drawn rows by service, width and style.  The style is in the key, rather than
        the cache cleared when styles change, because focus changes them: the rows of
        both looks stay drawn and a visit to Health redraws none."""
        self._header: tuple[int, Style, Strip] | None = None
        self._looks = (Style(), Style(), Style(), Style())
        """The row styles of this frame: plain, cursor, even row, header."""
        self.cursor = 0
        """The line of the selected service."""

    # What the table shows --------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        """The services, in the order shown."""
        return tuple(self._names)

    @property
    def row_count(self) -> int:
        """How many services are shown."""
        return len(self._names)

    def get_cell(self, service: str, column: str) -> Text:
        """The cell of ``column`` (a key of :data:`COLUMNS`) in ``service``'s line."""
        return self._cells[service][_COLUMN_INDEX[column]]

    @property
    def selected_service(self) -> str | None:
        """The name of the service under the cursor."""
        return self._names[self.cursor] if self._names else None

    def show(self, services: tuple[ServiceSnapshot, ...], now: float) -> None:
        """Show ``services``: a line whose cells changed is redrawn, and only that line."""
        names = [service.name for service in services]
        changed: list[int] = []
        for index, service in enumerate(services):
            cells = row_cells(service, now)
            if self._cells.get(service.name) != cells:
                self._cells[service.name] = cells
                self._forget_strips(service.name)
                changed.append(index)
        if names != self._names:
            selected = self.selected_service
            self._names = names
            for name in set(self._cells) - set(names):
                del self._cells[name]
            self._strips.clear()
            self.virtual_size = Size(self.size.width, len(names) + 1)
            self.cursor = names.index(selected) if selected in names else 0
            self.cursor = min(self.cursor, max(len(names) - 1, 0))
            self.refresh()
            if selected != self.selected_service:
                self.post_message(self.Highlighted(self.selected_service))
            return
        for index in changed:
            self._refresh_row(index)

    # Drawing ------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # Worked out once a frame: each costs a walk of the ancestors.
        base = self.rich_style
        self._looks = (
            base,
            base + self.get_component_rich_style("process-table--cursor"),
            base + self.get_component_rich_style("process-table--even-row"),
            base + self.get_component_rich_style("process-table--header"),
        )
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base, cursor, even, header = self._looks
        if y == 0:
            return self._header_strip(width, header)
        index = self.scroll_offset.y + y - 1
        if index >= len(self._names):
            return Strip.blank(width, base)
        name = self._names[index]
        style = cursor if index == self.cursor else even if index % 2 else base
        key = (name, width, style)
        strip = self._strips.get(key)
        if strip is None:
            if len(self._strips) > STRIP_VARIANTS * max(1, len(self._names)):
                self._strips.clear()
            strip = self._line(self._cells[name], width, style)
            self._strips[key] = strip
        return strip

    def _forget_strips(self, name: str) -> None:
        for key in [key for key in self._strips if key[0] == name]:
            del self._strips[key]

    def _header_strip(self, width: int, style: Style) -> Strip:
        if self._header is None or self._header[:2] != (width, style):
            labels = tuple(Text(label) for _, label, _ in COLUMNS)
            self._header = (width, style, self._line(labels, width, style))
        return self._header[2]

    def _line(self, cells: Cells, width: int, style: Style) -> Strip:
        segments: list[Segment] = []
        console = self.app.console
        for cell, (_, _, cell_width) in zip(cells, COLUMNS, strict=True):
            text = cell.copy()
            text.truncate(cell_width, overflow="ellipsis", pad=True)
            text.pad(_PAD)
            segments.extend(text.render(console))
        strip = Strip(segments).apply_style(style)
        return strip.crop_extend(0, width, style)

    def _refresh_row(self, index: int) -> None:
        line = index + 1 - self.scroll_offset.y
        if 1 <= line < self.size.height:
            self.refresh(Region(0, line, self.size.width, 1))

    def on_resize(self, _event: events.Resize) -> None:
        self._strips.clear()
        self.virtual_size = Size(self.size.width, len(self._names) + 1)

    def _on_focus(self, event: events.Focus) -> None:
        super()._on_focus(event)
        self._refresh_row(self.cursor)

    def _on_blur(self, event: events.Blur) -> None:
        super()._on_blur(event)
        self._refresh_row(self.cursor)

    # The cursor ------------------------------------------------------------------------

    def move_cursor(self, *, row: int) -> None:
        """Select the service on line ``row`` (clamped), keeping it in view."""
        if not self._names:
            return
        row = max(0, min(row, len(self._names) - 1))
        if row == self.cursor:
            return
        old, self.cursor = self.cursor, row
        self._refresh_row(old)
        self._refresh_row(row)
        rows = max(self.size.height - 1, 1)
        top = self.scroll_offset.y
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + rows:
            self.scroll_to(y=row - rows + 1, animate=False, immediate=True)
        self.post_message(self.Highlighted(self.selected_service))

    def action_cursor(self, step: int) -> None:
        self.move_cursor(row=self.cursor + step)

    def action_page(self, direction: int) -> None:
        self.move_cursor(row=self.cursor + direction * max(self.size.height - 2, 1))

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self._names) - 1)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.move_cursor(row=self.scroll_offset.y + event.y - 1)


def row_cells(service: ServiceSnapshot, now: float) -> Cells:
    """The cells of one service row; each fits its column (only names are cut)."""
    uptime = service.uptime(now)
    wait = service.next_attempt_in(now)
    stats = service.stats
    health = service.health
    health_text = health.state.value
    if health.state is HealthState.HEALTHY:
        health_text = "ok " + latency_label(health.latency_ms)
    elif health.state is HealthState.NOT_CHECKED:
        health_text = "-"
    return (
        plain(service.name, "bold"),
        plain(service.state.value, _STATE_STYLES.get(service.state, "")),
        plain(str(service.pid) if service.pid else "-"),
        plain(duration(uptime) if uptime is not None else "-"),
        plain(count_label(service.restarts)),
        _next_cell(service.held, wait),
        plain(_percent(stats.cpu_percent) if stats else "-"),
        plain(_bytes(stats.rss_bytes) if stats else "-"),
        plain(health_text, _HEALTH_STYLES.get(health.state, "")),
    )


def _next_cell(held: bool, wait: float | None) -> Text:
    if held:
        return plain("held", "bold magenta")
    if wait is None:
        return plain("-")
    return plain(f"{wait:.0f}s" if wait < 9999.5 else duration(wait), "yellow")


def count_label(count: int) -> str:
    """A count in at most four cells: ``0`` … ``999``, then ``999+``."""
    return str(count) if count < 1000 else "999+"


def _percent(value: float) -> str:
    if value < 100:
        return f"{value:.1f}%"
    return f"{min(value, 9999):.0f}%"


def latency_label(latency_ms: float | None) -> str:
    """Probe latency in steps, so a steady service does not repaint its row every probe."""
    if latency_ms is None:
        return ""
    if latency_ms < 5:
        return "<5ms"
    if latency_ms < 100:
        return f"{int(latency_ms // 5 * 5)}ms"
    return f"{latency_ms / 1000:.1f}s"


def duration(seconds: float) -> str:
    """Seconds for the first minute, then minutes: an idle screen changes once a minute.

    At most six cells; 100 days and more read ``99d+``.
    """
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    if whole < 100 * 86400:
        return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"
    return "99d+"


def _bytes(count: int) -> str:
    """A size in at most six cells (``999.9M``, then gigabytes)."""
    if count < 1024 * 1024:
        return f"{count / 1024:.0f}K"
    for unit, size in (("M", 1024**2), ("G", 1024**3)):
        if count / size < 1000:
            return f"{count / size:.1f}{unit}"
    return f"{min(count / 1024**4, 999):.1f}T"
