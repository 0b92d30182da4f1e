"""The services table of the Health screen, updated by row key (cursor and scroll survive).

Every cell fits its column at any value (a cut cell such as ``3 (#`` says
nothing): counts are capped, sizes change unit, and the held flag lives in
the Next column, where it answers "when does it start again?".
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import DataTable

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


class ProcessTable(DataTable[Text]):
    """One row per service, keyed by service name."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def show(self, services: tuple[ServiceSnapshot, ...], now: float | None = None) -> None:
        """Patch the rows to match ``services``."""
        moment = time.time() if now is None else now
        wanted = {service.name: service for service in services}
        for row_key in list(self.rows):
            if row_key.value not in wanted:
                self.remove_row(row_key)
        for name, service in wanted.items():
            cells = row_cells(service, moment)
            if name in self.rows:
                for (column, _, _), cell in zip(COLUMNS, cells, strict=True):
                    if self.get_cell(name, column) != cell:
                        self.update_cell(name, column, cell)
            else:
                self.add_row(*cells, key=name)

    @property
    def selected_service(self) -> str | None:
        """The name of the service under the cursor."""
        if not self.rows:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return str(row_key.value) if row_key.value is not None else None


def row_cells(service: ServiceSnapshot, now: float) -> tuple[Text, ...]:
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
