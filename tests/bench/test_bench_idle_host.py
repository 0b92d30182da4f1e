"""What an idle runtime host sends its clients, and why.

A real ``palyra-tui host`` runs the reference daemons (gateway and browserd
health-checked, all three sampled by psutil); nothing happens.  Once the
gateway is past its first minute, a :class:`SocketRuntime` client counts the
snapshots it receives over a minute and names, for each, the fields that made
it differ from the one before (``taken_at``-like fields never count).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest

from palyra_tui.state.runtime_api import SnapshotChanged
from tests.bench.conftest import report
from tests.bench.host_harness import client_of, running_host

pytestmark = pytest.mark.bench

WINDOW = 60.0
SETTLE = 65.0
"""Seconds from the host's start before counting: the gateway's uptime is then in minutes."""


def changed_fields(old: object, new: object, path: str, into: list[str]) -> None:
    """The paths of the compared fields that differ between two values."""
    if old == new:
        return
    if is_dataclass(old) and type(old) is type(new):
        for item in fields(old):
            if item.compare:
                inner = f"{path}.{item.name}" if path else item.name
                changed_fields(getattr(old, item.name), getattr(new, item.name), inner, into)
        return
    if isinstance(old, tuple) and isinstance(new, tuple) and len(old) == len(new):
        for before, after in zip(old, new, strict=True):
            name = getattr(before, "name", "")
            changed_fields(before, after, f"{path}[{name}]" if name else path, into)
        return
    into.append(path)


async def test_an_idle_host_sends_almost_nothing(tmp_path: Path) -> None:
    with running_host(tmp_path, {}) as host:
        async with client_of(host) as runtime:
            await asyncio.sleep(max(0.0, SETTLE - (time.monotonic() - host.started)))
            feed = runtime.subscribe()
            last = runtime.view().snapshot
            causes: Counter[str] = Counter()
            received = 0

            async def count() -> None:
                nonlocal last, received
                async for message in feed:
                    if isinstance(message, SnapshotChanged):
                        received += 1
                        changed: list[str] = []
                        changed_fields(last, message.snapshot, "", changed)
                        causes.update(changed or ["nothing"])
                        last = message.snapshot

            counting = asyncio.get_running_loop().create_task(count())
            await asyncio.sleep(WINDOW)
            counting.cancel()
            feed.close()
    report(
        "host_idle_snapshots",
        seconds=WINDOW,
        snapshots=received,
        per_minute=round(received * 60 / WINDOW, 1),
        causes=", ".join(f"{path} {times}" for path, times in causes.most_common()),
    )
