"""Benchmarks print their figures; run them with ``pytest tests/bench -m bench -s``."""

from __future__ import annotations

import json
import statistics


def report(name: str, **figures: float | int | str) -> None:
    """Print one benchmark result as a JSON line."""
    print(json.dumps({"benchmark": name, **figures}), flush=True)


def percentile(samples: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (0..1) of ``samples``, by the nearest-rank method."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def median(samples: list[float]) -> float:
    """The median of ``samples``."""
    return statistics.median(samples)
