"""The one writer of a state file: it takes snapshots of the state and coalesces the writes.

:meth:`StateStore.save` only records the latest immutable state; a task
writes it once :data:`WRITE_WINDOW` has passed on the injected clock since the
first change it has not written yet, so a burst of changes is one write and
the file is written at most once a window.  The file I/O runs in a thread,
never on the event loop, one write at a time.  :meth:`StateStore.close` writes
what is left.

A write that fails (a full disk, a read-only file system) leaves the file as
it was; the state stays in memory, the operator is told once, and the next
change tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from palyra_tui.models.clock import Clock, SystemClock
from palyra_tui.state.persisted import PersistedState
from palyra_tui.state.state_file import Loaded, load_state, reason, write_state

log = logging.getLogger(__name__)

WRITE_WINDOW = 0.2
"""Seconds between the first unwritten change and its write."""


class StateStore:
    """Owns one state file from :meth:`open` to :meth:`close`."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Clock | None = None,
        window: float = WRITE_WINDOW,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._window = window
        self._on_notice = on_notice or (lambda _text: None)
        self._latest: PersistedState | None = None
        self._written: PersistedState | None = None
        self._dirty_since: float | None = None
        self.waiting = False
        """True while the writer holds a saved state back until the window has passed."""
        self._writable = False
        self._failing = False
        self._closing = False
        self._wake: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None
        self._task: asyncio.Task[None] | None = None
        self.notice = ""
        """The latest sentence about the file ("" while all is well)."""
        self.writes = 0
        """Writes that reached the disk."""

    @property
    def latest(self) -> PersistedState | None:
        """The newest state saved (None before :meth:`open`)."""
        return self._latest

    async def open(self) -> Loaded:
        """Read the file (in a thread) and start the writer; the caller takes it from there.

        Nothing is written until :meth:`save`: a caller that finds legacy secrets
        in :attr:`Loaded.legacy` stores them first, then saves.
        """
        loaded = await asyncio.to_thread(load_state, self.path, self._clock.time())
        self._writable = loaded.writable
        self._latest = loaded.state
        self._written = None if loaded.rewrite else loaded.state
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        if loaded.notice:
            self._say(loaded.notice)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="state file")
        return loaded

    def save(self, state: PersistedState) -> None:
        """Keep ``state`` as the newest; it is written within the window."""
        self._latest = state
        if self._wake is None or self._closing or state == self._written:
            return
        if self._dirty_since is None:
            self._dirty_since = self._clock.monotonic()
        self._wake.set()

    def hold(self, notice: str) -> None:
        """Never write the file in this run (it holds something that must not be lost)."""
        self._writable = False
        self._say(notice)

    @property
    def pending(self) -> bool:
        """True while a saved state waits to be written."""
        return self._writable and self._latest is not None and self._latest != self._written

    async def flush(self) -> None:
        """Write the newest state now, if it is not on disk yet."""
        if self._lock is None:
            return
        async with self._lock:
            await self._write()

    async def close(self) -> None:
        """Write what is left and stop the writer (idempotent)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._closing = True
        assert self._wake is not None
        self._wake.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        assert self._wake is not None and self._lock is not None
        while True:
            if not self._closing:
                await self._wake.wait()
            self._wake.clear()
            while (
                not self._closing
                and self._dirty_since is not None
                and (left := self._dirty_since + self._window - self._clock.monotonic()) > 0
            ):
                self.waiting = True
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(left):
                        await self._wake.wait()
                self.waiting = False
                self._wake.clear()
            async with self._lock:
                await self._write()
                if self._closing:
                    await self._write()  # what was saved while the last write ran
                    return

    async def _write(self) -> None:
        """Write the newest state if it differs from the file (the caller holds the lock)."""
        self._dirty_since = None
        state = self._latest
        if not self.pending or state is None:
            return
        try:
            await asyncio.to_thread(write_state, self.path, state)
        except Exception as error:  # a bug must not end the writer: the state stays in memory
            if not isinstance(error, OSError):
                log.error("writing the state file failed", exc_info=error)
            if not self._failing:
                self._failing = True
                why = reason(error) if isinstance(error, OSError) else type(error).__name__
                self._say(
                    f"The state file {self.path} cannot be written ({why}): "
                    "palyra-tui keeps its state in memory and tries again at the next change."
                )
            return
        self._written = state
        self.writes += 1
        if self._failing:
            self._failing = False
            self._say("")

    def _say(self, text: str) -> None:
        self.notice = text
        if text:
            log.warning("%s", text)
        self._on_notice(text)
