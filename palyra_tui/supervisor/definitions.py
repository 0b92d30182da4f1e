"""What each service runs: command line, environment, working directory, health URL.

Built-ins get the command lines and environment the desktop companion gives
each daemon, with two deliberate changes: the browser token reaches browserd
through ``PALYRA_BROWSERD_AUTH_TOKEN`` instead of argv, where ``ps`` would show
it, and the daemons run with the runtime root as their working directory, so
palyrad's relative journal path lands there.

The binary is resolved at every start, so installing a missing binary is
picked up by the next retry without restarting palyra-tui.

browserd is told its engine mode (``PALYRA_BROWSERD_ENGINE_MODE``) and, when
the config names one, the Chromium to launch (``PALYRA_BROWSERD_CHROMIUM_PATH``),
in its environment like everything else palyra-tui chooses for it.

Only palyrad gets the admin token, and only palyrad and browserd get the browser
token; the node host and services of the operator's own get neither.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from palyra_tui.config import Config, ServiceConfig
from palyra_tui.config.dirs import private_dir
from palyra_tui.models import ServiceKind
from palyra_tui.models.browser import CHROMIUM_PATH_ENV, ENGINE_MODE_ENV
from palyra_tui.secrets import RuntimeSecrets
from palyra_tui.supervisor.binaries import resolve_builtin, resolve_command
from palyra_tui.text import Redactor
from palyra_tui.text.redact import is_sensitive_key

LOOPBACK = "127.0.0.1"

__all__ = [
    "LOOPBACK",
    "LaunchPlan",
    "RuntimeSecrets",
    "ServiceDefinition",
    "browserd_engine_env",
    "define_services",
    "plan_launch",
    "register_secrets",
]

_DEFAULT_OFF_REASONS = {
    ServiceKind.BROWSERD: "browser service is off (runtime.browser_service = false)",
    ServiceKind.NODE_HOST: "node host is not enrolled (no node-host/node-host.json)",
}


@dataclass(frozen=True, slots=True)
class LaunchPlan:
    """A fully resolved command for one start of a service."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(repr=False)
    cwd: Path | None
    binary: Path


@dataclass(frozen=True, slots=True)
class ServiceDefinition:
    """A configured service plus what palyra-tui adds to run it."""

    config: ServiceConfig
    enabled: bool
    default_health_url: str | None
    health_endpoint_key: str | None
    disabled_reason: str = ""

    @property
    def name(self) -> str:
        """The service name."""
        return self.config.name

    @property
    def kind(self) -> ServiceKind:
        """Built-in kind, or CUSTOM."""
        return self.config.kind

    def health_url(self, endpoints: Mapping[str, str]) -> str | None:
        """The URL to probe, using a bound address the service logged when needed."""
        if self.config.health_url is not None:
            return self.config.health_url
        if self.default_health_url is not None:
            return self.default_health_url
        if self.health_endpoint_key is not None:
            address = endpoints.get(self.health_endpoint_key)
            if address:
                return f"http://{address}/healthz"
        return None


def define_services(config: Config) -> tuple[ServiceDefinition, ...]:
    """Build the definitions of every configured service, built-ins first."""
    runtime = config.runtime
    node_enrolled = (config.runtime_root / "node-host" / "node-host.json").is_file()
    definitions: list[ServiceDefinition] = []
    for service in config.services:
        kind = service.kind
        if kind is ServiceKind.GATEWAY:
            default_enabled = True
            port = runtime.admin_port
        elif kind is ServiceKind.BROWSERD:
            default_enabled = runtime.browser_service
            port = runtime.browserd_port
        elif kind is ServiceKind.NODE_HOST:
            default_enabled = node_enrolled
            port = None
        else:
            default_enabled = True
            port = None
        fixed_url = f"http://{LOOPBACK}:{port}/healthz" if port else None
        if service.enabled is not None:
            enabled = service.enabled
            why = "disabled in the configuration"
        else:
            enabled = default_enabled
            why = _DEFAULT_OFF_REASONS.get(kind, "")
        definitions.append(
            ServiceDefinition(
                config=service,
                enabled=enabled,
                default_health_url=fixed_url,
                health_endpoint_key="listen_addr" if port == 0 else None,
                disabled_reason="" if enabled else why,
            )
        )
    return tuple(definitions)


def register_secrets(
    config: Config,
    tokens: RuntimeSecrets,
    redactor: Redactor,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Teach the redactor every secret palyra-tui passes to a service.

    Services inherit palyra-tui's own environment, so its secret-named
    variables (the same rule as for ``key=value`` in log lines) count too.
    """
    redactor.add_secret(tokens.admin_token)
    redactor.add_secret(tokens.browser_token)
    for key, value in (environ or {}).items():
        if is_sensitive_key(key):
            redactor.add_secret(value)
    for service in config.services:
        for key, value in service.env:
            if is_sensitive_key(key):
                redactor.add_secret(value)


def plan_launch(
    definition: ServiceDefinition,
    config: Config,
    tokens: RuntimeSecrets,
    environ: Mapping[str, str],
) -> LaunchPlan:
    """Resolve the command for one start; raises ``BinaryNotFound``."""
    service = definition.config
    env = dict(environ)
    kind = service.kind
    if kind is ServiceKind.CUSTOM:
        assert service.command is not None
        binary = resolve_command(service.command[0], environ)
        argv = (str(binary), *service.command[1:])
        cwd = Path(service.cwd) if service.cwd else None
    else:
        configured = service.command[0] if service.command else None
        binary = resolve_builtin(kind, configured, environ)
        args = service.command[1:] if service.command else _default_args(kind, config)
        argv = (str(binary), *args)
        env.update(_builtin_env(kind, config, tokens, environ))
        cwd = Path(service.cwd) if service.cwd else config.runtime_root
        private_dir(cwd)
    env.update(dict(config.profile_env))
    env.update(dict(service.env))
    return LaunchPlan(argv=argv, env=env, cwd=cwd, binary=binary)


def with_node_rpc(argv: tuple[str, ...], address: str) -> tuple[str, ...]:
    """The node host's command, pointed at the node RPC ``address`` the gateway announced:
    with port 0 it moves on every gateway start, and the node host's own configuration
    keeps the address it was installed with.  A command that names ``--grpc-url`` keeps it."""
    if not address or any(arg == "--grpc-url" or arg.startswith("--grpc-url=") for arg in argv):
        return argv
    host, _, port = address.rpartition(":")
    if host in ("0.0.0.0", "[::]", ""):
        host = LOOPBACK
    return (*argv, "--grpc-url", f"https://{host}:{port}")


def _default_args(kind: ServiceKind, config: Config) -> tuple[str, ...]:
    runtime = config.runtime
    if kind is ServiceKind.GATEWAY:
        return (
            "--bind",
            LOOPBACK,
            "--port",
            str(runtime.admin_port),
            "--grpc-bind",
            LOOPBACK,
            "--grpc-port",
            str(runtime.grpc_port),
        )
    if kind is ServiceKind.BROWSERD:
        return (
            "--bind",
            LOOPBACK,
            "--port",
            str(runtime.browserd_port),
            "--grpc-bind",
            LOOPBACK,
            "--grpc-port",
            str(runtime.browserd_grpc_port),
        )
    return ("node", "run", "--json")


def _builtin_env(
    kind: ServiceKind, config: Config, tokens: RuntimeSecrets, environ: Mapping[str, str]
) -> dict[str, str]:
    runtime = config.runtime
    root = config.runtime_root
    if kind is ServiceKind.GATEWAY:
        vault = root / "vault"
        _seed_vault(vault, environ)
        return {
            "PALYRA_DEPLOYMENT_MODE": "local_desktop",
            "PALYRA_ADMIN_REQUIRE_AUTH": "true",
            "PALYRA_ADMIN_TOKEN": tokens.admin_token,
            "PALYRA_ADMIN_BOUND_PRINCIPAL": runtime.principal,
            "PALYRA_STATE_ROOT": str(root),
            "PALYRA_GATEWAY_IDENTITY_STORE_DIR": str(root / "identity"),
            "PALYRA_VAULT_DIR": str(vault),
            "PALYRA_DAEMON_BIND_ADDR": LOOPBACK,
            "PALYRA_DAEMON_PORT": str(runtime.admin_port),
            "PALYRA_GATEWAY_GRPC_BIND_ADDR": LOOPBACK,
            "PALYRA_GATEWAY_GRPC_PORT": str(runtime.grpc_port),
            "PALYRA_GATEWAY_QUIC_BIND_ADDR": LOOPBACK,
            "PALYRA_GATEWAY_QUIC_PORT": str(runtime.quic_port),
            "PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED": "true",
            "PALYRA_BROWSER_SERVICE_ENABLED": "true" if runtime.browser_service else "false",
            "PALYRA_BROWSER_SERVICE_ENDPOINT": f"http://{LOOPBACK}:{runtime.browserd_grpc_port}",
            "PALYRA_BROWSER_SERVICE_AUTH_TOKEN": tokens.browser_token,
        }
    if kind is ServiceKind.BROWSERD:
        return {
            "PALYRA_STATE_ROOT": str(root),
            "PALYRA_BROWSERD_AUTH_TOKEN": tokens.browser_token,
            **browserd_engine_env(config),
        }
    return {
        "PALYRA_STATE_ROOT": str(root),
        "PALYRA_GATEWAY_IDENTITY_STORE_DIR": str(root / "identity"),
    }


def browserd_engine_env(config: Config) -> dict[str, str]:
    """What palyra-tui tells browserd about its engine: always the mode, and the Chromium
    path when the config names one (else browserd searches ``PATH`` itself)."""
    runtime = config.runtime
    env = {ENGINE_MODE_ENV: runtime.browser_engine.value}
    if runtime.browser_chromium_path is not None:
        env[CHROMIUM_PATH_ENV] = runtime.browser_chromium_path
    return env


def _seed_vault(vault: Path, environ: Mapping[str, str]) -> None:
    """Pick palyrad's encrypted-file vault where no desktop keyring can answer.

    palyrad records its vault backend on first start and picks the Secret
    Service whenever ``secret-tool`` runs, which fails later on a headless
    host.  Only a vault that does not exist yet is seeded.
    """
    if vault.exists() or environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return
    private_dir(vault)
    marker = vault / "backend.kind"
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, b"encrypted_file")
    finally:
        os.close(fd)
