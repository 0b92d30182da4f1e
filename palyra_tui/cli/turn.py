"""One chat turn as ``palyra-tui send --wait`` prints it, from the host's transcript.

:class:`Turn` keeps a copy of the session's transcript from the changes the
host sends (a tail replaced, or the text a streamed answer gained), in order of
their revision; when one was missed it is fetched again.  :meth:`Turn.events`
says what is new since it was last asked, past the items the session had when
the message was sent, so each fact is printed once however the changes came.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from palyra_tui.cli.formats import clean, dump
from palyra_tui.state.chat import AnswerItem, ChatItem, StatusItem, ToolItem, UserItem
from palyra_tui.state.runtime_api import AnswerGrew, TranscriptChanged, TranscriptView
from palyra_tui.text import sanitize


@dataclass(frozen=True, slots=True)
class AnswerText:
    """The answer gained ``text`` (and is ``final`` now or not)."""

    run_id: str
    text: str
    final: bool


@dataclass(frozen=True, slots=True)
class ToolCall:
    """The agent wants to call a tool with this input."""

    run_id: str
    proposal_id: str
    tool_name: str
    input_json: str


@dataclass(frozen=True, slots=True)
class ApprovalWait:
    """The call waits for a person's decision."""

    run_id: str
    proposal_id: str
    approval_id: str
    tool_name: str


@dataclass(frozen=True, slots=True)
class ToolDecision:
    """The call was allowed or denied."""

    proposal_id: str
    decision: str
    reason: str


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What the call returned, or its error."""

    proposal_id: str
    success: bool
    result: str


@dataclass(frozen=True, slots=True)
class RunStatus:
    """How the run ended."""

    run_id: str
    text: str
    failed: bool


TurnEvent = AnswerText | ToolCall | ApprovalWait | ToolDecision | ToolResult | RunStatus


@dataclass
class _Shown:
    """What of one item was already reported."""

    answer: int = 0
    final: bool = False
    facets: set[str] = field(default_factory=set)


class Turn:
    """The part of a session's transcript that came after the message was sent."""

    def __init__(self, session_id: str, baseline: TranscriptView) -> None:
        self.session_id = session_id
        self.items: list[ChatItem] = list(baseline.items)
        self.revision = baseline.revision
        self.start = len(baseline.items)
        self._shown: dict[int, _Shown] = {}

    def apply(self, change: TranscriptChanged | AnswerGrew) -> bool:
        """Fold one change in; False when one was missed (fetch the transcript again)."""
        if change.revision <= self.revision:
            return True
        if change.revision != self.revision + 1:
            return False
        if isinstance(change, TranscriptChanged):
            self.items[change.start :] = change.items
            if len(self.items) != change.length:
                return False
        else:
            if change.index >= len(self.items):
                return False
            item = self.items[change.index]
            if not isinstance(item, AnswerItem):
                return False
            self.items[change.index] = replace(
                item, text=item.text + change.text, final=change.final
            )
        self.revision = change.revision
        return True

    def reset(self, view: TranscriptView) -> None:
        """Take the whole transcript as the host holds it now."""
        self.items = list(view.items)
        self.revision = view.revision

    def _ours(self) -> list[tuple[int, ChatItem]]:
        return [(i, item) for i, item in enumerate(self.items) if i >= self.start]

    def delivered(self) -> bool:
        """True once the gateway answered the message with anything (the run is going)."""
        return any(not isinstance(item, UserItem) for _, item in self._ours())

    def run_id(self) -> str:
        """The run the gateway answered with."""
        for _, item in self._ours():
            if not isinstance(item, UserItem):
                return item.run_id
        return ""

    def outcome(self) -> str:
        """``completed``, ``aborted``, ``failed``, or ``ended`` without a status."""
        statuses = [item for _, item in self._ours() if isinstance(item, StatusItem)]
        if not statuses:
            return "ended"
        last = statuses[-1]
        if last.text == "run completed":
            return "completed"
        if last.text == "run aborted":
            return "aborted"
        return "failed" if last.failed else last.text

    def events(self) -> list[TurnEvent]:
        """What is new since the last call, in transcript order."""
        found: list[TurnEvent] = []
        for index, item in self._ours():
            shown = self._shown.setdefault(index, _Shown())
            if isinstance(item, AnswerItem):
                if len(item.text) > shown.answer or (item.final and not shown.final):
                    found.append(AnswerText(item.run_id, item.text[shown.answer :], item.final))
                    shown.answer, shown.final = len(item.text), item.final
            elif isinstance(item, ToolItem):
                found += _tool_events(item, shown.facets)
            elif isinstance(item, StatusItem) and "status" not in shown.facets:
                shown.facets.add("status")
                found.append(RunStatus(item.run_id, item.text, item.failed))
        return found


def _tool_events(item: ToolItem, shown: set[str]) -> list[TurnEvent]:
    found: list[TurnEvent] = []
    if "call" not in shown:
        shown.add("call")
        found.append(ToolCall(item.run_id, item.proposal_id, item.tool_name, item.input_json))
    if item.approval_id and item.approval_pending and "approval" not in shown:
        shown.add("approval")
        found.append(ApprovalWait(item.run_id, item.proposal_id, item.approval_id, item.tool_name))
    if item.decision and "decision" not in shown:
        shown.add("decision")
        found.append(ToolDecision(item.proposal_id, item.decision, item.reason))
    if item.success is not None and "result" not in shown:
        shown.add("result")
        found.append(ToolResult(item.proposal_id, item.success, item.result))
    return found


class TurnPrinter:
    """Turn events as text (the answer as it streams, ``»`` lines for the rest) or JSON."""

    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json
        self._midline = False

    def sent(self, session_id: str, run_id: str) -> str:
        if self.as_json:
            return dump({"event": "sent", "session_id": session_id, "run_id": run_id})
        return f"» sent to session {clean(session_id)} (run {clean(run_id)})\n"

    def finished(self, session_id: str, run_id: str, outcome: str) -> str:
        if self.as_json:
            record = {"event": "finished", "session_id": session_id, "run_id": run_id}
            return dump({**record, "outcome": outcome})
        return self._end_line()

    def render(self, events: list[TurnEvent]) -> str:
        if self.as_json:
            return "".join(dump(_record(event)) for event in events)
        return "".join(self._text(event) for event in events)

    def _text(self, event: TurnEvent) -> str:
        if isinstance(event, AnswerText):
            text = sanitize(event.text)
            if text:
                self._midline = not text.endswith("\n")
            if event.final and self._midline:
                text += "\n"
                self._midline = False
            return text
        return self._end_line() + f"» {_note(event)}\n"

    def _end_line(self) -> str:
        if self._midline:
            self._midline = False
            return "\n"
        return ""


def _note(event: TurnEvent) -> str:
    if isinstance(event, ToolCall):
        return f"tool {clean(event.tool_name)} {clean(event.input_json)}"
    if isinstance(event, ApprovalWait):
        approval = clean(event.approval_id)
        return (
            f"waiting for approval {approval}: palyra-tui approve {approval} | "
            f"palyra-tui deny {approval}"
        )
    if isinstance(event, ToolDecision):
        return clean(event.decision) + (f": {clean(event.reason)}" if event.reason else "")
    if isinstance(event, ToolResult):
        return f"{'result' if event.success else 'error'} {clean(event.result)}"
    if isinstance(event, RunStatus):
        return clean(event.text)
    return ""


def _record(event: TurnEvent) -> dict[str, object]:
    if isinstance(event, AnswerText):
        kind, fields = "answer", {"run_id": event.run_id, "text": event.text, "final": event.final}
    elif isinstance(event, ToolCall):
        kind, fields = (
            "tool",
            {
                "run_id": event.run_id,
                "proposal_id": event.proposal_id,
                "tool_name": event.tool_name,
                "input_json": event.input_json,
            },
        )
    elif isinstance(event, ApprovalWait):
        kind, fields = (
            "approval",
            {
                "run_id": event.run_id,
                "proposal_id": event.proposal_id,
                "approval_id": event.approval_id,
                "tool_name": event.tool_name,
            },
        )
    elif isinstance(event, ToolDecision):
        kind, fields = (
            "decision",
            {
                "proposal_id": event.proposal_id,
                "decision": event.decision,
                "reason": event.reason,
            },
        )
    elif isinstance(event, ToolResult):
        kind, fields = (
            "result",
            {
                "proposal_id": event.proposal_id,
                "success": event.success,
                "result": event.result,
            },
        )
    else:
        kind, fields = (
            "status",
            {"run_id": event.run_id, "text": event.text, "failed": event.failed},
        )
    return {"event": kind, **fields}
