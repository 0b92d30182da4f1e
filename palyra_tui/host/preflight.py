"""The preflight checks behind ``palyra-tui doctor``: can this state root run the runtime?

Each check has a key, a label, a status (ok, warning, blocked), a detail and a
hint that says what to do.  A blocked check is one that keeps the runtime from
working; a warning is worth knowing and does not.  The checks start nothing:
they resolve binaries, write and delete one probe file, bind and release
loopback ports, look for the Chromium browserd would launch, read the secret
store, ask a running host for its status and ask the gateway it runs whether it
accepts the stored admin token.  Blocking work runs in threads.

Ports that the runtime host's own gateway (or browserd) is using are fine.
Ports that another Palyra daemon answers on are named as such: a gateway left
running with this state root's admin token still serves palyra-tui, but the
host cannot start its own on those ports.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

from palyra_tui.config import Config, config_path
from palyra_tui.config.dirs import private_dir, unusable
from palyra_tui.errors import BinaryNotFound, SecretStoreError
from palyra_tui.host.checks import Check, CheckStatus, Preflight
from palyra_tui.host.preflight_browser import check_browser_engine
from palyra_tui.host.preflight_ports import (
    PortFacts,
    browser_ports,
    gateway_ports,
    token_accepted,
)
from palyra_tui.models import ServiceKind, ServiceSnapshot, SupervisorSnapshot
from palyra_tui.secrets import RuntimeSecrets, SecretName, SecretStore, StoreReport
from palyra_tui.state.onboarding_driver import RunPreflight
from palyra_tui.supervisor.binaries import BINARY_NAMES, OVERRIDE_ENV, resolve_builtin
from palyra_tui.supervisor.definitions import LOOPBACK, ServiceDefinition, define_services

LOW_SPACE = 64 * 1024 * 1024
"""Free bytes under which the state root's disk gets a warning."""

__all__ = [
    "Check",
    "CheckStatus",
    "HostFacts",
    "Preflight",
    "preflight_in_host",
    "run_checks",
    "run_preflight",
]


@dataclass(frozen=True, slots=True)
class HostFacts:
    """What the state root's runtime host reports, if one answers."""

    services: Mapping[str, ServiceSnapshot]
    dashboard_url: str = ""

    def running(self, name: str) -> ServiceSnapshot | None:
        """The service ``name`` if a process of it exists now."""
        service = self.services.get(name)
        return service if service is not None and service.state.is_up else None


async def run_preflight(
    config: Config,
    environ: Mapping[str, str] | None = None,
    *,
    config_problem: str = "",
) -> Preflight:
    """Run every check for ``config``; ``config_problem`` is why the config file could not
    be used (``config`` then holds the built-in defaults)."""
    return await run_checks(config, environ, await host_facts(config), config_problem)


def preflight_in_host(
    config: Config, environ: Mapping[str, str], secrets: RuntimeSecrets | None = None
) -> RunPreflight:
    """The checks as the runtime host runs them for onboarding: it knows its own services
    and asks nobody over the socket.  ``secrets``: the tokens this runtime holds in memory
    (the demo's), checked instead of the state root's secret store, so that the operator's
    keyring is never asked."""

    async def run(services: SupervisorSnapshot, dashboard_url: str) -> Preflight:
        facts = HostFacts({s.name: s for s in services.services}, dashboard_url)
        return await run_checks(config, environ, facts, secrets=secrets)

    return run


async def run_checks(
    config: Config,
    environ: Mapping[str, str] | None,
    host: HostFacts | None,
    config_problem: str = "",
    *,
    secrets: RuntimeSecrets | None = None,
) -> Preflight:
    """Every check, with ``host`` as what the state root's runtime host reports, and
    ``secrets`` as the tokens when they live in memory (no secret store is read then)."""
    env = dict(os.environ if environ is None else environ)
    definitions, state_root = await asyncio.gather(
        asyncio.to_thread(define_services, config),
        asyncio.to_thread(check_state_root, config),
    )
    if secrets is None:
        store = SecretStore.for_config(config, env)
        report = await asyncio.to_thread(store.inspect)
        tokens = await asyncio.to_thread(_stored_tokens, store, report)
        secret_check = check_secret_store(report)
    else:
        report = StoreReport(None, True, present=frozenset(SecretName))
        tokens = secrets
        secret_check = check_memory_secrets()
    enabled = {definition.kind: definition.enabled for definition in definitions}
    binaries = await asyncio.gather(
        *(
            asyncio.to_thread(check_binary, kind, _find(definitions, kind), env)
            for kind in (ServiceKind.GATEWAY, ServiceKind.BROWSERD, ServiceKind.NODE_HOST)
        )
    )
    facts = PortFacts(host.services if host is not None else {}, tokens, config.runtime)
    browserd = _find(definitions, ServiceKind.BROWSERD)
    gateway, browser, engine, auth = await asyncio.gather(
        gateway_ports(config, facts, enabled.get(ServiceKind.GATEWAY, False)),
        browser_ports(config, facts, enabled.get(ServiceKind.BROWSERD, False)),
        asyncio.to_thread(check_browser_engine, browserd, config, env),
        check_operator_auth(config, report, tokens, host),
    )
    return Preflight(
        (
            *binaries,
            state_root,
            check_config(config, config_problem, env),
            gateway,
            browser,
            engine,
            secret_check,
            auth,
            check_dashboard(config, host),
        )
    )


def _find(definitions: tuple[ServiceDefinition, ...], kind: ServiceKind) -> ServiceDefinition:
    for definition in definitions:
        if definition.kind is kind:
            return definition
    raise AssertionError(f"no built-in {kind.value} service")


def _stored_tokens(store: SecretStore, report: StoreReport) -> RuntimeSecrets | None:
    """The stored tokens when the report says they can be read (to ask the gateway)."""
    if report.problem or SecretName.ADMIN_TOKEN not in report.present:
        return None
    try:
        return store.read()
    except SecretStoreError:
        return None


async def host_facts(config: Config) -> HostFacts | None:
    """The running host's services and dashboard, or None when no host answers.

    Without a socket file there is nothing to ask, and the gRPC stack is not loaded."""
    from palyra_tui.errors import CodecError, HostError
    from palyra_tui.host.paths import candidates

    if not any(os.path.lexists(place.socket) for place in candidates(config.state_root)):
        return None
    from palyra_tui.host.client import HostClient
    from palyra_tui.host.protocol import ClientInfo
    from palyra_tui.host.report import STATUS, StatusReport, StatusRequest

    try:
        client = HostClient.for_state_root(
            config.state_root, client=ClientInfo.current("palyra-tui doctor")
        )
        try:
            await client.connect()
            report = await client.call(STATUS, StatusRequest(), StatusReport)
        finally:
            await client.close()
    except (HostError, CodecError):
        return None
    services = {service.name: service for service in report.services}
    return HostFacts(services, report.gateway.dashboard_url)


# Binaries ----------------------------------------------------------------------------------

_BINARY_CHECKS = {
    ServiceKind.GATEWAY: ("gateway_binary", "Gateway binary"),
    ServiceKind.BROWSERD: ("browser_binary", "Browser sidecar binary"),
    ServiceKind.NODE_HOST: ("cli_binary", "Support CLI"),
}


def check_binary(
    kind: ServiceKind, definition: ServiceDefinition, environ: Mapping[str, str]
) -> Check:
    """Where the daemon's binary is, as the supervisor would find it at a start."""
    key, label = _BINARY_CHECKS[kind]
    service = definition.config
    configured = service.command[0] if service.command else None
    try:
        path = resolve_builtin(kind, configured, environ)
    except BinaryNotFound as error:
        needed = definition.enabled and kind is not ServiceKind.NODE_HOST
        status = CheckStatus.BLOCKED if needed else CheckStatus.WARNING
        detail = str(error)
        if not definition.enabled:
            reason = definition.disabled_reason or "it is disabled"
            detail += f"; {service.name} does not run now: {reason}"
        hint = (
            f"install Palyra so that '{BINARY_NAMES[kind]}' is on PATH or next to palyra-tui, "
            f"or set {OVERRIDE_ENV[kind]} or services.{service.name}.command"
        )
        return Check(key, label, status, detail, hint)
    source = "configured command" if configured else "found"
    if environ.get(OVERRIDE_ENV[kind], "").strip():
        source = OVERRIDE_ENV[kind]
    return Check(key, label, CheckStatus.OK, f"{path} ({source})")


# State root and config ----------------------------------------------------------------------


def check_state_root(config: Config) -> Check:
    """Create palyra-tui's directory if needed, then write, sync and delete a probe file."""
    key, label = "state_root", "Writable state root"
    directory = config.state_dir
    probe = directory / f"doctor-write-probe-{os.getpid()}-{time.time_ns()}.tmp"
    hint = (
        "choose a state root you can write to: state_root in the config file or "
        "PALYRA_STATE_ROOT (an absolute path)"
    )
    try:
        private_dir(directory)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, b"palyra-tui doctor\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        os.unlink(probe)
        space = os.statvfs(directory)
    except OSError as error:
        return Check(key, label, CheckStatus.BLOCKED, str(unusable(config.state_root, error)), hint)
    free = space.f_bavail * space.f_frsize
    detail = f"{config.state_root} is writable ({free // (1024 * 1024)} MiB free)"
    if free < LOW_SPACE:
        return Check(
            key,
            label,
            CheckStatus.WARNING,
            detail,
            "free some space: the daemons' journals and palyra-tui's state live there",
        )
    return Check(key, label, CheckStatus.OK, detail)


def check_config(config: Config, problem: str, environ: Mapping[str, str]) -> Check:
    """Whether palyra-tui's config file could be read and validated."""
    key, label = "config", "Config file"
    if problem:
        return Check(
            key,
            label,
            CheckStatus.BLOCKED,
            problem,
            "fix the key the sentence names (docs/configuration.md lists every key), or move "
            "the file aside to use the defaults; the other checks used the built-in defaults",
        )
    if config.path is None:
        where = config_path(environ)
        return Check(key, label, CheckStatus.OK, f"no file at {where}: the built-in defaults apply")
    return Check(key, label, CheckStatus.OK, f"{config.path} is valid")


# Secrets and auth ---------------------------------------------------------------------------


def check_secret_store(report: StoreReport) -> Check:
    """Which backend keeps the tokens, what that protects against, and whether it works."""
    key, label = "secret_store", "Secret store"
    backend = report.backend
    if report.problem:
        return Check(key, label, CheckStatus.BLOCKED, report.problem, report.hint)
    assert backend is not None
    where = f" ({backend.location})" if backend.location else ""
    if not report.decided:
        detail = (
            f"no tokens yet; the first start keeps them in {backend.name}{where}: "
            f"{backend.protects}"
        )
    else:
        detail = f"the tokens are kept in {backend.name}{where}: {backend.protects}"
    return Check(key, label, CheckStatus.OK, detail)


def check_memory_secrets() -> Check:
    """Tokens held in this process only (the demo's): no store, no keyring is asked."""
    return Check(
        "secret_store",
        "Secret store",
        CheckStatus.OK,
        "the tokens live in this process's memory only, for this run; no keyring or file "
        "holds them",
    )


async def check_operator_auth(
    config: Config, report: StoreReport, tokens: RuntimeSecrets | None, host: HostFacts | None
) -> Check:
    """Whether an admin token exists, and whether the running gateway accepts it."""
    key, label = "operator_auth", "Operator auth bootstrap"
    if report.problem:
        return Check(
            key,
            label,
            CheckStatus.BLOCKED,
            "the admin token cannot be read (see the secret store check)",
            "fix the secret store first",
        )
    if SecretName.ADMIN_TOKEN not in report.present or tokens is None:
        detail = (
            "no admin token yet: the runtime host creates one when it first starts"
            if not report.decided
            else "the admin token is missing: the next start creates a new one"
        )
        return Check(key, label, CheckStatus.WARNING, detail, "start the runtime: palyra-tui up")
    gateway = host.running("gateway") if host is not None else None
    if gateway is None:
        return Check(
            key,
            label,
            CheckStatus.OK,
            "the admin token is stored; no gateway of this state root runs to confirm it",
        )
    # Only a port the supervised gateway itself listens on is asked with the token: a
    # gateway in trouble may not hold the configured one, and whoever does must not get it.
    port = _bound_port(gateway) or config.runtime.admin_port
    if not port:
        return Check(key, label, CheckStatus.OK, "the admin token is stored")
    pid = gateway.pid
    if pid is None or not await asyncio.to_thread(_listens, pid, port):
        return Check(
            key,
            label,
            CheckStatus.WARNING,
            f"the admin token is stored, but the gateway (pid {pid}) does not listen on "
            f"{LOOPBACK}:{port}",
            "see palyra-tui status and palyra-tui logs gateway",
        )
    accepted = await token_accepted(port, tokens, config.runtime)
    if accepted is None:
        return Check(
            key,
            label,
            CheckStatus.WARNING,
            f"the admin token is stored, but the gateway (pid {gateway.pid}) does not answer "
            f"on {LOOPBACK}:{port}",
            "see palyra-tui status and palyra-tui logs gateway",
        )
    if not accepted:
        return Check(
            key,
            label,
            CheckStatus.BLOCKED,
            f"the running gateway (pid {gateway.pid}) refuses the stored admin token",
            "restart it so that it gets the stored token: palyra-tui restart gateway",
        )
    return Check(
        key, label, CheckStatus.OK, f"the running gateway (pid {gateway.pid}) accepts the token"
    )


def _listens(pid: int, port: int) -> bool:
    """True when process ``pid`` (or a child of it) listens on TCP ``port`` (blocking)."""
    import psutil

    try:
        family = {pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))}
        sockets = psutil.net_connections("tcp")
    except psutil.Error:
        return False
    return any(
        s.pid in family and s.status == psutil.CONN_LISTEN and s.laddr and s.laddr.port == port
        for s in sockets
    )


def _bound_port(service: ServiceSnapshot) -> int | None:
    """The port a service bound, from the ``listen_addr`` it logged."""
    address = dict(service.endpoints).get("listen_addr", "")
    port = address.rpartition(":")[2]
    return int(port) if port.isdigit() else None


def check_dashboard(config: Config, host: HostFacts | None) -> Check:
    """Where the gateway serves the web dashboard; always ok."""
    key, label = "dashboard_mode", "Dashboard access mode"
    if host is not None and host.dashboard_url:
        return Check(
            key, label, CheckStatus.OK, f"local: {host.dashboard_url} (the gateway serves it)"
        )
    port = config.runtime.admin_port
    if port:
        url = f"http://{LOOPBACK}:{port}"
        return Check(key, label, CheckStatus.OK, f"local: {url} once the gateway runs")
    return Check(
        key,
        label,
        CheckStatus.OK,
        "local: on the port the gateway binds when it starts (runtime.admin_port = 0)",
    )
