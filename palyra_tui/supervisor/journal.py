"""The services' state changes, kept: what a support bundle's timeline shows.

Subscribers see each change once, as it happens; a person who reports a bug
needs the changes that came before they looked.  The engine records every
event it publishes here (and a hold or release, which changes no state), and
the journal keeps the newest :data:`JOURNAL_EVENTS`.  It is written on the
supervisor's loop and read from any thread.
"""

from __future__ import annotations

import threading
from collections import deque

from palyra_tui.models import ServiceEvent

JOURNAL_EVENTS = 1_000
"""State changes kept; a crash loop at the longest backoff takes days to fill them."""


class ServiceJournal:
    """The newest state changes of every service, oldest first."""

    def __init__(self, limit: int = JOURNAL_EVENTS) -> None:
        self._events: deque[ServiceEvent] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self._dropped = 0

    def record(self, event: ServiceEvent) -> None:
        """Keep ``event``; past the limit the oldest one goes."""
        with self._lock:
            if len(self._events) == self._events.maxlen:
                self._dropped += 1
            self._events.append(event)

    def events(self) -> tuple[ServiceEvent, ...]:
        """What is kept, oldest first (any thread)."""
        with self._lock:
            return tuple(self._events)

    @property
    def dropped(self) -> int:
        """How many older events were let go to keep the limit."""
        with self._lock:
            return self._dropped
