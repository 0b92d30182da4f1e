"""The UI's feed of host log lines hands over everything received, not one message a read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, cast

from palyra_tui.host import wire
from palyra_tui.host.remote import _LogFeed
from palyra_tui.models import LogLine, LogStream
from tests.conftest import eventually

if TYPE_CHECKING:
    from palyra_tui.host.client import HostClient


class Messages:
    """Stands in for the host link: the messages the host sent, all at once."""

    def __init__(self, messages: list[tuple[LogLine, ...]]) -> None:
        self.messages = messages
        self.sent = False

    async def stream(self, method: str, request: object, item_type: type) -> AsyncIterator[object]:
        for lines in self.messages:
            yield wire.Lines(lines)
        self.sent = True


def line(seq: int) -> LogLine:
    return LogLine(seq, float(seq), "flood", LogStream.STDOUT, f"line {seq}")


async def test_a_read_takes_every_line_received_since_the_last_one() -> None:
    """A reader that takes one batch a frame keeps up: with one host message per read it
    fell behind by every other message, which piled up in memory under a flood."""
    messages = [tuple(line(10 * m + i) for i in range(10)) for m in range(30)]
    host = Messages(messages)
    feed = _LogFeed(cast("HostClient", host), wire.LogsRequest(None, True))
    try:
        assert await eventually(lambda: host.sent)
        batches = [batch async for batch in feed]
    finally:
        feed.close()
    assert len(batches) == 1
    assert [entry.seq for entry in batches[0]] == list(range(300))


async def test_messages_already_received_leave_the_loop_a_turn_between_them() -> None:
    """Under a flood many messages wait in the link at once; decoding them all in one
    turn of the event loop held a key pressed meanwhile for tens of milliseconds."""
    host = Messages([tuple(line(10 * m + i) for i in range(10)) for m in range(30)])
    feed = _LogFeed(cast("HostClient", host), wire.LogsRequest(None, True))
    queued: list[int] = []
    asyncio.get_running_loop().call_soon(lambda: queued.append(feed._queue.qsize()))
    try:
        assert await eventually(lambda: host.sent)
    finally:
        feed.close()
    assert queued == [1], "another callback ran after the first message"
