"""The shapes of live feeds: log batches and service events, as every layer receives them.

They live with the models so that a view of the runtime (a UI attached over the
socket) can name them without loading the supervisor that produces them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from palyra_tui.models.logs import LogLine
from palyra_tui.models.services import ServiceEvent


class LogFeed(Protocol):
    """Batches of new log lines (with gap records where lines were lost)."""

    def __aiter__(self) -> AsyncIterator[tuple[LogLine, ...]]: ...

    def close(self) -> None:
        """Stop the feed."""
        ...


class EventFeed(Protocol):
    """State changes of services, in order."""

    def __aiter__(self) -> AsyncIterator[ServiceEvent]: ...

    def close(self) -> None:
        """Stop the feed."""
        ...
