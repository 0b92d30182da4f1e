"""Alerts that inform instead of shouting: at most one per subject and kind per window.

A crash-looping service ends every few seconds; without a limit each exit
rings the bell.  The limiter lets the first alert of a subject and kind
through, holds the ones that follow inside :data:`ALERT_WINDOW`, and has the
next alert that passes say how many it held.
"""

from __future__ import annotations

from dataclasses import dataclass

from palyra_tui.models.clock import Clock

ALERT_WINDOW = 60.0
"""Seconds during which a subject and kind alert at most once."""


@dataclass(frozen=True, slots=True)
class AlertKey:
    """What an alert is about: a subject (a service, "approvals") and a kind."""

    subject: str
    kind: str


class AlertLimiter:
    """Decides which alerts reach the operator, on the app's clock."""

    def __init__(self, clock: Clock, window: float = ALERT_WINDOW) -> None:
        self._clock = clock
        self._window = window
        self._last: dict[AlertKey, float] = {}
        self._held: dict[AlertKey, int] = {}

    def admit(self, key: AlertKey) -> int | None:
        """None when the alert is held; else how many alerts of its key were held before it."""
        now = self._clock.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self._window:
            self._held[key] = self._held.get(key, 0) + 1
            return None
        self._last[key] = now
        return self._held.pop(key, 0)
