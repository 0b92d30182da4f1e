"""The reference gateway's node pairing: codes, pairing requests and paired devices.

palyrad's pairing, as its console and node RPC show it: an operator mints a
single-use PIN, a node presents it with its device id, the gateway files a
pairing request and a ``device_pairing`` approval (deny by default), and once
an operator approves either, the node collects its client certificate and is a
trusted device.  A node that registers and sends heartbeats is present; one
whose last heartbeat is old is stale, then offline.  Paired devices are kept in
a file of the gateway's state root, so they survive its restarts as palyrad's do.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from palyra_tui.models.ids import new_ulid
from palyra_tui.sim.logs import now_ms
from palyra_tui.sim.store import Identity, SimApproval, Store

DEFAULT_CODE_TTL_MS = 10 * 60 * 1000
MIN_CODE_TTL_MS = 30 * 1000
MAX_CODE_TTL_MS = 24 * 60 * 60 * 1000
REQUEST_TTL_MS = 10 * 60 * 1000
CERT_TTL_MS = 30 * 24 * 60 * 60 * 1000
STALE_AFTER_MS = 5 * 60 * 1000
OFFLINE_AFTER_MS = 30 * 60 * 1000
PAIRING_PRINCIPAL = "system:node-pairing"
PAIRING_POLICY = (
    "Node/device pairing is deny-by-default until an operator explicitly approves the request."
)


class PairingRefused(Exception):
    """A pairing step the gateway refuses, with palyrad's sentence and HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class PairingCode:
    """A minted code: usable once, until it expires."""

    code: str
    method: str
    issued_by: str
    created_ms: int
    expires_ms: int


@dataclass(slots=True)
class PairingRequest:
    """A node's request to pair, and where the operator's decision stands."""

    request_id: str
    session_id: str
    device_id: str
    method: str
    code_issued_by: str
    requested_ms: int
    expires_ms: int
    approval_id: str
    identity_fingerprint: str
    transcript_hash_hex: str
    state: str = "pending_approval"
    decision_reason: str = ""
    certificate: str = ""
    cert_expires_ms: int = 0


@dataclass(slots=True)
class NodePresence:
    """What a registered node last said."""

    platform: str
    capabilities: tuple[str, ...]
    registered_ms: int
    last_seen_ms: int
    last_event: str = "node.registered"


@dataclass(slots=True)
class Device:
    """A paired device."""

    device_id: str
    approval_id: str
    issued_by: str
    identity_fingerprint: str
    transcript_hash_hex: str
    paired_ms: int
    updated_ms: int
    certificate: str
    cert_expires_ms: int
    status: str = "paired"
    node: NodePresence | None = None


@dataclass(slots=True)
class PairingBook:
    """Codes, requests and devices of one gateway, over its approvals journal."""

    store: Store
    path: Path | None = None
    """Where paired devices are kept (None: in memory only)."""
    codes: dict[str, PairingCode] = field(default_factory=dict)
    requests: dict[str, PairingRequest] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.path is None or not self.path.is_file():
            return
        try:
            kept = json.loads(self.path.read_text(encoding="utf-8"))
            for record in kept:
                record.pop("node", None)
                device = Device(**record)
                self.devices[device.device_id] = device
        except (OSError, ValueError, TypeError):
            self.devices.clear()

    def _keep(self) -> None:
        if self.path is None:
            return
        records = [
            {k: v for k, v in dataclasses.asdict(d).items() if k != "node"}
            for d in self.devices.values()
        ]
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(records, handle)
        os.replace(temp, self.path)

    def mint(self, method: str, issued_by: str, ttl_ms: int | None) -> PairingCode:
        """A new code for ``method`` (``pin``: six digits; ``qr``: a ULID)."""
        now = now_ms()
        ttl = min(max(ttl_ms or DEFAULT_CODE_TTL_MS, MIN_CODE_TTL_MS), MAX_CODE_TTL_MS)
        code = f"{secrets.randbelow(1_000_000):06d}" if method == "pin" else new_ulid()
        record = PairingCode(code, method, issued_by, now, now + ttl)
        self.codes[code] = record
        return record

    def active_codes(self) -> list[PairingCode]:
        """Codes not yet used or expired, oldest first."""
        self._prune()
        return sorted(self.codes.values(), key=lambda record: record.created_ms)

    def begin(self, device_id: str, method: str, code: str, fingerprint: str) -> PairingRequest:
        """A node presents ``code``: file its request and the approval that decides it."""
        self._prune()
        record = self.codes.get(code)
        if record is None or record.method != method:
            raise PairingRefused(403, "pairing code is invalid, expired or already used")
        del self.codes[code]
        now = now_ms()
        session_id = new_ulid()
        transcript = hashlib.sha256(f"{session_id}:{device_id}:{fingerprint}".encode()).hexdigest()
        approval = self._file_approval(session_id, device_id, method, fingerprint, transcript)
        request = PairingRequest(
            request_id=new_ulid(),
            session_id=session_id,
            device_id=device_id,
            method=method,
            code_issued_by=record.issued_by,
            requested_ms=now,
            expires_ms=now + REQUEST_TTL_MS,
            approval_id=approval.approval_id,
            identity_fingerprint=fingerprint,
            transcript_hash_hex=transcript,
        )
        self.requests[request.request_id] = request
        return request

    def decide(self, request: PairingRequest, approved: bool, reason: str) -> None:
        """Apply an operator's decision to a pending request (its approval is resolved too)."""
        if request.state != "pending_approval":
            raise PairingRefused(409, f"pairing request is already {request.state}")
        approval = self.store.approvals.get(request.approval_id)
        if approval is not None and approval.pending:
            decision = "allow" if approved else "deny"
            self.store.resolve_approval(approval, decision, "once", reason)
        self.apply(request.approval_id, approved, reason)

    def apply(self, approval_id: str, approved: bool, reason: str) -> bool:
        """The approval ``approval_id`` was decided; False when no request waits on it."""
        request = next((r for r in self.requests.values() if r.approval_id == approval_id), None)
        if request is None or request.state != "pending_approval":
            return False
        request.decision_reason = reason
        if not approved:
            request.state = "rejected"
            return True
        request.state = "approved"
        request.certificate = secrets.token_urlsafe(24)
        request.cert_expires_ms = now_ms() + CERT_TTL_MS
        return True

    def collect(self, request_id: str) -> PairingRequest | None:
        """A node polls its request: an approved one hands over the certificate once."""
        self._prune()
        request = self.requests.get(request_id)
        if request is None or request.state != "approved":
            return request
        now = now_ms()
        request.state = "completed"
        self.devices[request.device_id] = Device(
            device_id=request.device_id,
            approval_id=request.approval_id,
            issued_by=request.code_issued_by,
            identity_fingerprint=request.identity_fingerprint,
            transcript_hash_hex=request.transcript_hash_hex,
            paired_ms=now,
            updated_ms=now,
            certificate=request.certificate,
            cert_expires_ms=request.cert_expires_ms,
        )
        self._keep()
        return request

    def device_with(self, certificate: str) -> Device | None:
        """The paired device a client certificate belongs to."""
        if not certificate:
            return None
        for device in self.devices.values():
            if device.status == "paired" and secrets.compare_digest(
                device.certificate, certificate
            ):
                return device
        return None

    def register(self, device: Device, node_platform: str, capabilities: tuple[str, ...]) -> None:
        """A paired node announced itself."""
        now = now_ms()
        device.node = NodePresence(
            node_platform or platform.system().lower(), capabilities, now, now
        )
        device.updated_ms = now

    def heartbeat(self, device: Device, event: str) -> None:
        """A registered node is alive (``node.stopping`` takes it offline at once)."""
        if device.node is None:
            return
        device.node.last_seen_ms = now_ms()
        device.node.last_event = event
        if event == "node.stopping":
            device.node.last_seen_ms = 0

    def pending(self) -> list[PairingRequest]:
        """Requests still waiting for a decision or for their node, oldest first."""
        self._prune()
        return sorted(
            (r for r in self.requests.values() if r.state in ("pending_approval", "approved")),
            key=lambda record: record.requested_ms,
        )

    def _file_approval(
        self, session_id: str, device_id: str, method: str, fingerprint: str, transcript: str
    ) -> SimApproval:
        details = {
            "session_id": session_id,
            "device_id": device_id,
            "client_kind": "node",
            "method": method,
            "identity_fingerprint": fingerprint,
            "transcript_hash_hex": transcript,
        }
        approval = SimApproval(
            approval_id=new_ulid(),
            session_id=session_id,
            run_id=new_ulid(),
            owner=Identity(PAIRING_PRINCIPAL, device_id, "node"),
            requested_ms=now_ms(),
            subject_id=f"device_pairing:{session_id}:{device_id}",
            request_summary=(
                f"device_id={device_id} client_kind=node method={method} approval_required=true"
            ),
            tool_name="",
            input_json="{}",
            risk="high",
            timeout_seconds=REQUEST_TTL_MS // 1000,
            details_json=json.dumps(details, separators=(",", ":")),
            subject_type="device_pairing",
            title=f"Approve device pairing for {device_id}",
            summary=f"Device `{device_id}` requested node pairing with method `{method}`",
            policy_explanation=PAIRING_POLICY,
        )
        self.store.approvals[approval.approval_id] = approval
        return approval

    def _prune(self) -> None:
        now = now_ms()
        for code in [c for c, record in self.codes.items() if record.expires_ms <= now]:
            del self.codes[code]
        for request in self.requests.values():
            if request.state in ("pending_approval", "approved") and request.expires_ms <= now:
                request.state = "expired"


def presence(device: Device, now: int) -> str:
    """palyrad's presence: ok, stale after 5 minutes of silence, offline after 30."""
    if device.status != "paired" or device.node is None:
        return "offline"
    age = now - device.node.last_seen_ms
    if age >= OFFLINE_AFTER_MS:
        return "offline"
    return "stale" if age >= STALE_AFTER_MS else "ok"
