"""Server streams coalesce whatever is ready into one message.

A gRPC message costs the Python runtime on the order of 100 µs at each end,
whatever its size, so a stream of single log lines would top out at a few
thousand lines a second.  The server therefore reads the handler's items into
a small bounded queue and sends, each time, everything already queued as one
encoded tuple: a live tail still goes out line by line with no added delay,
and a backlog goes out up to ``MAX_ITEMS`` items a message (split in halves
while its encoding is over ``MAX_BYTES``).

Flow control survives: while the client does not read, gRPC's write waits,
the queue fills, and the handler's iterator is not advanced.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

MAX_ITEMS = 1024
MAX_BYTES = 1024 * 1024

T = TypeVar("T")


class _End:
    """The handler's iterator is exhausted."""


class _Failure:
    """The handler raised; its items before the failure are still delivered."""

    def __init__(self, error: Exception) -> None:
        self.error = error


async def _pump(items: AsyncIterator[T], queue: asyncio.Queue[T | _End | _Failure]) -> None:
    try:
        async for item in items:
            await queue.put(item)
    except Exception as error:
        await queue.put(_Failure(error))
    else:
        await queue.put(_End())


async def batches(
    items: AsyncIterator[T],
    encode: Callable[[tuple[T, ...]], bytes],
    *,
    max_items: int = MAX_ITEMS,
    max_bytes: int = MAX_BYTES,
) -> AsyncIterator[bytes]:
    """Encoded tuples of items, each holding what was ready when it was sent.

    The handler's exception is raised here after the items it yielded first.
    """
    queue: asyncio.Queue[T | _End | _Failure] = asyncio.Queue(max_items)
    pump = asyncio.create_task(_pump(items, queue))
    try:
        while True:
            ready: list[T] = []
            entry = await queue.get()
            while not isinstance(entry, _End | _Failure):
                ready.append(entry)
                if queue.empty():
                    break
                entry = queue.get_nowait()
            for message in _split(ready, encode, max_bytes):
                yield message
            if isinstance(entry, _Failure):
                raise entry.error
            if isinstance(entry, _End):
                return
    finally:
        pump.cancel()


def _split(items: list[T], encode: Callable[[tuple[T, ...]], bytes], max_bytes: int) -> list[bytes]:
    """``items`` encoded as one message, or as several when that is over ``max_bytes``."""
    if not items:
        return []
    data = encode(tuple(items))
    if len(data) <= max_bytes or len(items) == 1:
        return [data]
    half = len(items) // 2
    return _split(items[:half], encode, max_bytes) + _split(items[half:], encode, max_bytes)
