"""How palyra-tui runs ``palyra node`` commands: one whole JSON document on stdout, palyra's
error kinds from either error format, a deadline that takes the process group with it,
and the pairing code kept out of every message."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

from palyra_tui.client import node_cli
from palyra_tui.client.node_cli import NodeCli, NodeCliError
from palyra_tui.models.devices import NodeStatus
from palyra_tui.supervisor.definitions import with_node_rpc
from palyra_tui.text import Redactor


def stand_in(tmp_path: Path, body: str) -> NodeCli:
    script = tmp_path / "palyra"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return NodeCli((str(script), "node"), tmp_path / "runtime", dict(os.environ))


async def test_a_pretty_printed_document_is_read_whole_and_state_goes_to_the_runtime_root(
    tmp_path: Path,
) -> None:
    cli = stand_in(
        tmp_path,
        'printf \'{\\n  "action": "status",\\n  "installed": true,\\n  "paired": true,\\n'
        '  "device_id": "01J0NODE",\\n  "grpc_url": "https://127.0.0.1:7444",\\n'
        '  "cert_expires_at_unix_ms": 17,\\n  "detail": "%s %s"\\n}\\n\' '
        '"$PALYRA_STATE_ROOT" "$PALYRA_GATEWAY_IDENTITY_STORE_DIR"\n',
    )
    runtime = tmp_path / "runtime"
    assert await cli.status() == NodeStatus(
        True, True, "01J0NODE", "https://127.0.0.1:7444", 17, f"{runtime} {runtime}/identity"
    )


@pytest.mark.parametrize(
    "stderr",
    [
        "error[precondition_failed] trace_id=01J0 state_root=/srv/palyra node is busy",
        '{\\n  "version": 1,\\n  "error": {\\n    "kind": "precondition_failed",\\n'
        '    "message": "node is busy",\\n    "trace_id": "01J0"\\n  }\\n}',
    ],
    ids=["text", "json-envelope"],
)
async def test_a_failure_is_one_sentence_with_palyras_error_kind(
    tmp_path: Path, stderr: str
) -> None:
    cli = stand_in(tmp_path, f"printf '{stderr}\\n' >&2\nexit 7\n")
    with pytest.raises(NodeCliError) as failed:
        await cli.status()
    assert failed.value.kind == "precondition_failed"
    assert str(failed.value) == "palyra node status failed (precondition_failed): node is busy"


async def test_the_pairing_code_and_known_secrets_never_reach_a_message(tmp_path: Path) -> None:
    cli = stand_in(
        tmp_path, 'echo "error[auth_failure] args $* rejected, token s3cr3t-t0ken" >&2\nexit 3\n'
    )
    redactor = Redactor()
    redactor.add_secret("s3cr3t-t0ken")
    with pytest.raises(NodeCliError) as failed:
        await cli.install(
            device_id="01J0NODE",
            grpc_url="https://127.0.0.1:7444",
            pairing_code="493817",
            redactor=redactor,
        )
    assert "493817" not in str(failed.value) and "s3cr3t-t0ken" not in str(failed.value)
    assert failed.value.kind == "auth_failure"


async def test_output_that_is_not_one_json_object_is_refused(tmp_path: Path) -> None:
    cli = stand_in(tmp_path, "echo node.status installed=false\n")
    with pytest.raises(NodeCliError, match="did not print one JSON document"):
        await cli.status()
    cli = stand_in(tmp_path, "echo '[1, 2]'\n")
    with pytest.raises(NodeCliError, match="printed JSON that is not an object"):
        await cli.status()


async def test_a_missing_binary_is_one_sentence(tmp_path: Path) -> None:
    cli = NodeCli((str(tmp_path / "nowhere" / "palyra"), "node"), tmp_path, dict(os.environ))
    with pytest.raises(NodeCliError, match="could not start") as failed:
        await cli.status()
    assert failed.value.kind == "not_found"


async def test_a_command_past_its_deadline_is_killed_with_its_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(node_cli, "STATUS_TIMEOUT", 0.5)
    marker = f"{600 + os.getpid() % 1000}.{os.getpid()}"
    cli = stand_in(tmp_path, f"sleep {marker} &\nwait\n")
    with pytest.raises(NodeCliError, match=r"did not finish within 0\.5 s") as failed:
        await cli.status()
    assert failed.value.kind == "timeout"

    def sleeping() -> list[psutil.Process]:
        return [
            process
            for process in psutil.process_iter(["cmdline", "status"])
            if marker in (process.info["cmdline"] or [])
            and process.info["status"] != psutil.STATUS_ZOMBIE
        ]

    assert sleeping() == []


def test_the_node_host_is_pointed_at_the_node_rpc_address_the_gateway_announced() -> None:
    run = ("palyra", "node", "run", "--json")
    assert with_node_rpc(run, "127.0.0.1:41234") == (
        *run,
        "--grpc-url",
        "https://127.0.0.1:41234",
    )
    assert with_node_rpc(run, "0.0.0.0:7444")[-1] == "https://127.0.0.1:7444"
    assert with_node_rpc(run, "") == run
    kept = (*run, "--grpc-url=https://10.0.0.2:7444")
    assert with_node_rpc(kept, "127.0.0.1:7444") == kept
