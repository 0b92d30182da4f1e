"""The services table: every cell fits its column, and Rst counts restarts only."""

from __future__ import annotations

import pytest

from palyra_tui.models import (
    HealthState,
    HealthStatus,
    ProcessStats,
    ServiceKind,
    ServiceSnapshot,
    ServiceState,
)
from palyra_tui.ui.widgets.process_table import COLUMNS, Cells, row_cells

NOW = 2_000_000_000.0


def extreme(state: ServiceState, **changes: object) -> ServiceSnapshot:
    fields: dict[str, object] = {
        "name": "gateway",
        "kind": ServiceKind.GATEWAY,
        "state": state,
        "desired": True,
        "held": True,
        "pid": 4_194_304,
        "started_at": NOW - 400 * 86400.0,
        "restarts": 1_234_567,
        "attempt": 12,
        "max_restarts": 20,
        "next_attempt_at": NOW + 86400.0,
        "health": HealthStatus(HealthState.UNHEALTHY, latency_ms=12_345.0),
        "stats": ProcessStats(
            cpu_percent=3_200.0, rss_bytes=5 * 1024**4, threads=999, open_files=99_999
        ),
    }
    fields.update(changes)
    return ServiceSnapshot(**fields)  # type: ignore[arg-type]


def cells_of(service: ServiceSnapshot) -> Cells:
    return row_cells(service, NOW)


@pytest.mark.parametrize("state", list(ServiceState))
@pytest.mark.parametrize("rss", [0, 1023 * 1024, 999 * 1024**2 + 1, 1000 * 1024**2, 5 * 1024**4])
def test_every_cell_fits_its_column(state: ServiceState, rss: int) -> None:
    stats = ProcessStats(cpu_percent=3_200.0, rss_bytes=rss)
    for service in (
        extreme(state, stats=stats),
        extreme(state, held=False, stats=stats),
        extreme(state, health=HealthStatus(HealthState.HEALTHY, latency_ms=4_321.0)),
    ):
        cells = cells_of(service)
        for (key, _, width), cell in zip(COLUMNS[1:], cells[1:], strict=True):
            assert cell.cell_len <= width, f"{key} cell {cell.plain!r} is cut at {width}"


def test_rst_shows_the_restart_count_and_nothing_else() -> None:
    service = extreme(
        ServiceState.BACKOFF, restarts=3, attempt=2, held=False, next_attempt_at=NOW + 8
    )
    cells = dict(zip((key for key, _, _ in COLUMNS), cells_of(service), strict=True))
    assert cells["restarts"].plain == "3"
    assert cells["next"].plain == "8s"
    assert cells["state"].plain == "backoff"


def test_held_restarts_show_in_the_next_column() -> None:
    service = extreme(ServiceState.RUNNING, next_attempt_at=None)
    cells = dict(zip((key for key, _, _ in COLUMNS), cells_of(service), strict=True))
    assert cells["state"].plain == "running"
    assert cells["next"].plain == "held"
