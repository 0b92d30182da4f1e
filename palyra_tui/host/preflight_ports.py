"""The preflight's port checks: the gateway's and the browser service's loopback ports.

palyrad needs its admin HTTP port, its gRPC port, the node RPC port (gRPC + 1,
TCP) and its QUIC port (UDP); browserd its health and gRPC ports.  A port
configured as 0 is picked when the daemon starts and needs no check.  Ports the
state root's own runtime host is using for that daemon are fine; on a busy
port, the check says whether a Palyra daemon answers there (and, for a gateway,
whether it accepts the stored admin token) or something else holds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from palyra_tui.config import Config, RuntimeConfig
from palyra_tui.host.checks import Check, CheckStatus
from palyra_tui.host.probes import LOOPBACK, Port, PortProblem, Transport, busy_ports, listing
from palyra_tui.models import ServiceSnapshot
from palyra_tui.secrets import RuntimeSecrets

PROBE_TIMEOUT = 2.0
"""Seconds a daemon found on a busy port has to answer its health check."""

_CHECK_FROM_HINT = (
    "`ss -ltnup` shows what holds them; stop it, or choose other ports under [runtime] "
    "in the config file (0 picks a free one)"
)


@dataclass(frozen=True, slots=True)
class PortFacts:
    """What the port checks need to know: the host's services and the stored tokens."""

    services: Mapping[str, ServiceSnapshot]
    tokens: RuntimeSecrets | None
    runtime: RuntimeConfig


def gateway_port_list(runtime: RuntimeConfig) -> tuple[Port, ...]:
    """palyrad's ports that are fixed in the configuration."""
    ports = [
        Port("admin", Transport.TCP, runtime.admin_port),
        Port("gRPC", Transport.TCP, runtime.grpc_port),
    ]
    if runtime.grpc_port:
        ports.append(Port("node RPC", Transport.TCP, runtime.grpc_port + 1))
    ports.append(Port("QUIC", Transport.UDP, runtime.quic_port))
    return tuple(port for port in ports if 0 < port.number <= 65535)


def browser_port_list(runtime: RuntimeConfig) -> tuple[Port, ...]:
    """browserd's ports that are fixed in the configuration."""
    ports = (
        Port("health", Transport.TCP, runtime.browserd_port),
        Port("gRPC", Transport.TCP, runtime.browserd_grpc_port),
    )
    return tuple(port for port in ports if port.number)


async def gateway_ports(config: Config, facts: PortFacts, enabled: bool) -> Check:
    """The ``gateway_ports`` check."""
    key, label = "gateway_ports", "Gateway ports"
    ports = gateway_port_list(config.runtime)
    ours = _running(facts.services, "gateway")
    if not enabled:
        return Check(key, label, CheckStatus.OK, "the gateway is disabled: no port is needed")
    if ours is not None:
        return Check(key, label, CheckStatus.OK, _ours_detail("gateway", ours, ports))
    if not ports:
        return Check(key, label, CheckStatus.OK, "every port is picked when the gateway starts")
    busy = await asyncio.to_thread(busy_ports, ports)
    if not busy:
        return Check(key, label, CheckStatus.OK, f"{listing(ports)} are free on loopback")
    held = listing(problem.port for problem in busy)
    admin = config.runtime.admin_port
    answer = await _health(admin) if admin and _includes(busy, admin, Transport.TCP) else None
    if answer is not None:
        # Whoever listens here is not this state root's supervised gateway: it is asked
        # nothing that carries the admin token (any local user may bind a free port).
        return Check(
            key,
            label,
            CheckStatus.BLOCKED,
            f"A Palyra runtime ({answer}) is already responding on {held}, and no runtime "
            "host of this state root supervises it, so the host cannot start its own gateway "
            "there (palyra-tui sends it no token)",
            "stop that gateway (a leftover of this state root: palyra-tui down, then end the "
            "leftover palyrad), or " + _CHECK_FROM_HINT.split("; ", 1)[1],
        )
    return Check(key, label, CheckStatus.BLOCKED, _busy_detail(busy), _CHECK_FROM_HINT)


async def browser_ports(config: Config, facts: PortFacts, enabled: bool) -> Check:
    """The ``browser_ports`` check."""
    key, label = "browser_ports", "Browser sidecar ports"
    ports = browser_port_list(config.runtime)
    ours = _running(facts.services, "browserd")
    if ours is not None:
        return Check(key, label, CheckStatus.OK, _ours_detail("browserd", ours, ports))
    if not ports:
        return Check(key, label, CheckStatus.OK, "every port is picked when browserd starts")
    busy = await asyncio.to_thread(busy_ports, ports)
    off = "" if enabled else " (the browser service is off)"
    if not busy:
        return Check(key, label, CheckStatus.OK, f"{listing(ports)} are free on loopback{off}")
    status = CheckStatus.BLOCKED if enabled else CheckStatus.WARNING
    health = config.runtime.browserd_port
    answer = await _health(health) if health and _includes(busy, health, Transport.TCP) else None
    if answer is not None:
        held = listing(problem.port for problem in busy)
        return Check(
            key,
            label,
            status,
            f"A Palyra browser service ({answer}) is already responding on {held}{off}; the "
            "runtime host cannot start its own browserd on these ports",
            "stop that browserd, or " + _CHECK_FROM_HINT.split("; ", 1)[1],
        )
    return Check(key, label, status, _busy_detail(busy) + off, _CHECK_FROM_HINT)


async def token_accepted(
    port: int, tokens: RuntimeSecrets | None, runtime: RuntimeConfig
) -> bool | None:
    """Whether the gateway on ``port`` accepts the stored admin token (``GET
    /admin/v1/status``); None when it cannot tell (no token, no answer)."""
    if tokens is None:
        return None
    from palyra_tui.client.errors import AuthRejected, ClientError, PermissionDenied
    from palyra_tui.client.http.gateway_http import GatewayHttp
    from palyra_tui.client.identity import ClientIdentity

    identity = ClientIdentity(tokens.admin_token, runtime.principal, runtime.device_id)
    async with GatewayHttp(f"http://{LOOPBACK}:{port}", identity, timeout=PROBE_TIMEOUT) as http:
        try:
            await http.admin_status()
        except (AuthRejected, PermissionDenied):
            return False
        except ClientError:
            return None
    return True


async def _health(port: int) -> str | None:
    """``<service> <version>`` of a Palyra daemon answering ``/healthz`` on ``port``."""
    from palyra_tui.client.errors import ClientError
    from palyra_tui.client.http.gateway_http import GatewayHttp
    from palyra_tui.client.identity import ClientIdentity
    from palyra_tui.text import sanitize_line

    async with GatewayHttp(
        f"http://{LOOPBACK}:{port}", ClientIdentity(""), timeout=PROBE_TIMEOUT
    ) as http:
        try:
            health = await http.healthz()
        except ClientError:
            return None
    if not health.status:
        return None
    words = [sanitize_line(part)[:60] for part in (health.service, health.version) if part]
    return " ".join(words) or "unnamed"


def _running(services: Mapping[str, ServiceSnapshot], name: str) -> ServiceSnapshot | None:
    service = services.get(name)
    return service if service is not None and service.state.is_up else None


def _ours_detail(name: str, service: ServiceSnapshot, ports: tuple[Port, ...]) -> str:
    if not ports:
        return f"the runtime host's {name} (pid {service.pid}) runs on the ports it picked"
    return f"{listing(ports)} belong to the runtime host's {name} (pid {service.pid})"


def _includes(busy: tuple[PortProblem, ...], number: int, transport: Transport) -> bool:
    return any(p.port.number == number and p.port.transport is transport for p in busy)


def _busy_detail(busy: tuple[PortProblem, ...]) -> str:
    in_use = [problem.port for problem in busy if problem.in_use]
    other = [f"{problem.port} ({problem.reason})" for problem in busy if not problem.in_use]
    parts = []
    if in_use:
        verb = "is" if len(in_use) == 1 else "are"
        parts.append(f"{listing(in_use)} {verb} already in use on loopback")
    if other:
        parts.append("cannot bind " + ", ".join(other))
    return "; ".join(parts)
