"""Writing a command's output from an event loop without ever blocking it.

A consumer that stops reading (a paused pager, a pipe nobody drains) must not
stall the loop, or a stop signal could not end the command.  So each write goes
to a thread, through the abortable :class:`~palyra_tui.cli.output.Sink`, and
leaving the command aborts a write that still waits.
"""

from __future__ import annotations

import asyncio
import os

from palyra_tui.cli.output import Sink, SinkError


class StdoutClosed(Exception):
    """The reader of stdout went away (``palyra-tui logs | head``)."""


class Stdout:
    """Writes text to a file descriptor from a thread, in order, one write at a time."""

    def __init__(self, fd: int = 1) -> None:
        self._sink = Sink(fd)
        self._lock = asyncio.Lock()
        self._pending: asyncio.Future[None] | None = None
        self.colour = _colour(fd)

    async def write(self, text: str) -> None:
        """Write all of ``text``; raises StdoutClosed when the reader went away."""
        if not text:
            return
        data = text.encode("utf-8", "replace")
        async with self._lock:
            self._pending = asyncio.ensure_future(asyncio.to_thread(self._sink.write, data))
            try:
                await asyncio.shield(self._pending)
            except SinkError as error:
                raise StdoutClosed(error.cause) from None

    async def aclose(self) -> None:
        """Abort a write still waiting for the reader, then release the descriptors."""
        pending = self._pending
        if pending is not None and not pending.done():
            self._sink.abort()
            await asyncio.wait({pending})
        if pending is not None and pending.done() and not pending.cancelled():
            pending.exception()
        self._sink.close()


def _colour(fd: int) -> bool:
    """Colour only for a terminal, and never with ``NO_COLOR`` or ``TERM=dumb``."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM", "") == "dumb":
        return False
    try:
        return os.isatty(fd)
    except OSError:
        return False
