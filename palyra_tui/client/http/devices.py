"""The console API's devices and node pairing: the inventory, pairing codes and requests.

Every string the gateway sends is reduced to one printable line; a pairing
code travels in one request and one answer and is never put in an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from palyra_tui.client.http.gateway_http import GatewayHttp
from palyra_tui.client.json_fields import choice as _enum
from palyra_tui.client.json_fields import integer as _int
from palyra_tui.client.json_fields import items as _list
from palyra_tui.client.json_fields import line as _str
from palyra_tui.client.json_fields import lines
from palyra_tui.client.json_fields import obj as _obj
from palyra_tui.client.json_fields import segment as _segment
from palyra_tui.models.devices import (
    Capability,
    Device,
    Inventory,
    PairingCode,
    PairingRequest,
    PairingState,
    Presence,
    TrustState,
)

PAIRING_PATH = "/console/v1/pairing/requests"
MAX_DEVICES = 16
"""The inventory lists the first 16 devices; the rest are counted."""


async def inventory(http: GatewayHttp) -> Inventory:
    """``GET /console/v1/inventory``."""
    document = await http.console("GET", "/console/v1/inventory", what="the device inventory")
    devices = [_device(item) for item in _list(document, "devices")]
    summary = _obj(document, "summary")
    return Inventory(
        generated_at_ms=_int(document, "generated_at_unix_ms"),
        devices=tuple(devices[:MAX_DEVICES]),
        pending_pairings=tuple(_request(item) for item in _list(document, "pending_pairings")),
        trusted_devices=_int(summary, "trusted_devices"),
        truncated=max(0, len(devices) - MAX_DEVICES),
    )


async def pairing_requests(
    http: GatewayHttp, *, client_kind: str = "node", state: str = "pending_approval"
) -> tuple[PairingRequest, ...]:
    """``GET /console/v1/pairing/requests`` filtered by client kind and state."""
    document = await http.console(
        "GET",
        PAIRING_PATH,
        params={"client_kind": client_kind, "state": state},
        what="the pairing requests",
    )
    return tuple(_request(item) for item in _list(document, "requests"))


async def mint_pairing_code(http: GatewayHttp, *, issued_by: str, ttl_ms: int) -> PairingCode:
    """``POST /console/v1/pairing/requests/code``: a PIN for one node to pair with."""
    document = await http.console(
        "POST",
        f"{PAIRING_PATH}/code",
        body={"method": "pin", "issued_by": issued_by, "ttl_ms": ttl_ms},
        what="a pairing code",
    )
    code = _obj(document, "code")
    return PairingCode(
        code=_str(code, "code"),
        method=_str(code, "method"),
        expires_at_ms=_int(code, "expires_at_unix_ms"),
    )


async def approve_pairing(http: GatewayHttp, request_id: str, reason: str) -> PairingRequest:
    """``POST /console/v1/pairing/requests/{id}/approve``."""
    return await _decide(http, request_id, "approve", reason)


async def reject_pairing(http: GatewayHttp, request_id: str, reason: str) -> PairingRequest:
    """``POST /console/v1/pairing/requests/{id}/reject``."""
    return await _decide(http, request_id, "reject", reason)


async def _decide(http: GatewayHttp, request_id: str, verb: str, reason: str) -> PairingRequest:
    document = await http.console(
        "POST",
        f"{PAIRING_PATH}/{_segment(request_id)}/{verb}",
        body={"reason": reason},
        what=f"the pairing request's {verb}",
    )
    return _request(_obj(document, "request"))


def _device(item: Mapping[str, Any]) -> Device:
    age = item.get("heartbeat_age_ms")
    return Device(
        device_id=_str(item, "device_id"),
        client_kind=_str(item, "client_kind"),
        status=_str(item, "device_status"),
        trust=_enum(TrustState, _str(item, "trust_state"), TrustState.UNKNOWN),
        presence=_enum(Presence, _str(item, "presence_state"), Presence.OFFLINE),
        paired_at_ms=_int(item, "paired_at_unix_ms"),
        last_seen_at_ms=_int(item, "last_seen_at_unix_ms"),
        heartbeat_age_ms=age if isinstance(age, int) and not isinstance(age, bool) else None,
        platform=_str(item, "platform"),
        capabilities=tuple(
            Capability(
                name=_str(entry, "name"),
                available=entry.get("available") is True,
                execution_mode=_str(entry, "execution_mode"),
            )
            for entry in _list(item, "capabilities")
        ),
        warnings=lines(item, "warnings"),
        pending_pairings=_int(item, "pending_pairings"),
        identity_fingerprint=_str(item, "identity_fingerprint"),
        cert_expires_at_ms=_int(item, "current_certificate_expires_at_unix_ms"),
        last_event=_str(item, "last_event_name"),
    )


def _request(item: Mapping[str, Any]) -> PairingRequest:
    return PairingRequest(
        request_id=_str(item, "request_id"),
        device_id=_str(item, "device_id"),
        state=_enum(PairingState, _str(item, "state"), PairingState.UNKNOWN),
        client_kind=_str(item, "client_kind"),
        method=_str(item, "method"),
        approval_id=_str(item, "approval_id"),
        requested_at_ms=_int(item, "requested_at_unix_ms"),
        expires_at_ms=_int(item, "expires_at_unix_ms"),
        identity_fingerprint=_str(item, "identity_fingerprint"),
        code_issued_by=_str(item, "code_issued_by"),
    )
