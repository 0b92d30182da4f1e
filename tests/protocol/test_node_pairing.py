"""Node pairing against the reference gateway, through palyra-tui's own clients: the
console's pairing routes and inventory, and ``palyra node`` (the reference one) run by
:class:`NodeCli`, as the runtime does it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from palyra_tui.client.http import GatewayHttp
from palyra_tui.client.http.devices import (
    approve_pairing,
    inventory,
    mint_pairing_code,
    pairing_requests,
)
from palyra_tui.client.node_cli import NodeCli, NodeCliError
from palyra_tui.models.devices import NodeStatus, PairingRequest, PairingState, Presence, TrustState
from palyra_tui.models.gateway import ApprovalAnswer, SubjectType
from palyra_tui.text import Redactor
from tests.protocol.conftest import Launch, SimGateway

INSECURE = {"PALYRA_ALLOW_INSECURE_NODE_RPC_WITHOUT_MTLS": "true"}
NODE = (sys.executable, "-m", "palyra_tui", "sim", "node")
DEVICE = "01J0NODE00000000000000000A"


def node_cli(root: Path) -> NodeCli:
    return NodeCli(NODE, root, dict(os.environ))


async def pending_for(http: GatewayHttp, device_id: str) -> PairingRequest:
    async def found() -> PairingRequest | None:
        return next((r for r in await pairing_requests(http) if r.device_id == device_id), None)

    request = None
    async with asyncio.timeout(60):
        while request is None:
            request = await found()
            if request is None:
                await asyncio.sleep(0.05)
    return request


async def install(
    cli: NodeCli, gateway: SimGateway, code: str, device_id: str = DEVICE
) -> NodeStatus:
    return await cli.install(
        device_id=device_id,
        grpc_url=f"https://{gateway.node_rpc_addr}",
        pairing_code=code,
        redactor=Redactor(),
    )


@pytest.fixture
async def running_node() -> AsyncIterator[Callable[[Path], subprocess.Popen[str]]]:
    """``running_node(root)`` starts ``palyra node run --json`` (reference), stopped after."""
    started: list[subprocess.Popen[str]] = []

    def start(root: Path) -> subprocess.Popen[str]:
        env = {**os.environ, "PALYRA_STATE_ROOT": str(root)}
        started.append(
            subprocess.Popen(
                [*NODE, "run", "--json", "--poll-interval-ms", "100"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


async def test_a_node_pairs_with_a_pin_and_becomes_a_trusted_present_device(
    sim: Launch,
    http_clients: Callable[..., GatewayHttp],
    tmp_path: Path,
    running_node: Callable[[Path], subprocess.Popen[str]],
) -> None:
    gateway = sim(env=INSECURE)
    http = http_clients(gateway)
    cli = node_cli(tmp_path)
    assert await cli.status() == NodeStatus(detail="node host status snapshot")

    code = await mint_pairing_code(http, issued_by="admin:palyra-tui", ttl_ms=600_000)
    assert code.method == "pin" and len(code.code) == 6 and code.code not in repr(code)
    installing = asyncio.create_task(install(cli, gateway, code.code))
    request = await pending_for(http, DEVICE)
    assert request.state is PairingState.PENDING_APPROVAL and request.approval_id
    approved = await approve_pairing(http, request.request_id, "palyra_tui_enroll")
    assert approved.state is PairingState.APPROVED
    status = await installing
    assert status.installed and status.paired and status.device_id == DEVICE
    assert status.cert_expires_at_ms > 0
    assert (tmp_path / "node-host" / "node-host.json").is_file()

    node = running_node(tmp_path)

    async def present() -> bool:
        devices = (await inventory(http)).devices
        return bool(devices) and devices[0].presence is Presence.OK

    async with asyncio.timeout(60):
        while not await present():
            await asyncio.sleep(0.05)
    listed = await inventory(http)
    (device,) = listed.devices
    assert device.device_id == DEVICE and device.trust is TrustState.TRUSTED
    assert len(device.capabilities) == 5 and device.warnings == ()
    assert listed.pending_pairings == () and listed.trusted_devices == 1

    node.send_signal(signal.SIGINT)
    out, _ = node.communicate(timeout=30)
    assert node.returncode == 0
    document = json.loads(out)
    assert document["action"] == "run" and document["device_id"] == DEVICE
    assert document["paired"] is True and document["capability_count"] == 5
    assert "\n" in out.strip()
    (gone,) = (await inventory(http)).devices
    assert gone.presence is Presence.OFFLINE and gone.last_event == "node.stopping"


async def test_without_the_opt_out_the_node_rpc_hangs_up_on_a_node_with_no_certificate(
    sim: Launch, http_clients: Callable[..., GatewayHttp], tmp_path: Path
) -> None:
    gateway = sim()
    http = http_clients(gateway)
    code = await mint_pairing_code(http, issued_by="admin:palyra-tui", ttl_ms=600_000)
    with pytest.raises(NodeCliError) as failed:
        await install(node_cli(tmp_path), gateway, code.code)
    assert failed.value.kind == "connectivity_failure"
    assert "transport error: broken pipe" in str(failed.value)
    assert code.code not in str(failed.value)
    assert await pairing_requests(http) == ()


async def test_a_pairing_denied_in_the_approvals_inbox_fails_the_install(
    sim: Launch, http_clients: Callable[..., GatewayHttp], tmp_path: Path
) -> None:
    gateway = sim(env=INSECURE)
    http = http_clients(gateway)
    code = await mint_pairing_code(http, issued_by="admin:palyra-tui", ttl_ms=600_000)
    installing = asyncio.create_task(install(node_cli(tmp_path), gateway, code.code))
    request = await pending_for(http, DEVICE)
    page = await http.list_approvals()
    (approval,) = [a for a in page.approvals if a.approval_id == request.approval_id]
    assert approval.subject_type is SubjectType.DEVICE_PAIRING and approval.pending
    assert approval.prompt.title == f"Approve device pairing for {DEVICE}"
    assert DEVICE in approval.prompt.details_json

    await http.decide_approval(approval.approval_id, ApprovalAnswer.deny("not mine"))
    with pytest.raises(NodeCliError) as failed:
        await installing
    assert failed.value.kind == "policy_denial" and "rejected" in str(failed.value)
    assert (await inventory(http)).devices == ()


async def test_a_code_is_used_once_and_paired_devices_outlive_a_gateway_restart(
    sim: Launch, http_clients: Callable[..., GatewayHttp], tmp_path: Path
) -> None:
    state = {**INSECURE, "PALYRA_STATE_ROOT": str(tmp_path / "gateway")}
    gateway = sim(env=state)
    http = http_clients(gateway)
    code = await mint_pairing_code(http, issued_by="admin:palyra-tui", ttl_ms=600_000)
    installing = asyncio.create_task(install(node_cli(tmp_path / "a"), gateway, code.code))
    request = await pending_for(http, DEVICE)
    await approve_pairing(http, request.request_id, "palyra_tui_enroll")
    await installing

    other = "01J0NODE00000000000000000B"
    with pytest.raises(NodeCliError) as reused:
        await install(node_cli(tmp_path / "b"), gateway, code.code, other)
    assert reused.value.kind == "auth_failure"
    assert code.code not in str(reused.value)

    gateway.stop()
    again = sim(env=state)
    devices = (await inventory(http_clients(again))).devices
    assert [d.device_id for d in devices] == [DEVICE]
    assert devices[0].trust is TrustState.TRUSTED and devices[0].presence is Presence.OFFLINE
    assert "node runtime has not registered this paired device" in devices[0].warnings
