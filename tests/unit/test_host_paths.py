"""Where the host socket lives, and the directory checks that keep it private."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from palyra_tui.errors import HostPathTooLong, HostUnsafeDirectory
from palyra_tui.host.paths import (
    SUN_PATH_MAX,
    HostPaths,
    candidates,
    host_paths,
    prepare_directory,
    runtime_dir,
    state_key,
)

NOBODY = 65534


@pytest.fixture
def runtime(tmp_path: Path) -> Path:
    directory = tmp_path / "run"
    directory.mkdir(mode=0o700)
    return directory


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o002)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_the_socket_goes_to_the_state_root(tmp_path: Path, runtime: Path) -> None:
    root = tmp_path / "state"
    paths = host_paths(root, {"XDG_RUNTIME_DIR": str(runtime)})
    assert paths == HostPaths.inside(root / "tui" / "host")


def test_a_state_root_too_long_for_a_socket_uses_the_runtime_dir_under_a_hash_of_it(
    tmp_path: Path, runtime: Path
) -> None:
    root = tmp_path / ("s" * (SUN_PATH_MAX - len(str(tmp_path))))
    paths = host_paths(root, {"XDG_RUNTIME_DIR": str(runtime)})
    key = state_key(root)
    assert paths.socket == runtime / "palyra-tui" / key / "host.sock"
    assert paths.lock == runtime / "palyra-tui" / key / "host.lock"
    assert len(key) == 16
    link = tmp_path / "link"
    link.mkdir()
    (link / "root").symlink_to(root)
    assert state_key(link / "root") == key  # the resolved path counts, not the spelling
    assert state_key(tmp_path / "other") != key


@pytest.mark.parametrize("problem", ["unset", "relative", "missing", "open", "file"])
def test_an_unusable_runtime_dir_is_never_used(tmp_path: Path, runtime: Path, problem: str) -> None:
    environ = {
        "unset": {},
        "relative": {"XDG_RUNTIME_DIR": "run"},
        "missing": {"XDG_RUNTIME_DIR": str(tmp_path / "gone")},
        "open": {"XDG_RUNTIME_DIR": str(runtime)},
        "file": {"XDG_RUNTIME_DIR": str(tmp_path / "file")},
    }[problem]
    (tmp_path / "file").write_text("")
    if problem == "open":
        runtime.chmod(0o755)
    assert runtime_dir(environ) is None


def test_a_runtime_dir_too_long_for_a_socket_is_no_candidate(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 90)
    deep.mkdir(mode=0o700)
    root = tmp_path / "state"
    found = candidates(root, {"XDG_RUNTIME_DIR": str(deep)})
    assert [place.socket for place in found] == [root / "tui" / "host" / "host.sock"]


def test_no_path_that_fits_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / ("s" * (SUN_PATH_MAX - len(str(tmp_path))))
    with pytest.raises(HostPathTooLong, match=r"more than the 107 a Unix socket allows: set XDG"):
        host_paths(root, {})


def test_the_directory_and_missing_parents_are_created_private(
    tmp_path: Path, runtime: Path, open_umask: None
) -> None:
    paths = host_paths(tmp_path / "state", {"XDG_RUNTIME_DIR": str(runtime)})
    prepare_directory(paths)
    assert mode(paths.directory) == 0o700
    assert mode(paths.directory.parent) == 0o700
    assert mode(runtime) == 0o700
    fallback = HostPaths.inside(tmp_path / "state" / "tui" / "host")
    prepare_directory(fallback)
    assert [mode(p) for p in (fallback.directory, tmp_path / "state" / "tui")] == [0o700, 0o700]


@pytest.mark.parametrize("loose", [0o750, 0o701, 0o755, 0o777])
def test_a_directory_open_to_others_is_refused(tmp_path: Path, loose: int) -> None:
    paths = HostPaths.inside(tmp_path / "host")
    paths.directory.mkdir()
    paths.directory.chmod(loose)
    with pytest.raises(HostUnsafeDirectory, match=rf"has mode {loose:04o}, open to other users"):
        prepare_directory(paths)
    assert mode(paths.directory) == loose  # refused, not repaired


def test_a_directory_of_another_user_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a directory to another user needs root")
    paths = HostPaths.inside(tmp_path / "host")
    paths.directory.mkdir(mode=0o700)
    os.chown(paths.directory, NOBODY, NOBODY)
    with pytest.raises(HostUnsafeDirectory, match=rf"belongs to uid {NOBODY}, not to you"):
        prepare_directory(paths)


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    paths = HostPaths.inside(tmp_path / "host")
    paths.directory.symlink_to(target)
    with pytest.raises(HostUnsafeDirectory, match="is a symbolic link"):
        prepare_directory(paths)


def test_a_parent_others_can_write_is_refused(tmp_path: Path) -> None:
    parent = tmp_path / "shared"
    parent.mkdir()
    parent.chmod(0o777)
    paths = HostPaths.inside(parent / "host")
    with pytest.raises(HostUnsafeDirectory, match="which other users can change"):
        prepare_directory(paths)
    parent.chmod(0o1777)  # sticky, as /tmp: others cannot rename what is ours
    prepare_directory(paths)
