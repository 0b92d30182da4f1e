"""Log memory under a flood of 16 KiB lines from four services, with and without byte budgets.

Each case runs ``tests/bench/log_flood.py`` in a fresh interpreter: the real supervisor
over four child processes that each write 12,000 lines of 16 KiB (750 MiB in all), and
reports the peak resident memory of that process and the store's accounted bytes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench.conftest import report

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parent.parent.parent
SERVICES, LINES, WIDTH = 4, 12_000, 16 * 1024


def flood(log_mib: int, log_total_mib: int) -> dict[str, float]:
    command = [sys.executable, "-m", "tests.bench.log_flood"]
    command += [str(value) for value in (SERVICES, LINES, WIDTH, log_mib, log_total_mib)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    figures: dict[str, float] = json.loads(result.stdout.splitlines()[-1])
    return figures


@pytest.mark.parametrize(
    ("case", "log_mib", "log_total_mib"),
    [("default_budgets", 64, 256), ("line_count_only", 4096, 65536)],
)
def test_peak_memory_under_a_flood_of_wide_lines(
    case: str, log_mib: int, log_total_mib: int
) -> None:
    figures = flood(log_mib, log_total_mib)
    report(f"log_flood_16k_lines_{case}", **figures)
    assert figures["store_mib_peak"] <= figures["budget_mib"]
