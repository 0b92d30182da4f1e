"""``palyra-tui sessions`` and ``send`` against a real runtime host: a script drives a turn."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from typing import Any

from tests.integration.cli_support import Host, StartHost, cli_env, until_cli


async def healthy(host: Host) -> dict[str, Any]:
    ran = await until_cli(host.path, ("status", "--json"), lambda r: r.code == 0)
    assert ran.code == 0, ran.err
    document: dict[str, Any] = ran.json()
    return document


async def test_send_to_a_new_session_streams_the_answer(cli_host: StartHost) -> None:
    host = await cli_host()
    await healthy(host)
    ran = await host.cli("send", "new", "hello from a script", "--wait")
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0].startswith("» sent to session ")
    assert lines[1:] == ["hello from a script", "» run completed"]
    session_id = lines[0].split()[4]
    listed = await until_cli(
        host.path,
        ("sessions", "--json"),
        lambda r: any(s["name"] == "hello from a script" for s in r.json()["sessions"]),
    )
    assert listed.code == 0
    (session,) = [s for s in listed.json()["sessions"] if s["id"] == session_id]
    assert session["name"] == "hello from a script" and session["busy"] is False
    text = await host.cli("sessions")
    assert f"{session_id}  " in text.out and "hello from a script" in text.out
    again = await host.cli("send", "hello from a script", "second turn", "--wait", "--json")
    assert again.code == 0, again.err
    records = [json.loads(line) for line in again.out.splitlines()]
    assert records[0]["event"] == "sent" and records[0]["session_id"] == session_id
    answer = "".join(r["text"] for r in records if r["event"] == "answer")
    assert answer == "second turn"
    assert records[-1] == {
        "event": "finished",
        "session_id": session_id,
        "run_id": records[0]["run_id"],
        "outcome": "completed",
    }


async def test_a_tool_call_waits_for_an_approval_made_elsewhere(cli_host: StartHost) -> None:
    host = await cli_host()
    await healthy(host)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "palyra_tui",
        "send",
        "new",
        "run ls -la",
        "--wait",
        "--json",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(host.path),
    )
    assert process.stdout is not None
    try:
        records: list[dict[str, Any]] = []
        async with asyncio.timeout(60):
            while not records or records[-1]["event"] != "approval":
                records.append(json.loads(await process.stdout.readline()))
        approval = records[-1]["approval_id"]
        assert [r["event"] for r in records] == ["sent", "tool", "approval"]
        assert json.loads(records[1]["input_json"]) == {"command": "ls -la", "cwd": "."}
        busy = await host.cli("send", records[0]["session_id"], "meanwhile")
        assert busy.code == 6 and "already in flight" in busy.err
        assert (await host.cli("approve", approval)).code == 0
        out, _ = await process.communicate()
        records += [json.loads(line) for line in out.decode().splitlines()]
        assert process.returncode == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    events = [r["event"] for r in records]
    assert events == [
        "sent",
        "tool",
        "approval",
        "decision",
        "result",
        "answer",
        "status",
        "finished",
    ]
    assert records[4]["success"] is True and "ran: ls -la" in records[4]["result"]
    assert records[-1]["outcome"] == "completed"


async def test_send_without_wait_returns_once_the_gateway_took_it(cli_host: StartHost) -> None:
    host = await cli_host()
    await healthy(host)
    ran = await host.cli("send", "new", "run uname -a", "--json")
    assert ran.code == 0, ran.err
    (record,) = [json.loads(line) for line in ran.out.splitlines()]
    assert record["event"] == "sent"
    pending = await until_cli(host.path, ("approvals", "--json"), lambda r: r.json()["approvals"])
    (approval,) = pending.json()["approvals"]
    assert approval["run_id"] == record["run_id"]
    assert (await host.cli("deny", approval["id"])).code == 0


async def test_a_failed_run_is_exit_1(cli_host: StartHost) -> None:
    host = await cli_host()
    await healthy(host)
    ran = await host.cli("send", "new", "simulate provider failure", "--wait")
    assert ran.code == 1
    assert "» run failed" in ran.out


async def test_an_unknown_session_and_a_gateway_that_is_down(cli_host: StartHost) -> None:
    host = await cli_host()
    await healthy(host)
    unknown = await host.cli("send", "no-such-session", "hi", "--json")
    assert unknown.code == 2 and "no session 'no-such-session'" in unknown.error()["error"]
    assert (await host.cli("stop", "gateway")).code == 0
    down = await until_cli(host.path, ("send", "new", "hi"), lambda r: "nothing was sent" in r.err)
    assert down.code == 5, down.err
    assert down.err == "palyra-tui: the gateway is offline: nothing was sent\n"
    sessions = await host.cli("sessions", "--json")
    assert sessions.code == 5 and sessions.json() == {"sessions": []}


async def test_a_message_the_gateway_never_takes_leaves_no_draft(cli_host: StartHost) -> None:
    host = await cli_host()
    await healthy(host)
    first = await host.cli("send", "new", "hello", "--wait", "--json")
    session_id = json.loads(first.out.splitlines()[0])["session_id"]
    status = await healthy(host)
    gateway = next(s for s in status["services"] if s["name"] == "gateway")
    os.kill(gateway["pid"], signal.SIGSTOP)
    try:
        ran = await host.cli("send", session_id, "are you there?", "--wait")
    finally:
        os.kill(gateway["pid"], signal.SIGCONT)
    assert ran.code == 5, (ran.out, ran.err)
    assert "nothing was sent" in ran.err or "did not take the message" in ran.err
    after = await host.cli("status", "--json")
    assert after.json()["drafts"] == 0
