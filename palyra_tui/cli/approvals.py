"""``palyra-tui approvals``, ``approve ID [--session]`` and ``deny ID [--reason TEXT]``.

The list is the host's inbox: approvals the host's own runs hold (answered on
their run's stream, so the run goes on) and those the gateway reports (decided
through its console API), each with the complete tool input.  A decision goes
through the host, which sends it exactly once: whoever decides second gets exit
6 and hears what was decided, when, and by which client.

While the gateway is not connected the list may lack the gateway's approvals:
it is printed, and the exit code is 5.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from palyra_tui.cli.connect import client_for, read_view
from palyra_tui.cli.exits import EXIT_GATEWAY, EXIT_OK
from palyra_tui.cli.failures import complain
from palyra_tui.cli.formats import clean, clock_time, dump, seconds
from palyra_tui.config import Config
from palyra_tui.host.remote import SocketRuntime
from palyra_tui.models.clock import Clock, SystemClock
from palyra_tui.models.gateway import ApprovalAnswer
from palyra_tui.state.inbox import InboxEntry
from palyra_tui.state.snapshot import ConnectionState
from palyra_tui.text import visible


async def run_approvals(config: Config, *, as_json: bool, clock: Clock | None = None) -> int:
    """List what waits for a decision."""
    found = await read_view(config, "approvals")
    now = (clock or SystemClock()).time()
    inbox = found.view.inbox
    if as_json:
        text = dump({"approvals": [approval_record(entry) for entry in inbox]})
    else:
        text = "".join(render_approval(entry, now) for entry in inbox)
    sys.stdout.write(text)
    sys.stdout.flush()
    connection = found.view.snapshot.connection
    if connection is not ConnectionState.CONNECTED:
        complain(
            f"the gateway is {connection.value}: approvals it holds may be missing from the list",
            EXIT_GATEWAY,
            as_json=as_json,
        )
        return EXIT_GATEWAY
    return EXIT_OK


async def run_decide(
    config: Config, approval_id: str, answer: ApprovalAnswer, *, as_json: bool
) -> int:
    """Send one decision through the host."""
    verb = "approve" if answer.approved else "deny"
    client = client_for(config, verb)
    try:
        await client.connect()
        await SocketRuntime(client).decide(approval_id, answer)
    finally:
        await client.close()
    if as_json:
        record = {
            "approval_id": approval_id,
            "decision": "allow" if answer.approved else "deny",
            "scope": answer.scope.value if answer.approved else None,
            "reason": answer.reason,
        }
        sys.stdout.write(dump(record))
    else:
        sys.stdout.write(f"{clean(approval_id)}: {_said(answer)}\n")
    sys.stdout.flush()
    return EXIT_OK


def _said(answer: ApprovalAnswer) -> str:
    if not answer.approved:
        return f"denied ({clean(answer.reason)})" if answer.reason else "denied"
    return "allowed for the session" if answer.scope.value == "session" else "allowed once"


def approval_record(entry: InboxEntry) -> dict[str, Any]:
    """One approval as ``approvals --json`` prints it."""
    return {
        "id": entry.approval_id,
        "route": entry.route.value,
        "run_id": entry.run_id,
        "session_id": entry.session_id,
        "tool_name": "" if entry.is_pairing else entry.tool_name,
        "subject": entry.subject.value,
        "what": entry.what,
        "title": entry.title,
        "summary": entry.summary,
        "input_json": entry.input_json,
        "input": _parsed(entry.input_json),
        "risk": entry.risk.value,
        "reason": entry.reason,
        "policy_explanation": entry.policy_explanation,
        "requested_at": seconds(entry.requested_at),
        "timeout_seconds": entry.timeout_seconds,
        "deadline": seconds(entry.deadline),
        "refusal": entry.refusal,
        "raw_summary": entry.raw_summary,
    }


def _parsed(text: str) -> Any:
    """The tool input as JSON, or None when it is not JSON (a summary cut short)."""
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def render_approval(entry: InboxEntry, now: float) -> str:
    """One approval as a person reads it: who asks what, why, and the whole input."""
    head = [clean(entry.approval_id), clean(entry.what), f"{entry.risk.value} risk"]
    facts = [f"asked {clock_time(entry.requested_at)}"]
    if entry.session_id:
        facts.insert(0, f"session {clean(entry.session_id)}")
    deadline = entry.deadline
    if deadline is not None:
        facts.append(f"{max(0, int(deadline - now))} s left")
    lines = ["  ".join(head) + "  " + " · ".join(facts), f"  {clean(entry.title)}"]
    if entry.summary and entry.summary != entry.title:
        lines.append(f"  {clean(entry.summary)}")
    if entry.reason:
        lines.append(f"  why: {clean(entry.reason)}")
    if entry.refusal:
        lines.append(f"  note: {clean(entry.refusal)}")
    lines.append("  input:")
    lines += [f"    {line}" for line in _pretty(entry.input_json).splitlines() or [""]]
    approval_id = clean(entry.approval_id)
    lines.append(f"  decide: palyra-tui approve {approval_id} | palyra-tui deny {approval_id}")
    return "\n".join(lines) + "\n\n"


def _pretty(text: str) -> str:
    """The input indented for reading, every control character visible."""
    value = _parsed(text)
    shown = json.dumps(value, indent=2, ensure_ascii=False) if value is not None else text
    return visible(shown).replace("\t", "\\t")
