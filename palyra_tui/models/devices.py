"""The gateway's devices and node pairing, and the local node host, as typed values.

The inventory is ``GET /console/v1/inventory``; pairing requests are
``/console/v1/pairing/requests``; the node host's own state is what
``palyra node status --json`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from palyra_tui.models.device_states import NodeAction, PairingState, Presence, TrustState

__all__ = [
    "Capability",
    "Device",
    "Inventory",
    "NodeAction",
    "NodeOutcome",
    "NodeStatus",
    "PairingCode",
    "PairingRequest",
    "PairingState",
    "Presence",
    "TrustState",
]


@dataclass(frozen=True, slots=True)
class Capability:
    """One capability a node offers."""

    name: str
    available: bool
    execution_mode: str = ""


@dataclass(frozen=True, slots=True)
class Device:
    """One device the gateway knows."""

    device_id: str
    client_kind: str = ""
    status: str = ""
    trust: TrustState = TrustState.UNKNOWN
    presence: Presence = Presence.OFFLINE
    paired_at_ms: int = 0
    last_seen_at_ms: int = 0
    heartbeat_age_ms: int | None = None
    platform: str = ""
    capabilities: tuple[Capability, ...] = ()
    warnings: tuple[str, ...] = ()
    pending_pairings: int = 0
    identity_fingerprint: str = ""
    cert_expires_at_ms: int = 0
    last_event: str = ""


@dataclass(frozen=True, slots=True)
class PairingRequest:
    """A device's request to pair."""

    request_id: str
    device_id: str
    state: PairingState
    client_kind: str = ""
    method: str = ""
    approval_id: str = ""
    requested_at_ms: int = 0
    expires_at_ms: int = 0
    identity_fingerprint: str = ""
    code_issued_by: str = ""


@dataclass(frozen=True, slots=True)
class Inventory:
    """The gateway's devices and the pairings still open, as of ``generated_at_ms``."""

    generated_at_ms: int = 0
    devices: tuple[Device, ...] = ()
    pending_pairings: tuple[PairingRequest, ...] = ()
    trusted_devices: int = 0
    truncated: int = 0
    """Devices beyond the first 16, which are not listed."""


@dataclass(frozen=True, slots=True)
class PairingCode:
    """A single-use pairing code (a secret until used: never logged)."""

    code: str = field(default="", repr=False)
    method: str = ""
    expires_at_ms: int = 0


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """``palyra node status --json``: the local node host's configuration and pairing."""

    installed: bool = False
    paired: bool = False
    device_id: str = ""
    grpc_url: str = ""
    cert_expires_at_ms: int = 0
    detail: str = ""


@dataclass(frozen=True, slots=True)
class NodeOutcome:
    """What an action on the node host did, in one sentence, and where it stands now."""

    action: NodeAction
    status: NodeStatus
    detail: str
    gateway_restarted: bool = False
    """The gateway was restarted for the pairing window (and again after it)."""


def restart_warning() -> str:
    """What enrolment does to the gateway, for the operator to confirm."""
    return (
        "enrolling restarts the gateway twice: once with client certificates not required on "
        "its node RPC (still on loopback only) so the node can pair, and once more with them "
        "required; runs in flight are cut"
    )
