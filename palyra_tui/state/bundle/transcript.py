"""A support bundle's chat member: the transcript of the session last on show, as plain
text, each item on its own lines."""

from __future__ import annotations

from collections.abc import Callable

from palyra_tui.state.bundle.sources import ChatFacts
from palyra_tui.state.chat import AnswerItem, ChatItem, StatusItem, ToolItem, UserItem

INDENT = "    "


def transcript_text(chat: ChatFacts, utc: Callable[[float], str]) -> str:
    """The session's items in order: what the operator wrote, the answers, tool calls with
    their input, decision and result, and how each run ended."""
    session = chat.place.session_id
    if not session:
        section = chat.place.section.value
        return f"No chat session was on show (the place kept is the {section} section).\n"
    name = f' "{chat.name}"' if chat.name and chat.name != session else ""
    if chat.transcript is None:
        return f"Chat session {session}{name}: its transcript could not be read: {chat.problem}\n"
    items = chat.transcript.items
    out = [
        f"Chat session {session}{name}, the one last on show: {len(items)} items "
        f"(revision {chat.transcript.revision}).",
        "",
    ]
    if not items:
        out.append("(this runtime holds no item of it: nothing was sent or loaded here)")
    for item in items:
        out += _item(item, utc)
    return "\n".join(out).rstrip() + "\n"


def _item(item: ChatItem, utc: Callable[[float], str]) -> list[str]:
    if isinstance(item, UserItem):
        return [f"[{utc(item.at)}] you:", _indented(item.text), ""]
    if isinstance(item, AnswerItem):
        state = "" if item.final else " (still streaming)"
        return [f"agent (run {item.run_id}){state}:", _indented(item.text), ""]
    if isinstance(item, ToolItem):
        lines = [f"tool {item.tool_name} (run {item.run_id}, proposal {item.proposal_id})"]
        lines.append(f"{INDENT}input: {_indented(item.input_json, 2).lstrip()}")
        if item.approval_id:
            waiting = " (waiting for a decision)" if item.approval_pending else ""
            lines.append(f"{INDENT}approval {item.approval_id}{waiting}")
        if item.decision:
            reason = f": {item.reason}" if item.reason else ""
            lines.append(f"{INDENT}decision: {item.decision}{reason}")
        if item.success is not None or item.result:
            outcome = {True: "ok", False: "failed", None: "-"}[item.success]
            lines.append(f"{INDENT}result ({outcome}): {_indented(item.result, 2).lstrip()}")
        return [*lines, ""]
    if isinstance(item, StatusItem):
        mark = " (failed)" if item.failed else ""
        return [f"status{mark}: {item.text}", ""]
    return []


def _indented(text: str, depth: int = 1) -> str:
    prefix = INDENT * depth
    return "\n".join(prefix + line for line in text.split("\n"))
