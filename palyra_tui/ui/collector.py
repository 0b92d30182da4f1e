"""Python's full garbage collections, moved to moments when the operator is not typing.

A full collection walks every tracked object.  With the log lines kept for
scroll-back that takes 50 to 120 ms, and under a log flood CPython starts one
by itself every few seconds: a key pressed then waits that long.  Here the
automatic collector keeps its young generations only, the objects alive once
the first frame is drawn are frozen out of every later pass, and a full pass
runs when input has been quiet for a moment (or, under endless typing, after
a long while regardless).  Acyclic garbage is freed by reference counting as
always; only cycles that outlive the young generations wait for that pass.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from palyra_tui.models.clock import Clock

FULL_EVERY = 30.0
"""Seconds between full collections while input allows one."""
QUIET = 1.0
"""Seconds without a key or a click before a full collection may run."""
FULL_AT_LATEST = 300.0
"""Seconds after which a full collection runs even while the operator types."""
NEVER = 2**30
"""A full-collection threshold the automatic collector does not reach."""


class CollectorPacing:
    """When full collections run; one per app, installed while it runs."""

    def __init__(self, clock: Clock, collect: Callable[[int], int] = gc.collect) -> None:
        self._clock = clock
        self._collect = collect
        self._saved: tuple[int, int, int] | None = None
        self._last_input = self._last_full = clock.monotonic()

    @property
    def installed(self) -> bool:
        return self._saved is not None

    def install(self) -> None:
        """Freeze what is alive now and take full collections off the automatic collector."""
        if self._saved is not None:
            return
        young, middle, full = gc.get_threshold()
        self._saved = (young, middle, full)
        gc.freeze()
        gc.set_threshold(young, middle, NEVER)
        self._last_full = self._clock.monotonic()

    def uninstall(self) -> None:
        """Give the collector back its own schedule."""
        if self._saved is None:
            return
        gc.set_threshold(*self._saved)
        self._saved = None
        gc.unfreeze()

    def input_seen(self) -> None:
        """A key or a click arrived."""
        self._last_input = self._clock.monotonic()

    def tick(self) -> bool:
        """Run a full collection if it is due and input allows; True if one ran."""
        if self._saved is None:
            return False
        now = self._clock.monotonic()
        since_full = now - self._last_full
        quiet = now - self._last_input >= QUIET
        if (quiet and since_full >= FULL_EVERY) or since_full >= FULL_AT_LATEST:
            self._collect(2)
            self._last_full = now
            return True
        return False
