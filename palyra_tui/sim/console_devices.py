"""The reference gateway's console routes for node pairing and the device inventory.

``/console/v1/pairing/requests`` (list, mint a code, approve, reject) and
``/console/v1/inventory``, in palyrad's shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from palyra_tui.sim.http_server import Request, Response, Router
from palyra_tui.sim.logs import now_ms
from palyra_tui.sim.pairing import (
    Device,
    PairingBook,
    PairingCode,
    PairingRefused,
    PairingRequest,
    presence,
)
from palyra_tui.sim.store import ConsoleLogin, valid_ulid

Guard = Callable[[Request, bool], "ConsoleLogin | Response"]
Fail = Callable[[int, str], Response]
CONTRACT = {"contract_version": "control-plane.v1"}
CAPABILITIES_LOCAL = frozenset({"desktop.open_url", "desktop.open_path"})


class DeviceRoutes:
    """Pairing and inventory handlers over one :class:`PairingBook`."""

    def __init__(self, book: PairingBook, guard: Guard, fail: Fail) -> None:
        self.book = book
        self._guard = guard
        self._fail = fail

    def add_to(self, router: Router) -> None:
        """Register every route."""
        router.add("GET", "/console/v1/pairing/requests", self.list_requests)
        router.add("POST", "/console/v1/pairing/requests/code", self.mint)
        router.add("POST", "/console/v1/pairing/requests/{request_id}/approve", self.approve)
        router.add("POST", "/console/v1/pairing/requests/{request_id}/reject", self.reject)
        router.add("GET", "/console/v1/inventory", self.inventory)

    async def list_requests(self, request: Request) -> Response:
        """``GET /console/v1/pairing/requests``, filtered by ``state`` and ``client_kind``."""
        login = self._guard(request, False)
        if isinstance(login, Response):
            return login
        state = request.query.get("state", request.query.get("status", "")).strip()
        kind = request.query.get("client_kind", "").strip()
        self.book.active_codes()
        records = [
            r
            for r in sorted(self.book.requests.values(), key=lambda r: r.requested_ms)
            if (not state or r.state == state) and (not kind or kind == "node")
        ]
        return Response.json(
            200,
            {
                "contract": CONTRACT,
                "codes": [_code(code) for code in self.book.active_codes()],
                "requests": [_request(record) for record in records[:100]],
                "page": {"limit": 100, "returned": min(len(records), 100), "has_more": False},
            },
        )

    async def mint(self, request: Request) -> Response:
        """``POST /console/v1/pairing/requests/code``: ``{method, issued_by?, ttl_ms?}``."""
        login = self._guard(request, True)
        if isinstance(login, Response):
            return login
        try:
            body = request.json()
        except ValueError:
            return self._fail(400, "request body must be JSON")
        method = body.get("method")
        if method not in ("pin", "qr"):
            return self._fail(400, "method must be pin or qr")
        ttl = body.get("ttl_ms")
        if ttl is not None and (not isinstance(ttl, int) or ttl <= 0):
            return self._fail(400, "ttl_ms must be a positive integer")
        issued_by = str(body.get("issued_by") or login.identity.principal)
        code = self.book.mint(method, issued_by, ttl)
        return Response.json(200, {"contract": CONTRACT, "code": _code(code)})

    async def approve(self, request: Request) -> Response:
        """``POST /console/v1/pairing/requests/{id}/approve``."""
        return self._decide(request, approved=True)

    async def reject(self, request: Request) -> Response:
        """``POST /console/v1/pairing/requests/{id}/reject``."""
        return self._decide(request, approved=False)

    def _decide(self, request: Request, *, approved: bool) -> Response:
        login = self._guard(request, True)
        if isinstance(login, Response):
            return login
        request_id = request.params["request_id"]
        if not valid_ulid(request_id):
            return self._fail(400, "request_id must be a canonical ULID")
        record = self.book.requests.get(request_id)
        if record is None:
            return self._fail(404, "pairing request was not found")
        try:
            body = request.json()
        except ValueError:
            return self._fail(400, "request body must be JSON")
        default = "approved_by_operator" if approved else "rejected_by_operator"
        reason = str(body.get("reason") or "").strip() or default
        try:
            self.book.decide(record, approved, reason)
        except PairingRefused as refused:
            return self._fail(refused.status, str(refused))
        return Response.json(200, {"contract": CONTRACT, "request": _request(record)})

    async def inventory(self, request: Request) -> Response:
        """``GET /console/v1/inventory``: devices, pending pairings and a summary."""
        login = self._guard(request, False)
        if isinstance(login, Response):
            return login
        now = now_ms()
        pending = self.book.pending()
        devices = [
            _device(device, pending, now)
            for device in sorted(self.book.devices.values(), key=lambda d: d.paired_ms)
        ]
        summary: dict[str, int] = {
            "devices": len(devices),
            "trusted_devices": sum(1 for d in devices if d["trust_state"] == "trusted"),
            "pending_pairings": len(pending),
        }
        for state in ("ok", "stale", "degraded", "offline"):
            summary[f"{state}_devices"] = sum(1 for d in devices if d["presence_state"] == state)
            summary[f"{state}_instances"] = 0
        return Response.json(
            200,
            {
                "contract": CONTRACT,
                "generated_at_unix_ms": now,
                "summary": summary,
                "page": {"limit": max(1, len(devices)), "returned": len(devices)},
                "devices": devices,
                "pending_pairings": [_request(record) for record in pending],
                "instances": [],
            },
        )


def _code(code: PairingCode) -> dict[str, Any]:
    return {
        "code": code.code,
        "method": code.method,
        "issued_by": code.issued_by,
        "created_at_unix_ms": code.created_ms,
        "expires_at_unix_ms": code.expires_ms,
    }


def _request(record: PairingRequest) -> dict[str, Any]:
    return {
        "request_id": record.request_id,
        "session_id": record.session_id,
        "device_id": record.device_id,
        "client_kind": "node",
        "method": record.method,
        "code_issued_by": record.code_issued_by,
        "requested_at_unix_ms": record.requested_ms,
        "expires_at_unix_ms": record.expires_ms,
        "approval_id": record.approval_id,
        "state": record.state,
        "decision_reason": record.decision_reason or None,
        "decision_scope_ttl_ms": None,
        "identity_fingerprint": record.identity_fingerprint,
        "transcript_hash_hex": record.transcript_hash_hex,
        "cert_expires_at_unix_ms": record.cert_expires_ms or None,
    }


def _device(device: Device, pending: list[PairingRequest], now: int) -> dict[str, Any]:
    node = device.node
    state = presence(device, now)
    waiting = sum(1 for r in pending if r.device_id == device.device_id)
    capabilities = [
        {
            "name": name,
            "available": True,
            "execution_mode": "local_mediation" if name in CAPABILITIES_LOCAL else "automatic",
        }
        for name in (node.capabilities if node else ())
    ]
    warnings: list[str] = []
    if waiting:
        warnings.append(f"{waiting} pairing requests still require completion")
    if state == "stale":
        warnings.append("last node heartbeat is stale")
    elif state == "offline" and device.status == "paired":
        warnings.append("no active node heartbeat is currently visible")
    if node is None and device.status == "paired":
        warnings.append("node runtime has not registered this paired device")
    return {
        "device_id": device.device_id,
        "client_kind": "node",
        "device_status": device.status,
        "trust_state": "trusted" if device.status == "paired" else device.status,
        "presence_state": state,
        "paired_at_unix_ms": device.paired_ms,
        "updated_at_unix_ms": device.updated_ms,
        "registered_at_unix_ms": node.registered_ms if node else None,
        "last_seen_at_unix_ms": node.last_seen_ms if node and node.last_seen_ms else None,
        "heartbeat_age_ms": now - node.last_seen_ms if node and node.last_seen_ms else None,
        "latest_session_id": None,
        "pending_pairings": waiting,
        "issued_by": device.issued_by,
        "approval_id": device.approval_id,
        "identity_fingerprint": device.identity_fingerprint,
        "transcript_hash_hex": device.transcript_hash_hex,
        "current_certificate_fingerprint": None,
        "certificate_fingerprint_history": [],
        "platform": node.platform if node else None,
        "capabilities": capabilities,
        "capability_summary": {
            "total": len(capabilities),
            "available": len(capabilities),
            "unavailable": 0,
        },
        "last_event_name": node.last_event if node else None,
        "last_event_at_unix_ms": node.last_seen_ms if node and node.last_seen_ms else None,
        "current_certificate_expires_at_unix_ms": device.cert_expires_ms,
        "revoked_reason": None,
        "warnings": warnings,
        "actions": {
            "can_rotate": device.status == "paired",
            "can_revoke": device.status == "paired",
            "can_remove": device.status in ("paired", "revoked"),
            "can_invoke": node is not None and bool(capabilities),
        },
    }
