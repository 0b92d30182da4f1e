"""Where the gateway is, and the clients that talk to it.

The supervisor knows the gateway's address: the configured ports, or, when it
binds port 0 (the demo), the addresses it logged.  A restart may change them,
so the link re-reads the supervisor snapshot and replaces its clients when the
address moves.  Clients are created on the loop that calls :meth:`grpc` (a
``grpc.aio`` channel belongs to one loop).

grpc and httpx take about a tenth of a second to import, so they are imported
when the first client is made, not when the UI starts; :func:`preload` does it
in a worker thread while the first frame is drawn.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import TYPE_CHECKING

from palyra_tui.client.identity import ClientIdentity
from palyra_tui.config import RuntimeConfig
from palyra_tui.models import ServiceKind, SupervisorSnapshot

if TYPE_CHECKING:
    from palyra_tui.client.grpc import GatewayClient
    from palyra_tui.client.http import GatewayHttp

LOOPBACK = "127.0.0.1"
RETIRE_AFTER = 30.0


class GatewayLink:
    """Finds the gateway and keeps one gRPC and one HTTP client for it."""

    def __init__(self, identity: ClientIdentity, runtime: RuntimeConfig) -> None:
        self.identity = identity
        self.runtime = runtime
        self._grpc: GatewayClient | None = None
        self._http: GatewayHttp | None = None
        self._retiring: set[asyncio.Task[None]] = set()
        self._retired: set[GatewayClient | GatewayHttp] = set()

    def targets(self, snapshot: SupervisorSnapshot) -> tuple[str, str]:
        """``(grpc host:port, http base URL)``; empty strings while unknown."""
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

            self._grpc = GatewayClient(target, self.identity)
        return self._grpc

    async def http(self, base_url: str) -> GatewayHttp:
        """The HTTP client for ``base_url``."""
        if self._http is not None and self._http.base_url != base_url:
            self._retire(self._http)
            self._http = None
        if self._http is None:
            from palyra_tui.client.http import GatewayHttp

            self._http = GatewayHttp(base_url, self.identity)
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

    async def close(self) -> None:
        """Close both clients (and any still being retired)."""
        for task in list(self._retiring):
            task.cancel()
        retired, self._retired = self._retired, set()
        for client in retired:
            await client.close()
        if self._grpc is not None:
            await self._grpc.close()
            self._grpc = None
        if self._http is not None:
            await self._http.close()
            self._http = None


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
