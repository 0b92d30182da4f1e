"""The approval decisions a runtime sent, so that whoever decides second hears the first.

A decision is recorded before it goes out and forgotten only when it surely did
not (the gateway was not reached): a cancelled call may have sent it.
"""

from __future__ import annotations

import time

from palyra_tui.models.gateway import ApprovalAnswer
from palyra_tui.state.runtime_api import AlreadyDecided


class Decisions:
    """Each approval's decision: what, when, and by whom."""

    def __init__(self) -> None:
        self._made: dict[str, tuple[ApprovalAnswer, float, str]] = {}

    def refuse_second(self, approval_id: str) -> None:
        """Raise AlreadyDecided, saying what was decided, when and by whom, if it was."""
        earlier = self._made.get(approval_id)
        if earlier is None:
            return
        said, at, who = earlier
        when = time.strftime("%H:%M:%S", time.localtime(at))
        raise AlreadyDecided(
            f"approval {approval_id} was already decided by another client: "
            f"{describe_answer(said)} at {when}" + (f" ({who})" if who else "")
        )

    def record(self, approval_id: str, answer: ApprovalAnswer, at: float, by: str) -> None:
        """``by`` decided ``answer`` at ``at``."""
        self._made[approval_id] = (answer, at, by)

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
