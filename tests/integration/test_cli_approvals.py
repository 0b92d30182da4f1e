"""``palyra-tui approvals``, ``approve`` and ``deny`` against a real runtime host."""

from __future__ import annotations

import asyncio
import json
import os
import re

from palyra_tui.cli.connect import attached
from palyra_tui.host.remote import SocketRuntime
from palyra_tui.models.gateway import ApprovalAnswer
from palyra_tui.state.chat import StatusItem, ToolItem
from tests.conftest import eventually
from tests.integration.cli_support import Host, StartHost, until_cli


async def ask(runtime: SocketRuntime, text: str = "run ls -la") -> tuple[str, str]:
    """Start a run that asks for an approval; returns the session and the approval."""
    assert await eventually(lambda: runtime.view().snapshot.gateway_health is not None)
    session = await runtime.new_session()
    before = {entry.approval_id for entry in runtime.view().inbox}
    await runtime.send(session.session_id, text)
    assert await eventually(lambda: {e.approval_id for e in runtime.view().inbox} - before != set())
    (approval,) = {e.approval_id for e in runtime.view().inbox} - before
    return session.session_id, approval


async def finished(runtime: SocketRuntime, session_id: str) -> tuple[StatusItem, ...]:
    for _ in range(600):
        items = (await runtime.transcript(session_id)).items
        statuses = tuple(item for item in items if isinstance(item, StatusItem))
        if statuses:
            return statuses
        await asyncio.sleep(0.05)
    raise AssertionError("the run never finished")


async def test_list_then_approve_answers_the_run_in_its_stream(cli_host: StartHost) -> None:
    host = await cli_host()
    async with attached(host.config, "test") as runtime:
        session_id, approval = await ask(runtime)
        listed = await host.cli("approvals", "--json")
        assert listed.code == 0, listed.err
        (record,) = listed.json()["approvals"]
        assert record["id"] == approval and record["session_id"] == session_id
        assert record["route"] == "stream" and record["tool_name"] == "palyra.process.run"
        assert record["risk"] == "high"
        assert record["input"] == {"command": "ls -la", "cwd": "."}
        assert json.loads(record["input_json"]) == record["input"]
        assert record["deadline"] > record["requested_at"] > 0
        text = await host.cli("approvals")
        assert text.out.startswith(f"{approval}  palyra.process.run  high risk  session ")
        assert '      "command": "ls -la",\n' in text.out
        assert f"palyra-tui approve {approval}" in text.out
        approved = await host.cli("approve", approval)
        assert approved.code == 0, approved.err
        assert approved.out == f"{approval}: allowed once\n"
        statuses = await finished(runtime, session_id)
        assert statuses[-1].text == "run completed"
        items = (await runtime.transcript(session_id)).items
        tool = next(item for item in items if isinstance(item, ToolItem))
        assert tool.decision == "allowed" and tool.success is True
        again = await host.cli("approve", approval, "--json")
        assert again.code == 6
        error = again.error()
        assert error["code"] == 6
        pattern = (
            rf"approval {approval} was already decided by another client: allowed once at "
            r"\d\d:\d\d:\d\d \(palyra-tui approve, pid (\d+)\)$"
        )
        found = re.match(pattern, error["error"])
        assert found is not None, error
        assert int(found.group(1)) != os.getpid()
        empty = await host.cli("approvals", "--json")
        assert empty.code == 0 and empty.json() == {"approvals": []}


async def test_deny_with_a_reason_and_a_decision_another_client_made(
    cli_host: StartHost,
) -> None:
    host = await cli_host()
    async with attached(host.config, "test") as runtime:
        session_id, approval = await ask(runtime)
        denied = await host.cli("deny", approval, "--reason", "not today", "--json")
        assert denied.code == 0, denied.err
        assert denied.json() == {
            "approval_id": approval,
            "decision": "deny",
            "scope": None,
            "reason": "not today",
        }
        await finished(runtime, session_id)
        items = (await runtime.transcript(session_id)).items
        tool = next(item for item in items if isinstance(item, ToolItem))
        assert tool.decision == "denied" and "not today" in tool.reason

        _, second = await ask(runtime, "run uname -a")
        await runtime.decide(second, ApprovalAnswer.allow_session())
        late = await host.cli("deny", second)
        assert late.code == 6
        assert late.err.startswith(f"palyra-tui: approval {second} was already decided")
        assert (
            "allowed for the session at " in late.err
            and f"(palyra-tui test, pid {os.getpid()})" in late.err
        )


async def test_an_approval_that_is_not_pending(cli_host: StartHost) -> None:
    host = await cli_host()
    ran = await until_cli(host.path, ("approve", "01HXXXXXXXXXXXXXXXXXXXXXXX"), lambda r: True)
    assert ran.code == 1
    assert ran.err == "palyra-tui: approval 01HXXXXXXXXXXXXXXXXXXXXXXX is no longer pending\n"


async def _gateway_down(host: Host) -> None:
    stopped = await host.cli("stop", "gateway")
    assert stopped.code == 0, stopped.err


async def test_approvals_while_the_gateway_is_down_is_exit_5(cli_host: StartHost) -> None:
    host = await cli_host()
    await until_cli(host.path, ("status",), lambda r: r.code == 0)
    await _gateway_down(host)
    ran = await until_cli(host.path, ("approvals", "--json"), lambda r: r.code == 5)
    assert ran.code == 5
    assert ran.json() == {"approvals": []}
    assert ran.error()["code"] == 5 and "gateway is" in ran.error()["error"]
