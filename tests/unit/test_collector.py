"""Full garbage collections wait for a quiet moment, and the collector's own schedule returns."""

from __future__ import annotations

import gc

from palyra_tui.models.clock import ManualClock
from palyra_tui.ui.collector import FULL_AT_LATEST, FULL_EVERY, NEVER, QUIET, CollectorPacing


def test_a_full_collection_waits_for_quiet_input() -> None:
    clock = ManualClock()
    passes: list[int] = []

    def collect(generation: int) -> int:
        passes.append(generation)
        return gc.collect(generation)

    pacing = CollectorPacing(clock, collect)
    before = gc.get_threshold()
    pacing.install()
    try:
        assert gc.get_threshold() == (before[0], before[1], NEVER)
        assert gc.get_freeze_count() > 0
        clock.advance(FULL_EVERY - 1)
        assert not pacing.tick(), "not due yet"
        clock.advance(1)
        pacing.input_seen()
        clock.advance(QUIET / 2)
        assert not pacing.tick(), "due, but a key was just pressed"
        clock.advance(QUIET)
        assert pacing.tick() and passes == [2]
        assert not pacing.tick(), "one pass, then the next interval"
        for _ in range(int(2 * FULL_AT_LATEST / QUIET) + 2):
            pacing.input_seen()
            clock.advance(QUIET / 2)
            pacing.tick()
        assert passes == [2, 2], "endless typing still gets a pass, late"
    finally:
        pacing.uninstall()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert not pacing.tick(), "uninstalled: the collector's own schedule"
