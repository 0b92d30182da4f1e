"""The one interface callers use to drive a supervisor.

The embedded :class:`~palyra_tui.supervisor.Supervisor` implements it today; a
detached supervisor behind a local socket can implement it later without its
callers changing.  Every method is safe to call from any event loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from palyra_tui.models import LogLine, LogStream, SupervisorSnapshot
from palyra_tui.models.feeds import EventFeed, LogFeed


class SupervisorApi(Protocol):
    """Start, stop, restart, hold, snapshot and subscribe."""

    async def start(self, name: str) -> None:
        """Start a service now (resets its backoff)."""
        ...

    async def stop(self, name: str) -> None:
        """Stop a service and wait until its process group is gone."""
        ...

    async def restart(self, name: str) -> None:
        """Stop a service gracefully, then start it."""
        ...

    async def hold(self, name: str, held: bool) -> None:
        """Hold or release a service's automatic restarts."""
        ...

    async def start_all(self) -> None:
        """Start every enabled service."""
        ...

    async def stop_all(self, reason: str = "stopped by operator") -> None:
        """Stop every service."""
        ...

    def snapshot(self) -> SupervisorSnapshot:
        """The latest state of every service; never blocks."""
        ...

    def tail(self, name: str, count: int, stream: LogStream | None = None) -> tuple[LogLine, ...]:
        """The last ``count`` retained lines of one service."""
        ...

    def subscribe_logs(
        self, services: Iterable[str] | None = None, *, backlog: bool = False
    ) -> LogFeed:
        """Follow the logs of some (default: all) services from the caller's loop."""
        ...

    def subscribe_events(self) -> EventFeed:
        """Follow state changes from the caller's loop."""
        ...
