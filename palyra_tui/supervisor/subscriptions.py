"""Live feeds of log lines and state changes, delivered across threads.

The supervisor runs on its own thread and loop; a subscriber lives on another
loop (the UI's, or the headless command's).  Deliveries therefore go through
``call_soon_threadsafe`` and never block the supervisor.

* A :class:`LogSubscription` holds a cursor per service.  The supervisor only
  pokes it (at most once per batch interval); the subscriber then copies what
  is new out of the log store.  A subscriber that fell behind by more than the
  buffer holds gets a gap record with the count, never a silent hole.  With
  ``buffer=N`` the lines are handed to it as they are stored instead (a
  :class:`~palyra_tui.supervisor.logbuffer.LogTap`), and it falls behind only
  when N lines wait, whatever the ring size.
* An :class:`EventSubscription` queues :class:`~palyra_tui.models.ServiceEvent`
  values; when its bound is reached the oldest event is dropped and counted.
  ``max_events=None`` keeps every event, for a subscriber that must print each
  state change (restarts are paced by the backoff, so the queue stays small).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections.abc import Callable, Iterable

from palyra_tui.models import LogLine, ServiceEvent
from palyra_tui.supervisor.logbuffer import LogStore

MAX_EVENTS = 4096


class LogSubscription:
    """An async iterator of batches (tuples) of new log lines, oldest first."""

    def __init__(
        self,
        store: LogStore,
        services: Iterable[str],
        loop: asyncio.AbstractEventLoop,
        unsubscribe: Callable[[LogSubscription], None],
        *,
        backlog: bool = False,
        max_batch: int | None = None,
        buffer: int | None = None,
    ) -> None:
        if buffer is not None and (backlog or max_batch is not None):
            raise ValueError("a buffered log subscription starts with new lines, whole")
        self._store = store
        self._tap = store.tap(services, buffer) if buffer is not None else None
        self._loop = loop
        self._unsubscribe = unsubscribe
        self._ready = asyncio.Event()
        self._closed = False
        self._max_batch = max_batch
        self._cursors = {name: 0 if backlog else store.next_seq(name) - 1 for name in services}
        if backlog:
            self._ready.set()

    @property
    def services(self) -> tuple[str, ...]:
        """The services this subscription follows."""
        return tuple(self._cursors)

    def notify(self) -> None:
        """Called from the supervisor thread when new lines were stored."""
        if self._closed:
            return
        try:
            self._loop.call_soon_threadsafe(self._ready.set)
        except RuntimeError:
            self._closed = True

    def read(self) -> tuple[LogLine, ...]:
        """Take whatever is new right now, without waiting (from one thread at a time)."""
        if self._tap is not None:
            return self._tap.take()
        batches: list[tuple[LogLine, ...]] = []
        for name, cursor in self._cursors.items():
            lines = self._store.since(name, cursor, self._max_batch)
            if lines:
                self._cursors[name] = lines[-1].seq
                batches.append(lines)
        if not batches:
            return ()
        if len(batches) == 1:
            return batches[0]
        return tuple(heapq.merge(*batches, key=lambda line: line.ts))

    async def wait(self) -> bool:
        """Wait until new lines may be there, without taking them; False once closed.

        For a reader on another thread: it calls :meth:`read` after this returns,
        and sees every line stored before the wake-up.
        """
        if not self._closed:
            await self._ready.wait()
            self._ready.clear()
        return not self._closed

    def close(self) -> None:
        """Stop receiving; the iterator ends."""
        if not self._closed:
            self._closed = True
            self._unsubscribe(self)
            if self._tap is not None:
                self._store.untap(self._tap)
            self._ready.set()

    def __aiter__(self) -> LogSubscription:
        return self

    async def __anext__(self) -> tuple[LogLine, ...]:
        while True:
            if self._closed:
                raise StopAsyncIteration
            batch = self.read()
            if batch:
                return batch
            self._ready.clear()
            batch = self.read()
            if batch:
                return batch
            await self._ready.wait()


class EventSubscription:
    """An async iterator of service state changes."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        unsubscribe: Callable[[EventSubscription], None],
        *,
        max_events: int | None = MAX_EVENTS,
    ) -> None:
        self._loop = loop
        self._unsubscribe = unsubscribe
        self._queue: asyncio.Queue[ServiceEvent | None] = asyncio.Queue()
        self._max = max_events
        self._closed = False
        self.lost = 0

    def push(self, event: ServiceEvent) -> None:
        """Called from the supervisor thread."""
        if self._closed:
            return
        try:
            self._loop.call_soon_threadsafe(self._put, event)
        except RuntimeError:
            self._closed = True

    def _put(self, event: ServiceEvent | None) -> None:
        if self._max is not None and self._queue.qsize() >= self._max:
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
                self.lost += 1
        self._queue.put_nowait(event)

    def close(self) -> None:
        """Stop receiving; the iterator ends after what is queued."""
        if not self._closed:
            self._closed = True
            self._unsubscribe(self)
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._queue.put_nowait, None)

    def __aiter__(self) -> EventSubscription:
        return self

    async def __anext__(self) -> ServiceEvent:
        event = await self._queue.get()
        if event is None:
            raise StopAsyncIteration
        return event
