"""A state root the runtime cannot use is the control center's startup error, not a crash."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from textual.widgets import Static

from palyra_tui.cli.demo import demo_config, demo_environ
from palyra_tui.errors import SupervisorError
from palyra_tui.models.clock import ManualClock
from palyra_tui.ui.app import PalyraApp
from palyra_tui.ui.launch import build_app
from palyra_tui.ui.screens.main import PANE_NAMES
from tests.filesystems import full_disk, unwritable
from tests.ui.conftest import until

SIZE = (100, 32)


def all_panes_mounted(app: PalyraApp) -> bool:
    panes = [app.main.mounted_pane(name) for name in PANE_NAMES]
    return all(pane is not None and pane.is_mounted for pane in panes)


@contextmanager
def a_file(path: Path) -> Iterator[Path]:
    path.write_text("not a directory\n")
    yield path


@pytest.mark.parametrize(
    ("place", "reason"),
    [
        (lambda path: a_file(path), "it is not a directory"),
        (lambda path: unwritable(path), ""),
        (lambda path: full_disk(path), "no space is left on its device"),
    ],
    ids=["a-file", "unwritable", "full-disk"],
)
async def test_an_unusable_state_root_is_drawn_as_the_startup_error(
    tmp_path: Path, place: Callable[[Path], AbstractContextManager[Path]], reason: str
) -> None:
    with place(tmp_path / "place") as where:
        root = where if reason == "it is not a directory" else where / "state"
        app, supervisor = build_app(
            demo_config(root), environ=demo_environ(), clock=ManualClock(), start_services=True
        )
        try:
            expected = f"the runtime could not be opened: cannot use the state root {root}: "
            assert app.startup_error.startswith(expected + reason)
            assert supervisor.config.state_root != root
            async with app.run_test(size=SIZE) as pilot:
                facts = app.screen.query_one("#facts", Static)
                await until(pilot, lambda: expected in " ".join(str(facts.render()).split()))
                assert all(not s.state.is_up for s in supervisor.snapshot().services)
                await until(pilot, lambda: all_panes_mounted(app))
                await pilot.press("ctrl+q")
                await until(pilot, lambda: not app.is_running)
        finally:
            await supervisor.aclose()
            shutil.rmtree(supervisor.config.state_root, ignore_errors=True)


def test_when_not_even_the_error_screen_can_open_both_reasons_are_one_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "state"
    root.write_text("")
    with full_disk(tmp_path / "tmp") as temporary:
        monkeypatch.setattr(tempfile, "tempdir", str(temporary))
        with pytest.raises(SupervisorError) as raised:
            build_app(demo_config(root), environ=demo_environ())
        assert list(temporary.glob("palyra-tui-error-*")) == []
    assert str(raised.value).startswith(
        f"the runtime could not be opened: cannot use the state root {root}: "
        "it is not a directory; the control center cannot open: cannot use the state root "
        f"{temporary}/palyra-tui-error-"
    )
    assert str(raised.value).endswith(": no space is left on its device")
