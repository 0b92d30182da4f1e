"""Every directory palyra-tui creates is private (0700), parents included."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from palyra_tui.cli.demo import demo_config, demo_environ
from palyra_tui.config.dirs import private_dir
from palyra_tui.supervisor import Supervisor


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_missing_parents_are_created_private_and_existing_ones_left_alone(
    tmp_path: Path, open_umask: None
) -> None:
    tmp_path.chmod(0o755)
    deep = private_dir(tmp_path / "a" / "b" / "c")
    assert [mode(p) for p in (deep, deep.parent, deep.parent.parent)] == [0o700] * 3
    assert mode(tmp_path) == 0o755
    assert private_dir(deep) == deep


def test_a_fresh_state_root_is_private_throughout(tmp_path: Path, open_umask: None) -> None:
    root = tmp_path / "state"
    supervisor = Supervisor(demo_config(root), environ=demo_environ()).open()
    try:
        created = [root, root / "tui"]
        assert {str(p.relative_to(tmp_path)): mode(p) for p in created} == {
            str(p.relative_to(tmp_path)): 0o700 for p in created
        }
    finally:
        supervisor.close()
