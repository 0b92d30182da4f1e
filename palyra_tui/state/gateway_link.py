"""Where the gateway is, and the clients that talk to it.

The supervisor knows the gateway's address: the configured ports, or, when it
binds port 0 (the demo), the addresses it logged.  A restart may change them,
so the link re-reads the supervisor snapshot and replaces its clients when the
address moves.  Clients are created on the loop that calls :meth:`grpc` (a
``grpc.aio`` channel belongs to one loop).

grpc and httpx take about a tenth of a second to import, so they are imported
when the first client is made, not when the UI starts; :func:`preload` does it
in a worker thread while the first frame is drawn.

A remote profile's gateway is where the catalog says (:func:`remote_gateway`),
never an address a log line names; the link then speaks to it with that
profile's admin token, over TLS when its URL is ``https``.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from palyra_tui.client.identity import ClientIdentity
from palyra_tui.config import RuntimeConfig
from palyra_tui.config.profiles import Profile
from palyra_tui.models import ServiceKind, SupervisorSnapshot
from palyra_tui.state.profiles import url_address

if TYPE_CHECKING:
    from palyra_tui.client.grpc import GatewayClient
    from palyra_tui.client.http import GatewayHttp

LOOPBACK = "127.0.0.1"
RETIRE_AFTER = 30.0


@dataclass(frozen=True, slots=True)
class RemoteGateway:
    """A remote profile's gateway: where it is, and who palyra-tui is to it."""

    grpc_target: str
    """``host:port`` of its gRPC endpoint."""
    tls: bool
    """gRPC over TLS (its URL is ``https``)."""
    http_base: str
    """``scheme://host:port`` of its HTTP API (no user name, password or path)."""
    identity: ClientIdentity


def remote_gateway(profile: Profile, identity: ClientIdentity) -> RemoteGateway:
    """The gateway a remote profile names: gRPC at its ``grpc_url``, else at its
    ``daemon_url``; TLS when that URL is ``https``."""
    grpc_url = profile.grpc_url or profile.daemon_url
    parts = urlsplit(grpc_url if "//" in grpc_url else f"//{grpc_url}")
    tls = parts.scheme == "https"
    try:
        port = parts.port or (443 if tls else 80)
    except ValueError:
        port = 443 if tls else 80
    host = parts.hostname or ""
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}" if host else ""
    return RemoteGateway(target, tls, url_address(profile.daemon_url), identity)


class GatewayLink:
    """Finds the gateway and keeps one gRPC and one HTTP client for it."""

    def __init__(self, identity: ClientIdentity, runtime: RuntimeConfig) -> None:
        self.identity = identity
        self.runtime = runtime
        self.remote: RemoteGateway | None = None
        """The active profile's remote gateway (None: this machine's)."""
        self._grpc: GatewayClient | None = None
        self._http: GatewayHttp | None = None
        self._retiring: set[asyncio.Task[None]] = set()
        self._retired: set[GatewayClient | GatewayHttp] = set()

    def targets(self, snapshot: SupervisorSnapshot) -> tuple[str, str]:
        """``(grpc host:port, http base URL)``; empty strings while unknown."""
        if self.remote is not None:
            return self.remote.grpc_target, self.remote.http_base
        endpoints: dict[str, str] = {}
        for service in snapshot.services:
            if service.kind is ServiceKind.GATEWAY:
                endpoints = dict(service.endpoints)
        grpc_target = _loopback(endpoints.get("grpc_listen_addr", ""))
        if not grpc_target and self.runtime.grpc_port:
            grpc_target = f"{LOOPBACK}:{self.runtime.grpc_port}"
        http_address = _loopback(endpoints.get("listen_addr", ""))
        if not http_address and self.runtime.admin_port:
            http_address = f"{LOOPBACK}:{self.runtime.admin_port}"
        return grpc_target, f"http://{http_address}" if http_address else ""

    async def grpc(self, target: str) -> GatewayClient:
        """The gRPC client for ``target`` (replacing one for an older address).

        A replaced client is closed a little later, so calls still running on
        it (a chat run, a collection) end on their own instead of being cancelled.
        """
        if self._grpc is not None and self._grpc.target != target:
            self._retire(self._grpc)
            self._grpc = None
        if self._grpc is None:
            from palyra_tui.client.grpc import GatewayClient

            remote = self.remote
            identity = remote.identity if remote is not None else self.identity
            self._grpc = GatewayClient(target, identity, tls=remote is not None and remote.tls)
        return self._grpc

    async def http(self, base_url: str) -> GatewayHttp:
        """The HTTP client for ``base_url``."""
        if self._http is not None and self._http.base_url != base_url:
            self._retire(self._http)
            self._http = None
        if self._http is None:
            from palyra_tui.client.http import GatewayHttp

            remote = self.remote
            self._http = GatewayHttp(base_url, remote.identity if remote else self.identity)
        return self._http

    def _retire(self, client: GatewayClient | GatewayHttp) -> None:
        async def later() -> None:
            await asyncio.sleep(RETIRE_AFTER)
            self._retired.discard(client)
            await client.close()

        self._retired.add(client)
        task = asyncio.get_running_loop().create_task(later())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    @property
    def current(self) -> GatewayClient | None:
        """The gRPC client in use, if any."""
        return self._grpc

    async def use(self, remote: RemoteGateway | None) -> None:
        """Reach ``remote`` from now on (None: this machine's gateway), closing the clients
        made for the one before.  The clients are dropped before anything is awaited, so no
        call made meanwhile gets a client with the old address or the old identity."""
        self.remote = remote
        await self.close()

    async def close(self) -> None:
        """Close both clients (and any still being retired)."""
        grpc_client, self._grpc = self._grpc, None
        http_client, self._http = self._http, None
        retired, self._retired = self._retired, set()
        for task in list(self._retiring):
            task.cancel()
        for client in (*retired, grpc_client, http_client):
            if client is not None:
                await client.close()


def _loopback(address: str) -> str:
    """``address`` if it is a loopback ``host:port``, else empty.

    The admin token goes wherever the gateway says it listens; a log line that
    names another host is not trusted with it.
    """
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if not port.isdigit() or not host:
        return ""
    try:
        if not ipaddress.ip_address(host).is_loopback:
            return ""
    except ValueError:
        return ""
    return address


def preload() -> None:
    """Import the gRPC and HTTP clients (blocking; run it in a thread)."""
    import palyra_tui.client.grpc
    import palyra_tui.client.http  # noqa: F401
