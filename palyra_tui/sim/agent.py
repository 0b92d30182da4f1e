"""The reference gateway's deterministic agent.

It echoes the user's text, streamed in chunks of at most 16 words with the
whitespace kept, as palyrad's deterministic provider does.  A message that asks
for an action makes it propose a tool call that needs approval, so every
approval path can be exercised without a model or a network:

* ``run <command>`` (or `` `command` ``) → ``palyra.process.run`` (high risk)
* ``write <path> …`` → ``palyra.fs.apply_patch`` (medium risk)
* ``fetch <url>`` → ``palyra.http.fetch`` (medium risk)

Like a model answering through an OpenAI-style API, a turn that calls a tool
carries no text; after the tool result the agent answers in a second turn
(palyrad feeds the result back because the provider reports
``finish_reason=tool_calls``), unless the gateway runs with
``--no-tool-followup``, where the run's turn ends at the tool result, as with a
provider that does not report that reason.

Trigger phrases for failure paths:

* ``simulate provider failure`` fails the run the way a provider error does: a
  FAILED status, then an UNAVAILABLE RPC error;
* ``provider call id`` makes the provider name its tool call ``call_1``, as
  OpenAI-style providers do; palyrad takes that as the proposal id and then
  refuses any approval answer for it, because it is not a ULID.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

CHUNK_WORDS = 16
FAILURE_TRIGGER = "simulate provider failure"
PROVIDER_ID_TRIGGER = "provider call id"
PROVIDER_CALL_ID = "call_1"

_RUN = re.compile(r"(?:^|\b)(?:run|execute)\s+(?:`(?P<quoted>[^`]+)`|(?P<plain>.+))", re.I | re.S)
_WRITE = re.compile(
    r"(?:^|\b)write\s+(?:to\s+)?(?:file\s+)?(?P<path>\S+)(?:\s+(?P<rest>.*))?", re.I | re.S
)
_FETCH = re.compile(r"(?:^|\b)fetch\s+(?P<url>\S+)", re.I)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool the agent wants to run."""

    tool_name: str
    input_json: str
    risk: str
    summary: str


def chunk_text(text: str, words: int = CHUNK_WORDS) -> list[str]:
    """Split ``text`` into slices of at most ``words`` words, whitespace intact."""
    if not text:
        return [""]
    spans = [match.end() for match in re.finditer(r"\S+", text)]
    if not spans:
        return [text]
    chunks: list[str] = []
    start = 0
    for index in range(words - 1, len(spans), words):
        end = spans[index]
        chunks.append(text[start:end])
        start = end
    if start < len(text):
        chunks.append(text[start:])
    return chunks


def plan_tools(text: str) -> list[ToolCall]:
    """The tool calls a message asks for (at most one)."""
    match = _RUN.search(text)
    if match:
        command = (match.group("quoted") or match.group("plain") or "").strip()
        return [
            ToolCall(
                tool_name="palyra.process.run",
                input_json=json.dumps({"command": command, "cwd": "."}),
                risk="high",
                summary=f"run a shell command: {command[:80]}",
            )
        ]
    match = _WRITE.search(text)
    if match:
        path = match.group("path")
        content = (match.group("rest") or "").strip()
        return [
            ToolCall(
                tool_name="palyra.fs.apply_patch",
                input_json=json.dumps({"path": path, "content": content}),
                risk="medium",
                summary=f"write the file {path[:80]}",
            )
        ]
    match = _FETCH.search(text)
    if match:
        url = match.group("url")
        return [
            ToolCall(
                tool_name="palyra.http.fetch",
                input_json=json.dumps({"url": url, "method": "GET"}),
                risk="medium",
                summary=f"fetch {url[:80]}",
            )
        ]
    return []


def tool_output(call: ToolCall) -> str:
    """What the simulated tool returns."""
    arguments = json.loads(call.input_json)
    if call.tool_name == "palyra.process.run":
        return json.dumps(
            {"exit_code": 0, "stdout": f"(simulated) ran: {arguments['command']}", "stderr": ""}
        )
    if call.tool_name == "palyra.fs.apply_patch":
        return json.dumps({"written": arguments["path"], "bytes": len(arguments["content"])})
    return json.dumps({"status": 200, "body": f"(simulated) fetched {arguments['url']}"})


def follow_up(call: ToolCall, allowed: bool, reason: str) -> str:
    """The agent's closing answer after a tool call."""
    if allowed:
        return f"Done: {call.summary}."
    return f"I did not {call.summary}: the call was denied ({reason})."
