"""The reference gateway's node RPC listener: where a node pairs, registers and beats.

palyrad serves ``NodeService`` over TLS on its own port and, unless
``PALYRA_ALLOW_INSECURE_NODE_RPC_WITHOUT_MTLS=true``, hangs up on a client that
shows no client certificate, so a node that has none yet cannot even begin
pairing.  The reference listener keeps that rule and those states but speaks
JSON over plain HTTP, with the certificate in the ``x-palyra-node-certificate``
header; only the reference ``palyra node`` commands talk to it.
"""

from __future__ import annotations

from typing import Any

from palyra_tui.sim.http_server import HANG_UP, HttpServer, Request, Response, Router
from palyra_tui.sim.logs import JsonLog
from palyra_tui.sim.pairing import Device, PairingBook, PairingRefused

CERT_HEADER = "x-palyra-node-certificate"
BEGIN_PATH = "/node/v1/pairing/begin"


class NodeRpc:
    """Node RPC handlers over one :class:`PairingBook`."""

    def __init__(self, book: PairingBook, log: JsonLog, *, mtls_required: bool) -> None:
        self.book = book
        self.log = log
        self.mtls_required = mtls_required

    def server(self) -> HttpServer:
        """An HTTP server with every node RPC route."""
        router = Router()
        router.add("POST", BEGIN_PATH, self.begin)
        router.add("GET", "/node/v1/pairing/{request_id}", self.status)
        router.add("POST", "/node/v1/register", self.register)
        router.add("POST", "/node/v1/events", self.event)
        return HttpServer(
            router,
            not_found=lambda request: _error(404, f"no route for {request.method} {request.path}"),
            before=self._transport,
        )

    def _transport(self, request: Request) -> Response | None:
        """The mTLS rule: without a certificate of a paired device, hang up."""
        if not self.mtls_required:
            return None
        if self.book.device_with(request.headers.get(CERT_HEADER, "")) is None:
            return Response(HANG_UP)
        return None

    async def begin(self, request: Request) -> Response:
        """A node presents its pairing code; the gateway files its request."""
        try:
            body = request.json()
        except ValueError:
            return _error(400, "request body must be JSON")
        device_id = str(body.get("device_id", ""))
        method = str(body.get("method", ""))
        code = str(body.get("pairing_code", ""))
        fingerprint = str(body.get("identity_fingerprint", ""))
        if not (device_id and method and code):
            return _error(400, "device_id, method and pairing_code are required")
        try:
            record = self.book.begin(device_id, method, code, fingerprint)
        except PairingRefused as refused:
            return _error(refused.status, str(refused))
        self.log.info(
            "node pairing request created",
            request_id=record.request_id,
            device_id=device_id,
            approval_id=record.approval_id,
        )
        return Response.json(200, {"request_id": record.request_id, "state": record.state})

    async def status(self, request: Request) -> Response:
        """A node polls its request; the approved one receives its certificate."""
        record = self.book.collect(request.params["request_id"])
        if record is None:
            return _error(404, "pairing request was not found")
        document: dict[str, Any] = {"request_id": record.request_id, "state": record.state}
        if record.state == "completed":
            document["certificate"] = record.certificate
            document["cert_expires_at_unix_ms"] = record.cert_expires_ms
        return Response.json(200, document)

    def _trusted(self, request: Request) -> tuple[Device, dict[str, Any]] | Response:
        """The paired device a request's certificate names, and its JSON body."""
        device = self.book.device_with(request.headers.get(CERT_HEADER, ""))
        if device is None:
            return _error(401, "node client certificate is not trusted")
        try:
            return device, request.json()
        except ValueError:
            return _error(400, "request body must be JSON")

    async def register(self, request: Request) -> Response:
        """A paired node announces its platform and capabilities."""
        trusted = self._trusted(request)
        if isinstance(trusted, Response):
            return trusted
        device, body = trusted
        capabilities = tuple(str(name) for name in body.get("capabilities", ()))
        self.book.register(device, str(body.get("platform", "")), capabilities)
        self.log.info("node registered", device_id=device.device_id)
        return Response.json(200, {"device_id": device.device_id})

    async def event(self, request: Request) -> Response:
        """A registered node's event: a heartbeat, or its goodbye."""
        trusted = self._trusted(request)
        if isinstance(trusted, Response):
            return trusted
        device, body = trusted
        self.book.heartbeat(device, str(body.get("event", "node.heartbeat")))
        return Response.json(200, {})


def _error(status: int, message: str) -> Response:
    return Response.json(status, {"error": message})
