"""The process table's labels change in steps, so a steady service does not repaint."""

from __future__ import annotations

import pytest

from palyra_tui.ui.widgets.process_table import duration, latency_label


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
