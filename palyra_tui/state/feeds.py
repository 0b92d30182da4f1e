"""Subscribers of a runtime's messages: one queue each, filled by one fan-out.

A runtime pushes each message to every subscriber from its own loop; each
subscriber reads its queue in order.  A feed drops messages only when
given a limit, and then says so (:attr:`Feed.behind`), so that its reader takes
the whole view again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable

from palyra_tui.state.runtime_api import RuntimeMessage


class Feed:
    """One subscriber's messages, in order, until :meth:`close`."""

    def __init__(self, on_close: Callable[[Feed], None], limit: int | None = None) -> None:
        self._items: deque[RuntimeMessage] = deque()
        self._ready = asyncio.Event()
        self._closed = False
        self._on_close = on_close
        self._limit = limit
        self.behind = False
        """Set when unread messages passed ``limit`` and were forgotten: the reader must
        take the whole view again (it clears this)."""

    def push(self, message: RuntimeMessage) -> None:
        if self._limit is not None and len(self._items) >= self._limit:
            self._items.clear()
            self.behind = True
        self._items.append(message)
        self._ready.set()

    async def __aiter__(self) -> AsyncIterator[RuntimeMessage]:
        while not (self._closed and not self._items):
            await self._ready.wait()
            self._ready.clear()
            while self._items:
                yield self._items.popleft()

    def close(self) -> None:
        self._closed = True
        self._ready.set()
        self._on_close(self)


class Subscribers:
    """Every open :class:`Feed` of one runtime."""

    def __init__(self) -> None:
        self._feeds: list[Feed] = []

    def subscribe(self, limit: int | None = None) -> Feed:
        """A new feed that gets every message pushed from now on (at most ``limit``
        unread, after which it starts again from :attr:`Feed.behind`)."""
        feed = Feed(self._forget, limit)
        self._feeds.append(feed)
        return feed

    def push(self, message: RuntimeMessage) -> None:
        """Give ``message`` to every feed."""
        for feed in self._feeds:
            feed.push(message)

    def close(self) -> None:
        """End every feed (each reader gets what was pushed before)."""
        for feed in list(self._feeds):
            feed.close()

    def _forget(self, feed: Feed) -> None:
        with contextlib.suppress(ValueError):
            self._feeds.remove(feed)
