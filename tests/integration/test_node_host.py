"""``palyra-tui node`` and ``palyra-tui devices`` against a real runtime host over the
reference daemons: enrolment with its two gateway restarts, repair, reset, and a pairing
that fails without leaving the gateway's node RPC open."""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
from pathlib import Path

from palyra_tui.cli.demo import sim_command
from palyra_tui.client.http import GatewayHttp
from palyra_tui.client.http.devices import mint_pairing_code
from palyra_tui.client.identity import ClientIdentity
from palyra_tui.secrets import SecretStore
from tests.integration.cli_support import Host, Ran, StartHost, until_cli

MTLS = re.compile(r"node RPC listener initialized .*node_rpc_mtls_required=(true|false)")


def states(ran: Ran) -> dict[str, str]:
    return {s["name"]: s["state"] for s in ran.json()["services"]} if ran.out else {}


async def settle(host: Host, **wanted: str) -> dict[str, str]:
    ran = await until_cli(host.path, ("status", "--json"), lambda r: _has(states(r), wanted))
    return states(ran)


def _has(found: dict[str, str], wanted: dict[str, str]) -> bool:
    return all(found.get(name) == state for name, state in wanted.items())


async def mtls_history(host: Host) -> list[str]:
    """What each start of the gateway said of client certificates on its node RPC."""
    ran = await host.cli("logs", "gateway", "-n", "5000")
    return [m[1] for m in MTLS.finditer(ran.out)]


async def test_enrol_from_the_cli_then_repair_and_reset(cli_host: StartHost) -> None:
    host = await cli_host()
    assert (await settle(host, gateway="running"))["node_host"] == "stopped"
    ran = await host.cli("node", "status", "--json")
    assert ran.code == 0 and ran.json()["installed"] is False, ran.err

    refused = await host.cli("node", "enroll")
    assert refused.code == 6, refused.err
    assert "restarts the gateway twice" in refused.err and "--yes" in refused.err
    assert "nothing was changed" in refused.err
    assert await mtls_history(host) == ["true"]

    enrolled = await host.cli("node", "enroll", "--yes", "--json", timeout=300)
    assert enrolled.code == 0, enrolled.err
    outcome = enrolled.json()
    assert outcome["installed"] and outcome["paired"] and outcome["gateway_restarted"]
    device_id = outcome["device_id"]
    assert await mtls_history(host) == ["true", "false", "true"]
    await settle(host, gateway="running", node_host="running")

    def trusted_and_present(ran: Ran) -> bool:
        devices = ran.json()["devices"] if ran.code == 0 else []
        return [(d["device_id"], d["trust_state"], d["presence_state"]) for d in devices] == [
            (device_id, "trusted", "ok")
        ]

    listed = await until_cli(host.path, ("devices", "--json"), trusted_and_present)
    assert trusted_and_present(listed), listed.out + listed.err
    assert len(listed.json()["devices"][0]["capabilities"]) == 5
    config = host.config.runtime_root / "node-host" / "node-host.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600

    again = await host.cli("node", "enroll", "--json")
    assert again.code == 0 and again.json()["detail"] == "the node host is already enrolled"
    assert again.json()["gateway_restarted"] is False

    repaired = await host.cli("node", "repair", "--yes", "--json", timeout=300)
    assert repaired.code == 0, repaired.err
    assert repaired.json()["device_id"] == device_id and repaired.json()["paired"]
    await settle(host, gateway="running", node_host="running")

    reset = await host.cli("node", "reset", "--yes")
    assert reset.code == 0 and reset.out == "node host stopped and uninstalled\n", reset.err
    await settle(host, node_host="stopped")
    assert not config.exists()
    status = await host.cli("node", "status", "--json")
    assert status.json()["installed"] is False
    assert (await mtls_history(host))[-1] == "true"


async def test_a_failed_pairing_leaves_the_gateway_requiring_certificates(
    cli_host: StartHost, tmp_path: Path
) -> None:
    stand_in = tmp_path / "palyra-node"
    stand_in.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        '  status) printf \'{\\n  "action": "status",\\n  "installed": false,\\n'
        '  "paired": false,\\n  "detail": "node host status snapshot"\\n}\\n\' ;;\n'
        '  install) echo "error[connectivity_failure] trace_id=01X state_root=/x failed to '
        'connect node RPC endpoint: transport error: broken pipe (code ${10})" >&2; exit 4 ;;\n'
        "  *) exit 5 ;;\n"
        "esac\n"
    )
    stand_in.chmod(0o755)
    host = await cli_host({"node_host": {"command": [str(stand_in), "run", "--json"]}})
    await settle(host, gateway="running")

    failed = await host.cli("node", "enroll", "--yes", timeout=300)
    assert failed.code == 1
    assert (
        "palyra node install failed (connectivity_failure): failed to connect node RPC "
        "endpoint: transport error: broken pipe (code <redacted>)" in failed.err
    ), failed.err
    assert await mtls_history(host) == ["true", "false", "true"]
    assert (await settle(host, gateway="running"))["node_host"] == "stopped"


async def test_a_pairing_from_elsewhere_is_allowed_once_from_the_inbox(
    cli_host: StartHost, tmp_path: Path
) -> None:
    gateway = sim_command("gateway", "--port", "0", "--grpc-port", "0")
    host = await cli_host(
        {
            "gateway": {
                "command": gateway,
                "env": {"PALYRA_ALLOW_INSECURE_NODE_RPC_WITHOUT_MTLS": "true"},
            }
        }
    )
    await settle(host, gateway="running")
    status = await until_cli(
        host.path, ("status", "--json"), lambda r: r.code == 0 and r.json()["overall"] == "healthy"
    )
    tokens = SecretStore.for_config(host.config).read()
    assert tokens is not None
    identity = ClientIdentity(
        admin_token=tokens.admin_token, principal=host.config.runtime.principal
    )
    http = GatewayHttp(status.json()["gateway"]["dashboard_url"], identity)
    try:
        code = await mint_pairing_code(http, issued_by="admin:elsewhere", ttl_ms=600_000)
    finally:
        await http.close()
    logs = (await host.cli("logs", "gateway", "-n", "5000")).out
    node_rpc = re.findall(r"node_rpc_listen_addr=(\S+)", logs)[-1]
    device = "01J0ELSEWHERE0000000000000"
    install = await asyncio.create_subprocess_exec(
        *sim_command("node"),
        "install",
        "--json",
        "--device-id",
        device,
        "--grpc-url",
        f"https://{node_rpc}",
        "--method",
        "pin",
        "--pairing-code",
        code.code,
        env={**os.environ, "PALYRA_STATE_ROOT": str(tmp_path / "elsewhere")},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:

        def pairing(ran: Ran) -> bool:
            return ran.code == 0 and any(
                a["subject"] == "device_pairing" for a in ran.json()["approvals"]
            )

        listed = await until_cli(host.path, ("approvals", "--json"), pairing)
        (entry,) = listed.json()["approvals"]
        assert entry["what"] == f"device pairing for {device}" and entry["tool_name"] == ""

        refused = await host.cli("approve", entry["id"], "--session")
        assert refused.code != 0
        assert "allowed once or denied, never for a session" in refused.err, refused.err

        allowed = await host.cli("approve", entry["id"])
        assert allowed.code == 0, allowed.err
        async with asyncio.timeout(120):
            out, err = await install.communicate()
        assert install.returncode == 0, err.decode()
        assert json.loads(out)["paired"] is True
    finally:
        if install.returncode is None:
            install.kill()
            await install.wait()

    devices = await host.cli("devices", "--json")
    assert [(d["device_id"], d["trust_state"]) for d in devices.json()["devices"]] == [
        (device, "trusted")
    ]
