"""The process layer: group spawn, exit decoding, and exit handling that nothing can derail."""

from __future__ import annotations

import asyncio
import sys

from palyra_tui.supervisor.process import ExitStatus, group_members, spawn


async def test_exit_is_reported_even_when_the_output_handler_fails() -> None:
    loop = asyncio.get_running_loop()
    exited: asyncio.Future[ExitStatus] = loop.create_future()
    calls = 0

    def explode(_index: int, _data: bytes) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("handler bug")

    child = spawn(
        loop,
        [sys.executable, "-c", "print('x' * 100); raise SystemExit(7)"],
        {"PATH": "/usr/bin:/bin"},
        None,
        explode,
        exited.set_result,
    )
    child.release()
    status = await asyncio.wait_for(exited, 10)
    assert status == ExitStatus(code=7, signal=None)
    assert calls >= 1
    assert child.exited


async def test_children_get_their_own_process_group() -> None:
    loop = asyncio.get_running_loop()
    exited: asyncio.Future[ExitStatus] = loop.create_future()
    child = spawn(
        loop,
        [sys.executable, "-c", "import time; time.sleep(30)"],
        {"PATH": "/usr/bin:/bin"},
        None,
        lambda _i, _d: None,
        exited.set_result,
    )
    child.release()
    assert child.pgid == child.pid
    assert group_members(child.pgid) == [child.pid]
    assert child.signal_group(9)
    status = await asyncio.wait_for(exited, 10)
    assert status.signal == 9
    assert group_members(child.pgid) == []
