"""The approval decisions a runtime sent, so that whoever decides second hears the first.

A decision is recorded before it goes out and forgotten only when it surely did
not (the gateway was not reached): a cancelled call may have sent it.  What was
decided (the tool, its input, the session and run) is kept with it, for the
support bundle.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from palyra_tui.models.gateway import ApprovalAnswer
from palyra_tui.state.inbox import InboxEntry
from palyra_tui.state.runtime_api import AlreadyDecided


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One decision this runtime sent: on what, what it said, its scope, when, by whom."""

    approval_id: str
    answer: ApprovalAnswer
    """Allowed or denied, its scope (once, for the session, for a time) and the reason."""
    at: float
    by: str = ""
    """The client that decided (``palyra-tui approve, pid 4242``); "" in-process."""
    tool_name: str = ""
    session_id: str = ""
    run_id: str = ""
    input_json: str = ""
    """The tool input as the gateway sent it."""


class Decisions:
    """Each approval's decision: what, when, and by whom."""

    def __init__(self) -> None:
        self._made: dict[str, DecisionRecord] = {}

    def refuse_second(self, approval_id: str) -> None:
        """Raise AlreadyDecided, saying what was decided, when and by whom, if it was."""
        earlier = self._made.get(approval_id)
        if earlier is None:
            return
        who = earlier.by
        when = time.strftime("%H:%M:%S", time.localtime(earlier.at))
        raise AlreadyDecided(
            f"approval {approval_id} was already decided by another client: "
            f"{describe_answer(earlier.answer)} at {when}" + (f" ({who})" if who else "")
        )

    def record(self, entry: InboxEntry, answer: ApprovalAnswer, at: float, by: str) -> None:
        """``by`` decided ``answer`` on ``entry`` at ``at``."""
        self._made[entry.approval_id] = DecisionRecord(
            approval_id=entry.approval_id,
            answer=answer,
            at=at,
            by=by,
            tool_name=entry.tool_name,
            session_id=entry.session_id,
            run_id=entry.run_id,
            input_json=entry.input_json,
        )

    def records(self) -> tuple[DecisionRecord, ...]:
        """Every decision kept, in the order they were made."""
        return tuple(sorted(self._made.values(), key=lambda record: record.at))

    def forget(self, approval_id: str) -> None:
        """The decision did not go out: another client may decide."""
        self._made.pop(approval_id, None)

    def clear(self) -> None:
        """Forget every decision (another profile's gateway knows none of them)."""
        self._made.clear()


def describe_answer(answer: ApprovalAnswer) -> str:
    """A decision in a few words: "allowed once", "denied (not now)"."""
    if not answer.approved:
        return f"denied ({answer.reason})" if answer.reason else "denied"
    scope = {"once": "once", "session": "for the session", "timeboxed": "for a time"}
    return f"allowed {scope.get(answer.scope.value, answer.scope.value)}"
