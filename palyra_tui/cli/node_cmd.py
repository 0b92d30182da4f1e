"""``palyra-tui node status|enroll|repair|reset`` and ``palyra-tui devices``.

The runtime host does the work: it owns the gateway that enrolment restarts and
the node host it starts.  Enrolment restarts the gateway twice when its node RPC
requires client certificates; that needs ``--yes``, or a ``y`` typed at the
question on a terminal.  Reset always asks (or takes ``--yes``).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TYPE_CHECKING, Any

from palyra_tui.cli.exits import EXIT_CONFLICT, EXIT_ERROR, EXIT_OK, say
from palyra_tui.cli.failures import CommandFailed
from palyra_tui.cli.formats import dump
from palyra_tui.models.devices import (
    Device,
    Inventory,
    NodeAction,
    NodeOutcome,
    restart_warning,
)
from palyra_tui.text import visible

if TYPE_CHECKING:
    from palyra_tui.config import Config

ACTIONS = {action.value: action for action in NodeAction}


def add_node_commands(commands: Any, common: Any, config_help: str) -> None:
    """``node`` and ``devices``; ``common`` adds --json and --config to a parser."""
    node = commands.add_parser(
        "node",
        prog="palyra-tui node",
        help="enrol, repair, reset or check the local node host",
        description="status: what `palyra node status` says. enroll: pair the node host with "
        "the gateway palyra-tui supervises and start it (the gateway is restarted twice when "
        "its node RPC requires client certificates: once without, for the pairing, once "
        "with). repair: uninstall, then enrol again. reset: stop the node host and remove "
        "its configuration and identity. Exits 0 when done, 1 when refused or failed, 6 when "
        "a question was answered no, 4 when no runtime host runs.",
    )
    node.add_argument("action", choices=sorted(ACTIONS), metavar="ACTION")
    node.add_argument(
        "--yes",
        action="store_true",
        help="agree without being asked: enroll and repair restart the gateway, reset "
        "removes the node host's identity",
    )
    common(node, config_help)
    devices = commands.add_parser(
        "devices",
        prog="palyra-tui devices",
        help="the gateway's devices and open pairings",
        description="List the devices the gateway knows (kind, trust, presence, last seen, "
        "capabilities, warnings) and the pairing requests still open. Exits 0, 1 when the "
        "gateway cannot be asked, 4 when no runtime host runs.",
    )
    common(devices, config_help)


async def run_node(config: Config, action_name: str, *, yes: bool, as_json: bool) -> int:
    """Do one node host action through the runtime host."""
    from palyra_tui.cli.connect import client_for
    from palyra_tui.host.remote import SocketRuntime
    from palyra_tui.state.runtime_api import NodeHostRefused

    action = ACTIONS[action_name]
    if action is NodeAction.RESET and not yes and not await _agree("reset the node host"):
        say("nothing was changed")
        return EXIT_CONFLICT
    client = client_for(config, f"node {action_name}")
    try:
        await client.connect()
        runtime = SocketRuntime(client)
        try:
            outcome = await runtime.node_host(action, restart_confirmed=yes)
        except NodeHostRefused as refused:
            if yes or str(refused) != restart_warning():
                raise
            if not await _agree(str(refused)):
                raise CommandFailed("nothing was changed", EXIT_CONFLICT) from None
            outcome = await runtime.node_host(action, restart_confirmed=True)
    except NodeHostRefused as refused:
        raise CommandFailed(str(refused), EXIT_ERROR) from None
    finally:
        await client.close()
    sys.stdout.write(dump(_outcome_json(outcome)) if as_json else f"{outcome.detail}\n")
    sys.stdout.flush()
    return EXIT_OK


async def run_devices(config: Config, *, as_json: bool) -> int:
    """Print the gateway's devices through the runtime host."""
    from palyra_tui.cli.connect import client_for
    from palyra_tui.host.remote import SocketRuntime
    from palyra_tui.state.runtime_api import NodeHostRefused

    client = client_for(config, "devices")
    try:
        await client.connect()
        inventory = await SocketRuntime(client).devices()
    except NodeHostRefused as refused:
        raise CommandFailed(str(refused), EXIT_ERROR) from None
    finally:
        await client.close()
    sys.stdout.write(dump(_inventory_json(inventory)) if as_json else _inventory_text(inventory))
    sys.stdout.flush()
    return EXIT_OK


async def _agree(question: str) -> bool:
    """Ask on a terminal; anything but y (or no terminal) is no."""
    if not sys.stdin.isatty():
        say(f"{question}: pass --yes to agree")
        return False
    answer = await asyncio.to_thread(input, f"palyra-tui: {visible(question)}. Go on? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _outcome_json(outcome: NodeOutcome) -> dict[str, object]:
    status = outcome.status
    return {
        "action": outcome.action.value,
        "detail": outcome.detail,
        "gateway_restarted": outcome.gateway_restarted,
        "installed": status.installed,
        "paired": status.paired,
        "device_id": status.device_id or None,
        "grpc_url": status.grpc_url or None,
        "cert_expires_at_unix_ms": status.cert_expires_at_ms or None,
    }


def _device_json(device: Device) -> dict[str, object]:
    return {
        "device_id": device.device_id,
        "client_kind": device.client_kind,
        "trust_state": device.trust.value,
        "presence_state": device.presence.value,
        "last_seen_at_unix_ms": device.last_seen_at_ms or None,
        "platform": device.platform or None,
        "capabilities": [c.name for c in device.capabilities],
        "warnings": list(device.warnings),
    }


def _inventory_json(inventory: Inventory) -> dict[str, object]:
    return {
        "generated_at_unix_ms": inventory.generated_at_ms,
        "devices": [_device_json(device) for device in inventory.devices],
        "not_listed": inventory.truncated,
        "pending_pairings": [
            {
                "request_id": r.request_id,
                "device_id": r.device_id,
                "state": r.state.value,
                "approval_id": r.approval_id,
                "requested_at_unix_ms": r.requested_at_ms,
            }
            for r in inventory.pending_pairings
        ],
    }


def _inventory_text(inventory: Inventory) -> str:
    if not inventory.devices and not inventory.pending_pairings:
        return "the gateway knows no devices\n"
    rows = []
    now_ms = time.time() * 1000
    for device in inventory.devices:
        seen = (
            f"seen {max(0, round((now_ms - device.last_seen_at_ms) / 1000))} s ago"
            if device.last_seen_at_ms
            else "never seen"
        )
        capabilities = ", ".join(c.name for c in device.capabilities) or "no capabilities"
        rows.append(
            f"{device.device_id}  {device.client_kind or '?'}  {device.trust.value}  "
            f"{device.presence.value}  {seen}  {capabilities}"
        )
        rows.extend(f"    warning: {warning}" for warning in device.warnings)
    if inventory.truncated:
        rows.append(f"… and {inventory.truncated} more devices not listed")
    rows.extend(
        f"pairing {r.request_id}  device {r.device_id}  {r.state.value}"
        for r in inventory.pending_pairings
    )
    return "\n".join(visible(row) for row in rows) + "\n"
