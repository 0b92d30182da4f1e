"""The reference ``palyra node``'s side of the node RPC: pair, register, send events.

Blocking calls over ``http.client``: the reference node is a small foreground
process with nothing else to do while it waits.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

from palyra_tui.sim.node_rpc import BEGIN_PATH, CERT_HEADER

POLL_S = 0.25
PAIRING_WAIT_S = 600.0
TIMEOUT_S = 10.0


class NodeRpcError(Exception):
    """A node RPC failure, with palyra's error kind."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class NodeRpcLink:
    """Calls to one gateway's node RPC listener, as one device."""

    def __init__(self, grpc_url: str, certificate: str) -> None:
        parts = urlsplit(grpc_url)
        if parts.scheme != "https" or not parts.hostname or not parts.port:
            raise NodeRpcError(
                "validation_error", f"node RPC URL must be https://host:port, got {grpc_url!r}"
            )
        self.url = grpc_url
        self._host = parts.hostname
        self._port = parts.port
        self._certificate = certificate
        self._device_id = ""

    def pair(self, device_id: str, method: str, code: str) -> dict[str, Any]:
        """Present ``code`` and wait for an operator's decision; the certificate on approval."""
        fingerprint = f"sha256:{device_id.lower()}"
        begun = self._call(
            "POST",
            BEGIN_PATH,
            {
                "device_id": device_id,
                "method": method,
                "pairing_code": code,
                "identity_fingerprint": fingerprint,
            },
        )
        request_id = str(begun.get("request_id", ""))
        deadline = time.monotonic() + PAIRING_WAIT_S
        while time.monotonic() < deadline:
            status = self._call("GET", f"/node/v1/pairing/{request_id}", None)
            state = status.get("state")
            if state == "completed":
                return {
                    "certificate": status["certificate"],
                    "cert_expires_at_unix_ms": status["cert_expires_at_unix_ms"],
                }
            if state == "rejected":
                raise NodeRpcError(
                    "policy_denial", f"node pairing request {request_id} was rejected"
                )
            if state == "expired":
                raise NodeRpcError(
                    "precondition_failed", f"node pairing request {request_id} expired"
                )
            time.sleep(POLL_S)
        raise NodeRpcError(
            "connectivity_failure", f"timed out waiting for approval of pairing {request_id}"
        )

    def register(self, device_id: str, platform: str, capabilities: tuple[str, ...]) -> None:
        """Announce this node (``RegisterNode``)."""
        self._device_id = device_id
        self._call(
            "POST",
            "/node/v1/register",
            {"device_id": device_id, "platform": platform, "capabilities": list(capabilities)},
        )

    def event(self, name: str) -> None:
        """Send one node event (``node.heartbeat``, ``node.stopping``)."""
        self._call("POST", "/node/v1/events", {"device_id": self._device_id, "event": name})

    def _call(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        connection = http.client.HTTPConnection(self._host, self._port, timeout=TIMEOUT_S)
        headers = {"content-type": "application/json", "connection": "close"}
        if self._certificate:
            headers[CERT_HEADER] = self._certificate
        try:
            connection.request(
                method, path, json.dumps(body) if body is not None else None, headers
            )
            response = connection.getresponse()
            raw = response.read()
        except ConnectionRefusedError:
            raise NodeRpcError(
                "connectivity_failure",
                f"failed to connect node RPC endpoint {self.url}: connection refused",
            ) from None
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            raise NodeRpcError(
                "connectivity_failure",
                f"failed to connect node RPC endpoint {self.url}: transport error: broken pipe",
            ) from None
        except (OSError, http.client.HTTPException) as error:
            raise NodeRpcError(
                "connectivity_failure", f"node RPC call to {self.url} failed: {error}"
            ) from None
        finally:
            connection.close()
        try:
            document = json.loads(raw) if raw else {}
        except ValueError:
            document = {}
        if response.status >= 400:
            message = str(document.get("error") or f"node RPC answered HTTP {response.status}")
            kind = {401: "auth_failure", 403: "auth_failure", 404: "not_found"}.get(
                response.status, "precondition_failed"
            )
            raise NodeRpcError(kind, message)
        return document if isinstance(document, dict) else {}
