"""What the built-in services run with: arguments, environment, health URLs."""

from __future__ import annotations

import signal
from pathlib import Path

from palyra_tui.config import parse_config
from palyra_tui.supervisor.definitions import (
    RuntimeSecrets,
    define_services,
    plan_launch,
    register_secrets,
)
from palyra_tui.text import MARK, Redactor


def fake_binaries(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("palyrad", "palyra-browserd", "palyra"):
        path = bin_dir / name
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    return {"PATH": str(bin_dir), "HOME": str(tmp_path)}


def test_browserd_token_goes_through_the_environment_only(tmp_path: Path) -> None:
    environ = fake_binaries(tmp_path)
    config = parse_config({"state_root": str(tmp_path / "s")}, None, environ)
    tokens = RuntimeSecrets.generate()
    definitions = {d.name: d for d in define_services(config)}
    plan = plan_launch(definitions["browserd"], config, tokens, environ)
    assert plan.argv[1:] == (
        "--bind",
        "127.0.0.1",
        "--port",
        "7143",
        "--grpc-bind",
        "127.0.0.1",
        "--grpc-port",
        "7543",
    )
    assert plan.env["PALYRA_BROWSERD_AUTH_TOKEN"] == tokens.browser_token
    assert not any(tokens.browser_token in arg for arg in plan.argv)
    assert plan.cwd == config.runtime_root
    assert definitions["browserd"].health_url({}) == "http://127.0.0.1:7143/healthz"
    assert definitions["browserd"].config.stop_signal == signal.SIGINT


def test_browserd_is_told_its_engine_mode_and_chromium_in_its_environment(
    tmp_path: Path,
) -> None:
    environ = fake_binaries(tmp_path)
    tokens = RuntimeSecrets.generate()
    default = parse_config({"state_root": str(tmp_path / "s")}, None, environ)
    browserd = {d.name: d for d in define_services(default)}["browserd"]
    plan = plan_launch(browserd, default, tokens, environ)
    assert plan.env["PALYRA_BROWSERD_ENGINE_MODE"] == "chromium"
    assert "PALYRA_BROWSERD_CHROMIUM_PATH" not in plan.env

    chosen = parse_config(
        {
            "state_root": str(tmp_path / "s"),
            "runtime": {
                "browser_engine": "simulated",
                "browser_chromium_path": "/opt/chromium/chrome",
            },
        },
        None,
        environ,
    )
    browserd = {d.name: d for d in define_services(chosen)}["browserd"]
    plan = plan_launch(browserd, chosen, tokens, environ)
    assert plan.env["PALYRA_BROWSERD_ENGINE_MODE"] == "simulated"
    assert plan.env["PALYRA_BROWSERD_CHROMIUM_PATH"] == "/opt/chromium/chrome"
    assert not any("chrom" in arg or "engine" in arg for arg in plan.argv)
    gateway = {d.name: d for d in define_services(chosen)}["gateway"]
    gateway_env = plan_launch(gateway, chosen, tokens, environ).env
    assert "PALYRA_BROWSERD_ENGINE_MODE" not in gateway_env


def test_gateway_defaults(tmp_path: Path) -> None:
    environ = fake_binaries(tmp_path)
    config = parse_config({"state_root": str(tmp_path / "s")}, None, environ)
    tokens = RuntimeSecrets.generate()
    gateway = define_services(config)[0]
    plan = plan_launch(gateway, config, tokens, environ)
    assert plan.binary == Path(environ["PATH"]) / "palyrad"
    assert plan.argv[1:] == (
        "--bind",
        "127.0.0.1",
        "--port",
        "7142",
        "--grpc-bind",
        "127.0.0.1",
        "--grpc-port",
        "7443",
    )
    assert plan.env["PALYRA_ADMIN_BOUND_PRINCIPAL"] == "admin:local"
    assert plan.env["PALYRA_GATEWAY_QUIC_PORT"] == "7444"
    assert plan.env["PALYRA_BROWSER_SERVICE_ENDPOINT"] == "http://127.0.0.1:7543"
    assert gateway.health_url({}) == "http://127.0.0.1:7142/healthz"
    assert tokens.admin_token not in repr(tokens) and tokens.browser_token not in repr(tokens)


def test_gateway_on_port_zero_probes_the_address_it_logged(tmp_path: Path) -> None:
    config = parse_config({"state_root": str(tmp_path), "runtime": {"admin_port": 0}}, None, {})
    gateway = define_services(config)[0]
    assert gateway.health_url({}) is None
    assert gateway.health_url({"listen_addr": "127.0.0.1:40123"}) == (
        "http://127.0.0.1:40123/healthz"
    )


def test_node_host_runs_the_palyra_cli_once_enrolled(tmp_path: Path) -> None:
    environ = fake_binaries(tmp_path)
    state = tmp_path / "s"
    config = parse_config({"state_root": str(state)}, None, environ)
    node = {d.name: d for d in define_services(config)}["node_host"]
    assert not node.enabled and "not enrolled" in node.disabled_reason
    enrolled = config.runtime_root / "node-host" / "node-host.json"
    enrolled.parent.mkdir(parents=True)
    enrolled.write_text("{}")
    node = {d.name: d for d in define_services(config)}["node_host"]
    assert node.enabled
    plan = plan_launch(node, config, RuntimeSecrets.generate(), environ)
    assert plan.argv[1:] == ("node", "run", "--json")
    assert Path(plan.argv[0]).name == "palyra"
    assert plan.env["PALYRA_GATEWAY_IDENTITY_STORE_DIR"] == str(config.runtime_root / "identity")
    assert node.health_url({}) is None


def test_secrets_in_service_env_are_registered_with_the_redactor(tmp_path: Path) -> None:
    config = parse_config(
        {
            "services": {
                "w": {"command": ["x"], "env": {"API_KEY": "key-0123456789", "MODE": "fast"}}
            }
        },
        None,
        {"HOME": str(tmp_path)},
    )
    redactor = Redactor()
    tokens = RuntimeSecrets.generate()
    register_secrets(config, tokens, redactor)
    assert "key-0123456789" in redactor.secrets
    assert tokens.admin_token in redactor.secrets
    assert "fast" not in redactor.secrets


def test_secret_named_variables_of_our_own_environment_are_registered() -> None:
    config = parse_config({}, None, {"HOME": "/nonexistent"})
    environ = {
        "GITHUB_TOKEN": "ghx-own-token-value",
        "OPENAI_API_KEY": "own-api-key-value",
        "DB_PASSWORD": "own-password-value",
        "client_secret": "own-client-secret",
        "PATH": "/usr/local/bin:/usr/bin",
        "PROMPT_TOKENS": "1234567",
        "TOKEN_COUNT": "7654321",
    }
    redactor = Redactor()
    register_secrets(config, RuntimeSecrets.generate(), redactor, environ)
    for value in ("ghx-own-token-value", "own-api-key-value", "own-password-value"):
        assert redactor.redact(f"x {value} y") == f"x {MARK} y"
    assert "own-client-secret" in redactor.secrets
    for value in ("/usr/local/bin:/usr/bin", "1234567", "7654321"):
        assert value not in redactor.secrets
