"""Binary resolution for the built-ins: override, config, install dir, PATH."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from palyra_tui.errors import BinaryNotFound
from palyra_tui.models import ServiceKind
from palyra_tui.supervisor.binaries import resolve_builtin, resolve_command


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_absolute_override_wins_and_is_canonical(tmp_path: Path) -> None:
    binary = executable(tmp_path / "real" / "palyrad")
    link = tmp_path / "link"
    link.symlink_to(binary)
    env = {"PALYRA_DESKTOP_PALYRAD_BIN": str(link), "PATH": ""}
    assert resolve_builtin(ServiceKind.GATEWAY, "/nonexistent", env, ()) == binary.resolve()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("relative/palyrad", "must be an absolute path"),
        ("/does/not/exist", "that file does not exist"),
    ],
)
def test_bad_overrides_are_explained(value: str, message: str) -> None:
    with pytest.raises(BinaryNotFound, match=message):
        resolve_builtin(ServiceKind.GATEWAY, None, {"PALYRA_DESKTOP_PALYRAD_BIN": value}, ())


def test_override_that_is_a_directory(tmp_path: Path) -> None:
    env = {"PALYRA_DESKTOP_BROWSERD_BIN": str(tmp_path)}
    with pytest.raises(BinaryNotFound, match="not a file"):
        resolve_builtin(ServiceKind.BROWSERD, None, env, ())


def test_blank_override_falls_through_to_path(tmp_path: Path) -> None:
    binary = executable(tmp_path / "bin" / "palyrad")
    env = {"PALYRA_DESKTOP_PALYRAD_BIN": "   ", "PATH": str(tmp_path / "bin")}
    assert resolve_builtin(ServiceKind.GATEWAY, None, env, ()) == binary


def test_configured_command_comes_before_install_dir(tmp_path: Path) -> None:
    configured = executable(tmp_path / "cfg" / "my-palyrad")
    executable(tmp_path / "install" / "palyrad")
    found = resolve_builtin(
        ServiceKind.GATEWAY, str(configured), {"PATH": ""}, (tmp_path / "install",)
    )
    assert found == configured


def test_install_dir_comes_before_path(tmp_path: Path) -> None:
    installed = executable(tmp_path / "install" / "palyra-browserd")
    executable(tmp_path / "bin" / "palyra-browserd")
    env = {"PATH": str(tmp_path / "bin")}
    assert resolve_builtin(ServiceKind.BROWSERD, None, env, (tmp_path / "install",)) == installed


def test_node_host_resolves_the_palyra_cli(tmp_path: Path) -> None:
    binary = executable(tmp_path / "bin" / "palyra")
    env = {"PATH": str(tmp_path / "bin")}
    assert resolve_builtin(ServiceKind.NODE_HOST, None, env, ()) == binary


def test_not_found_says_how_to_fix_it() -> None:
    with pytest.raises(BinaryNotFound) as caught:
        resolve_builtin(ServiceKind.GATEWAY, None, {"PATH": ""}, ())
    assert str(caught.value) == (
        "cannot find 'palyrad': install Palyra or set PALYRA_DESKTOP_PALYRAD_BIN,"
        " or try `palyra-tui demo`"
    )


def test_resolve_command_checks_the_file(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("data")
    with pytest.raises(BinaryNotFound, match="not executable"):
        resolve_command(str(plain), {})
    with pytest.raises(BinaryNotFound, match="does not exist"):
        resolve_command(str(tmp_path / "missing"), {})
    with pytest.raises(BinaryNotFound, match="on PATH"):
        resolve_command("surely-not-a-command-xyz", {"PATH": os.defpath})
    with pytest.raises(BinaryNotFound, match="absolute path"):
        resolve_command("./relative", {})
