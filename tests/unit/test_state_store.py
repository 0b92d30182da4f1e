"""The state file's writer: a burst of changes is one write, off the loop, flushed on close."""

from __future__ import annotations

import errno
import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from palyra_tui.models.clock import ManualClock
from palyra_tui.state import state_store
from palyra_tui.state.persisted import PersistedState, Preferences
from palyra_tui.state.state_file import load_state, state_path, write_state
from palyra_tui.state.state_store import WRITE_WINDOW, StateStore
from tests.conftest import eventually
from tests.filesystems import tmpfs

NOW = 1_795_200_000.0


def themed(state: PersistedState, theme: str) -> PersistedState:
    return replace(state, preferences=Preferences(theme=theme))


def on_disk(path: Path) -> str:
    return load_state(path, NOW).state.preferences.theme


async def test_a_burst_of_changes_is_one_write_after_the_window(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    path = state_path(tmp_path)
    store = StateStore(path, clock=clock)
    loaded = await store.open()
    try:
        for index in range(50):
            store.save(themed(loaded.state, f"theme-{index}"))
        clock.advance(WRITE_WINDOW / 2)
        store.save(themed(loaded.state, "last"))
        assert await eventually(lambda: store.waiting), "the writer never held the burst back"
        assert store.writes == 0 and not path.exists()
        clock.advance(WRITE_WINDOW)
        assert await eventually(lambda: store.writes == 1)
        assert on_disk(path) == "last"
        store.save(themed(loaded.state, "last"))
        assert not store.pending
    finally:
        await store.close()
    assert store.writes == 1


async def test_flush_writes_at_once_and_close_writes_what_is_left(tmp_path: Path) -> None:
    clock = ManualClock(NOW)
    path = state_path(tmp_path)
    store = StateStore(path, clock=clock)
    loaded = await store.open()
    store.save(themed(loaded.state, "flushed"))
    await store.flush()
    assert on_disk(path) == "flushed" and store.writes == 1
    store.save(themed(loaded.state, "closed"))
    await store.close()
    await store.close()
    assert on_disk(path) == "closed" and store.writes == 2
    store.save(themed(loaded.state, "after close"))
    assert on_disk(path) == "closed"


async def test_file_io_runs_in_a_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[threading.Thread] = []

    def recording(path: Path, state: PersistedState) -> None:
        threads.append(threading.current_thread())
        write_state(path, state)

    monkeypatch.setattr(state_store, "write_state", recording)
    store = StateStore(state_path(tmp_path), clock=ManualClock(NOW))
    loaded = await store.open()
    store.save(themed(loaded.state, "threaded"))
    await store.close()
    assert threads and all(t is not threading.main_thread() for t in threads)


async def test_a_file_that_holds_the_state_exactly_is_not_rewritten(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    first = StateStore(path, clock=ManualClock(NOW))
    loaded = await first.open()
    first.save(loaded.state)
    await first.close()
    assert first.writes == 1
    second = StateStore(path, clock=ManualClock(NOW))
    again = await second.open()
    assert not again.rewrite
    second.save(again.state)
    await second.close()
    assert second.writes == 0


async def test_a_full_disk_keeps_the_state_in_memory_and_says_so_once(tmp_path: Path) -> None:
    notices: list[str] = []
    with tmpfs(tmp_path / "disk", "size=64k,mode=0700") as disk:
        path = state_path(disk)
        store = StateStore(path, clock=ManualClock(NOW), on_notice=notices.append)
        loaded = await store.open()
        store.save(themed(loaded.state, "before"))
        await store.flush()
        before = path.read_bytes()
        filler = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            with pytest.raises(OSError) as full:
                while True:
                    os.write(filler, b"\0" * 4096)
            assert full.value.errno == errno.ENOSPC
            for index in range(3):
                store.save(themed(loaded.state, f"full-{index}"))
                await store.flush()
            assert store.latest is not None and store.latest.preferences.theme.endswith("2")
            assert path.read_bytes() == before
            assert sorted(os.listdir(disk)) == ["filler", "state.json"]
        finally:
            os.close(filler)
        assert len(notices) == 1
        assert notices[0] == (
            f"The state file {path} cannot be written (no space is left on its device): "
            "palyra-tui keeps its state in memory and tries again at the next change."
        )
        os.unlink(disk / "filler")
        await store.close()
        assert on_disk(path) == "full-2"
        assert notices[-1] == "" and store.notice == ""


async def test_a_bug_in_a_write_keeps_the_writer_and_the_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_path: Path, _state: PersistedState) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(state_store, "write_state", broken)
    notices: list[str] = []
    path = state_path(tmp_path)
    store = StateStore(path, clock=ManualClock(NOW), on_notice=notices.append)
    loaded = await store.open()
    store.save(themed(loaded.state, "kept in memory"))
    await store.flush()
    assert notices == [
        f"The state file {path} cannot be written (ValueError): palyra-tui keeps its state in "
        "memory and tries again at the next change."
    ]
    monkeypatch.setattr(state_store, "write_state", write_state)
    await store.close()
    assert on_disk(path) == "kept in memory"
