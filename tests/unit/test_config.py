"""Config loading: locations, defaults and strict, located errors."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from palyra_tui.config import config_path, default_state_root, load_config, parse_config
from palyra_tui.errors import ConfigError
from palyra_tui.models import RestartPolicy, ServiceKind
from palyra_tui.models.browser import BrowserEngine


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tui.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_path_prefers_env_then_xdg(tmp_path: Path) -> None:
    assert config_path({"PALYRA_TUI_CONFIG": "/etc/x.toml"}) == Path("/etc/x.toml")
    assert config_path({"XDG_CONFIG_HOME": "/xdg"}) == Path("/xdg/palyra/tui.toml")
    assert config_path({}) == Path.home() / ".config" / "palyra" / "tui.toml"


def test_missing_default_file_means_defaults(tmp_path: Path) -> None:
    config = load_config(None, {"XDG_CONFIG_HOME": str(tmp_path), "XDG_STATE_HOME": "/st"})
    assert config.path is None
    assert config.state_root == Path("/st/palyra")
    assert [s.name for s in config.services] == ["gateway", "browserd", "node_host"]
    gateway = config.services[0]
    assert gateway.kind is ServiceKind.GATEWAY
    assert gateway.stop_signal == signal.SIGINT
    assert gateway.restart is RestartPolicy.ALWAYS
    assert gateway.stop_timeout == 5.0
    assert config.log_lines == 10_000
    assert (config.log_mib, config.log_total_mib) == (64, 256)


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", {})


def test_full_service_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
state_root = "/var/lib/palyra"
log_lines = 500
log_mib = 8
log_total_mib = 32
[runtime]
admin_port = 0
principal = "admin:ops"
[services.worker]
command = ["worker", "--fast"]
enabled = true
env = { MODE = "x" }
cwd = "/srv"
health_url = "http://127.0.0.1:9000/healthz"
restart = "on-failure"
stop_signal = "HUP"
stop_timeout = 2
max_restarts = 3
""",
    )
    config = load_config(path, {})
    worker = config.service("worker")
    assert worker is not None
    assert worker.kind is ServiceKind.CUSTOM
    assert worker.command == ("worker", "--fast")
    assert worker.env == (("MODE", "x"),)
    assert worker.restart is RestartPolicy.ON_FAILURE
    assert worker.stop_signal == signal.SIGHUP
    assert worker.stop_timeout == 2.0
    assert worker.max_restarts == 3
    assert config.runtime.admin_port == 0
    assert config.runtime.principal == "admin:ops"
    assert config.state_root == Path("/var/lib/palyra")
    assert config.log_lines == 500
    assert (config.log_mib, config.log_total_mib) == (8, 32)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bogus = 1", "tui.toml: bogus: unknown key"),
        ("[services.gateway]\nrestrat = 'always'", "services.gateway.restrat: unknown key"),
        ("[services.gateway]\nrestart = 'sometimes'", "services.gateway.restart: must be one of"),
        ("[services.gateway]\nenabled = 'yes'", "services.gateway.enabled: must be a boolean"),
        (
            "[services.gateway]\nstop_timeout = true",
            "stop_timeout: must be a number, got a boolean",
        ),
        ("[services.gateway]\nmax_restarts = 1.5", "max_restarts: must be an integer"),
        ("[services.gateway]\nmax_restarts = -1", "max_restarts: must be 0"),
        ("[services.gateway]\nstop_signal = 'SIGNOPE'", "stop_signal: 'SIGNOPE' is not a signal"),
        ("[services.gateway]\ncommand = []", "services.gateway.command: must be a non-empty list"),
        ("[services.gateway]\ncwd = 'relative'", "services.gateway.cwd: must be an absolute"),
        ("[services.gateway]\nhealth_url = 'ftp://x'", "health_url: must be an http"),
        ("[services.gateway]\nenv = { A = 1 }", "services.gateway.env.A: must be a string"),
        ("[services.gateway]\nenv = { 'A=B' = '1' }", "env.A=B: is not a valid environment"),
        ('[services.gateway]\nenv = { A = "x\\u0000y" }', "must not contain a NUL"),
        ('[services.gateway]\ncommand = ["a\\u0000b"]', "command: must not contain a NUL"),
        ("[services.gateway]\nhealth_url = 'http://h:99999/'", "health_url: is not a valid URL"),
        ("[services.gateway]\ncwd = '~nosuchuser-xyz/x'", "cwd: cannot expand"),
        ("[services.worker]\nenabled = true", "services.worker.command: is required"),
        ("[services.'bad name']\ncommand = ['x']", "services.bad name: service names start"),
        ("[runtime]\nadmin_port = 70000", "runtime.admin_port: must be a port number"),
        ("[runtime]\nprincipal = 'user:x'", "runtime.principal: must look like"),
        ("[runtime]\ndevice_id = 'not-a-ulid'", "runtime.device_id: must be a 26-character"),
        (
            "[runtime]\nbrowser_engine = 'firefox'",
            "runtime.browser_engine: must be one of chromium, simulated, got 'firefox'",
        ),
        (
            "[runtime]\nbrowser_engine = 'Chromium'",
            "runtime.browser_engine: must be one of chromium, simulated, got 'Chromium'",
        ),
        ("[runtime]\nbrowser_engine = true", "runtime.browser_engine: must be a string"),
        (
            "[runtime]\nbrowser_chromium_path = 'chromium'",
            "runtime.browser_chromium_path: must be an absolute path, got 'chromium'",
        ),
        (
            "[runtime]\nbrowser_chromium_path = ''",
            "runtime.browser_chromium_path: must be an absolute path, got ''",
        ),
        (
            '[runtime]\nbrowser_chromium_path = "/x\\u0000y"',
            "runtime.browser_chromium_path: must not contain a NUL",
        ),
        ("[runtime]\nbrowser_chromium_path = 5", "browser_chromium_path: must be a string"),
        ("[runtime]\nbrowser_engin = 'simulated'", "runtime.browser_engin: unknown key"),
        ("state_root = 'relative/path'", "state_root: must be an absolute path"),
        ("log_lines = 5", "log_lines: must be between"),
        ("log_mib = 0", "log_mib: must be between 1 and 4096 (MiB)"),
        ("log_mib = 5000", "log_mib: must be between 1 and 4096 (MiB)"),
        ("log_mib = 1.5", "log_mib: must be an integer, got a number"),
        ("log_total_mib = true", "log_total_mib: must be an integer, got a boolean"),
        ("log_total_mib = 0", "log_total_mib: must be between 1 and 65536 (MiB)"),
        ("services = 3", "services: must be a table, got an integer"),
        ("this is not toml", "invalid TOML"),
    ],
)
def test_errors_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_browser_engine_defaults_to_chromium_with_palyras_own_search(tmp_path: Path) -> None:
    runtime = load_config(write(tmp_path, ""), {}).runtime
    assert runtime.browser_engine is BrowserEngine.CHROMIUM
    assert runtime.browser_chromium_path is None


def test_browser_engine_and_chromium_path_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[runtime]\nbrowser_engine = "simulated"\nbrowser_chromium_path = "~/bin/chromium"\n',
    )
    runtime = load_config(path, {}).runtime
    assert runtime.browser_engine is BrowserEngine.SIMULATED
    assert runtime.browser_chromium_path == str(Path.home() / "bin" / "chromium")


def test_non_utf8_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "tui.toml"
    path.write_bytes(b"\xff\xfe = 1")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path, {})


def test_state_root_from_environment_must_be_absolute() -> None:
    assert default_state_root({"PALYRA_STATE_ROOT": "/srv/palyra"}) == Path("/srv/palyra")
    with pytest.raises(ConfigError, match="must be an absolute path"):
        default_state_root({"PALYRA_STATE_ROOT": "relative"})
    with pytest.raises(ConfigError, match="PALYRA_STATE_ROOT"):
        parse_config({}, None, {"PALYRA_STATE_ROOT": "relative"})


def test_custom_services_default_to_sigterm_and_builtins_to_sigint() -> None:
    config = parse_config({"services": {"w": {"command": ["x"]}}}, None, {})
    assert config.service("w") is not None
    assert config.service("w").stop_signal == signal.SIGTERM  # type: ignore[union-attr]
    assert config.service("browserd").stop_signal == signal.SIGINT  # type: ignore[union-attr]
