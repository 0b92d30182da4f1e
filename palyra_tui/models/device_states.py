"""The states a device, a pairing and the node host can be in, and what an operator asks
of the node host.

Apart from :mod:`palyra_tui.models.devices` so that the Health pane, which names them
in its keys and its devices panel, does not build the device records before the first
frame.
"""

from __future__ import annotations

import enum


class TrustState(enum.Enum):
    """Whether the gateway trusts a device."""

    TRUSTED = "trusted"
    PENDING = "pending"
    REVOKED = "revoked"
    REMOVED = "removed"
    LEGACY = "legacy"
    UNKNOWN = "unknown"


class Presence(enum.Enum):
    """How recently a device was heard from: ok, stale after 5 minutes, offline after 30."""

    OK = "ok"
    STALE = "stale"
    DEGRADED = "degraded"
    OFFLINE = "offline"


class PairingState(enum.Enum):
    """Where a pairing request stands."""

    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    COMPLETED = "completed"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class NodeAction(enum.Enum):
    """What an operator asks of the local node host."""

    STATUS = "status"
    ENROLL = "enroll"
    REPAIR = "repair"
    RESET = "reset"
