"""The doctor's browser engine check: the Chromium browserd would launch, found the way
browserd finds it, on a PATH the test controls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from palyra_tui.config import Config, parse_config
from palyra_tui.host.preflight_browser import check_browser_engine
from palyra_tui.models.preflight import Check, CheckStatus
from palyra_tui.supervisor.definitions import define_services

USER = 1000
ROOT = 0


def executable(directory: Path, name: str, mode: int = 0o755) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(mode)
    return path


def config_of(tmp_path: Path, runtime: dict[str, Any] | None = None, **browserd: Any) -> Config:
    document: dict[str, Any] = {
        "state_root": str(tmp_path / "state"),
        "runtime": runtime or {},
        "services": {"browserd": browserd} if browserd else {},
    }
    return parse_config(document, None, {})


def check(config: Config, environ: dict[str, str], euid: int = USER) -> Check:
    browserd = {d.name: d for d in define_services(config)}["browserd"]
    return check_browser_engine(browserd, config, environ, euid)


def test_a_chromium_on_path_is_found(tmp_path: Path) -> None:
    found = executable(tmp_path / "bin", "chromium")
    result = check(config_of(tmp_path), {"PATH": str(tmp_path / "bin")})
    assert result.status is CheckStatus.OK
    assert result.detail == (
        f"chromium: {found} (found on PATH); browserd launches it for each browser session"
    )
    assert result.hint == ""


def test_the_names_are_tried_in_headless_chromes_order(tmp_path: Path) -> None:
    executable(tmp_path / "a", "chrome")
    stable = executable(tmp_path / "b", "google-chrome-stable")
    environ = {"PATH": f"{tmp_path / 'a'}:{tmp_path / 'b'}"}
    assert str(stable) in check(config_of(tmp_path), environ).detail


def test_no_chromium_is_a_warning_with_the_ways_out(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    executable(tmp_path / "empty", "chromium", mode=0o644)
    result = check(config_of(tmp_path), {"PATH": str(tmp_path / "empty")})
    assert result.status is CheckStatus.WARNING
    assert result.detail.startswith("chromium: no Chromium or Chrome found: ")
    assert result.detail.endswith(
        "browserd starts and answers its health check, but every browser session fails"
    )
    assert "apt-get install chromium" in result.hint
    assert "browser_chromium_path under [runtime]" in result.hint
    assert 'browser_engine = "simulated"' in result.hint


def test_as_root_a_found_chromium_is_a_warning_about_the_sandbox(tmp_path: Path) -> None:
    executable(tmp_path / "bin", "chromium")
    result = check(config_of(tmp_path), {"PATH": str(tmp_path / "bin")}, euid=ROOT)
    assert result.status is CheckStatus.WARNING
    assert "palyra-tui runs as root" in result.detail
    assert "sandbox on, which Chromium refuses as root" in result.detail
    assert result.hint.startswith("run palyra-tui and its daemons as a user other than root")
    assert 'browser_engine = "simulated"' in result.hint


def test_as_root_a_missing_chromium_says_both(tmp_path: Path) -> None:
    result = check(config_of(tmp_path), {"PATH": str(tmp_path / "nowhere")}, euid=ROOT)
    assert result.status is CheckStatus.WARNING
    assert "no Chromium or Chrome found" in result.detail
    assert result.detail.endswith("as root, Chromium's sandbox would refuse to start")


def test_the_configured_path_is_checked_and_path_is_not_searched(tmp_path: Path) -> None:
    on_path = tmp_path / "bin"
    executable(on_path, "chromium")
    environ = {"PATH": str(on_path)}
    given = executable(tmp_path / "opt", "chrome")
    ok = check(config_of(tmp_path, {"browser_chromium_path": str(given)}), environ)
    assert ok.status is CheckStatus.OK
    assert ok.detail.startswith(f"chromium: {given} (runtime.browser_chromium_path);")

    missing = tmp_path / "opt" / "gone"
    result = check(config_of(tmp_path, {"browser_chromium_path": str(missing)}), environ)
    assert result.status is CheckStatus.WARNING
    assert result.detail.startswith(
        f"chromium: '{missing}' (runtime.browser_chromium_path) does not exist; "
    )

    plain = executable(tmp_path / "opt", "plain", mode=0o644)
    result = check(config_of(tmp_path, {"browser_chromium_path": str(plain)}), environ)
    assert result.status is CheckStatus.WARNING
    assert f"{plain} (runtime.browser_chromium_path) is not executable" in result.detail

    result = check(config_of(tmp_path, {"browser_chromium_path": str(tmp_path)}), environ)
    assert f"{tmp_path} (runtime.browser_chromium_path) is not a file" in result.detail


def test_simulated_needs_no_browser(tmp_path: Path) -> None:
    result = check(config_of(tmp_path, {"browser_engine": "simulated"}), {"PATH": ""}, euid=ROOT)
    assert result.status is CheckStatus.OK
    assert result.detail.startswith("simulated: browserd launches no browser")


def test_a_browserd_that_does_not_run_needs_no_browser(tmp_path: Path) -> None:
    result = check(config_of(tmp_path, {"browser_service": False}), {"PATH": ""}, euid=ROOT)
    assert result.status is CheckStatus.OK
    assert result.detail == (
        "browserd does not run: browser service is off (runtime.browser_service = false); "
        "it needs no browser"
    )


def test_chrome_from_the_environment_is_found_first(tmp_path: Path) -> None:
    executable(tmp_path / "bin", "chromium")
    chrome = executable(tmp_path / "elsewhere", "my-chrome")
    result = check(config_of(tmp_path), {"PATH": str(tmp_path / "bin"), "CHROME": str(chrome)})
    assert result.detail.startswith(f"chromium: {chrome} (CHROME);")


@pytest.mark.parametrize("inherited", [True, False])
def test_what_the_service_is_given_wins(tmp_path: Path, inherited: bool) -> None:
    """The service's own env and command are what browserd sees, over the [runtime] keys."""
    given = executable(tmp_path / "opt", "chrome")
    environ = {"PATH": str(tmp_path / "nowhere")}
    if inherited:
        environ["PALYRA_BROWSERD_CHROMIUM_PATH"] = str(given)
        result = check(config_of(tmp_path), environ)
        assert result.detail.startswith(
            f"chromium: {given} (PALYRA_BROWSERD_CHROMIUM_PATH in palyra-tui's environment);"
        )
    else:
        config = config_of(
            tmp_path,
            {"browser_chromium_path": str(tmp_path / "gone")},
            command=["palyra-browserd", f"--chromium-path={given}"],
        )
        assert check(config, environ).detail.startswith(
            f"chromium: {given} (--chromium-path in services.browserd.command);"
        )
    simulated = config_of(tmp_path, env={"PALYRA_BROWSERD_ENGINE_MODE": " Simulated "})
    assert check(simulated, environ).detail.startswith("simulated:")
