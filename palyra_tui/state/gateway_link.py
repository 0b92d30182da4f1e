"""Where the gateway is, and the clients that talk to it.

The supervisor knows the gateway's address: the configured ports, or, when it
binds port 0 (the demo), the addresses it logged.  A restart may change them,
so the link re-reads the supervisor snapshot and replaces its clients when the
address moves.  Clients are created on the loop that calls :meth:`grpc` (a
``grpc.aio`` channel belongs to one loop).
"""

from __future__ import annotations

from palyra_tui.client.grpc import GatewayClient
from palyra_tui.client.http import GatewayHttp
from palyra_tui.client.identity import ClientIdentity
from palyra_tui.config import RuntimeConfig
from palyra_tui.models import ServiceKind, SupervisorSnapshot

LOOPBACK = "127.0.0.1"


class GatewayLink:
    """Finds the gateway and keeps one gRPC and one HTTP client for it."""

    def __init__(self, identity: ClientIdentity, runtime: RuntimeConfig) -> None:
        self.identity = identity
        self.runtime = runtime
        self._grpc: GatewayClient | None = None
        self._http: GatewayHttp | None = None

    def targets(self, snapshot: SupervisorSnapshot) -> tuple[str, str]:
        """``(grpc host:port, http base URL)``; empty strings while unknown."""
        endpoints: dict[str, str] = {}
        for service in snapshot.services:
            if service.kind is ServiceKind.GATEWAY:
                endpoints = dict(service.endpoints)
        grpc_target = endpoints.get("grpc_listen_addr", "")
        if not grpc_target and self.runtime.grpc_port:
            grpc_target = f"{LOOPBACK}:{self.runtime.grpc_port}"
        http_address = endpoints.get("listen_addr", "")
        if not http_address and self.runtime.admin_port:
            http_address = f"{LOOPBACK}:{self.runtime.admin_port}"
        return grpc_target, f"http://{http_address}" if http_address else ""

    async def grpc(self, target: str) -> GatewayClient:
        """The gRPC client for ``target`` (replacing one for an older address)."""
        if self._grpc is not None and self._grpc.target != target:
            await self._grpc.close()
            self._grpc = None
        if self._grpc is None:
            self._grpc = GatewayClient(target, self.identity)
        return self._grpc

    async def http(self, base_url: str) -> GatewayHttp:
        """The HTTP client for ``base_url``."""
        if self._http is not None and self._http.base_url != base_url:
            await self._http.close()
            self._http = None
        if self._http is None:
            self._http = GatewayHttp(base_url, self.identity)
        return self._http

    @property
    def current(self) -> GatewayClient | None:
        """The gRPC client in use, if any."""
        return self._grpc

    async def close(self) -> None:
        """Close both clients."""
        if self._grpc is not None:
            await self._grpc.close()
            self._grpc = None
        if self._http is not None:
            await self._http.close()
            self._http = None
