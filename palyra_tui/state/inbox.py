"""One inbox of approvals: those palyra-tui's own runs received, and the gateway's list.

An approval raised inside one of our RunStreams can only be answered on that
stream; any other pending approval is decided through the console API.  The
inbox keeps the first time it saw each approval, which drives the countdown
and the arming delay that protects against keys typed ahead.

palyrad's ``request_summary`` is JSON, ``{"tool_name", "skill_id",
"skill_version", "input_json"}``, cut at 1024 bytes with ``...`` and sometimes
followed by ``; backend_requested=…; backend_resolved=…; backend_reason_code=…``.
An entry carries it parsed (tool name, input, reason) for reading, and whole in
``raw_summary``.

Not every approval is a tool call.  A device that asks to pair files one with
``subject_type`` ``device_pairing``; its prompt's ``details_json`` says which
device (``device_id``, ``client_kind``, ``method``, ``identity_fingerprint``,
``transcript_hash_hex``), and deciding it approves or rejects the pairing.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, replace
from typing import Any

from palyra_tui.models.gateway import Approval, RiskLevel, SubjectType
from palyra_tui.models.ids import is_ulid
from palyra_tui.models.run_events import ApprovalRequestEvent
from palyra_tui.text import visible

_SUMMARY_PAIR = re.compile(r"(device_id|client_kind|method)=(\S*)")
_BREAKS = {ord(c): f"\\u{ord(c):04x}" for c in "\t\n"}
_BACKEND = re.compile(
    r"; backend_requested=(?P<requested>[^;]*); backend_resolved=(?P<resolved>[^;]*)"
    r"; backend_reason_code=(?P<code>[^;]*)$"
)


class Route(enum.Enum):
    """How a decision reaches the gateway."""

    STREAM = "stream"
    CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class PairingDetails:
    """The device a pairing approval is about, each field made visible ("" when not said)."""

    device_id: str = ""
    client_kind: str = ""
    method: str = ""
    identity_fingerprint: str = ""
    transcript_hash: str = ""


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One approval waiting for a person."""

    approval_id: str
    route: Route
    run_id: str
    session_id: str
    tool_name: str
    title: str
    summary: str
    input_json: str
    risk: RiskLevel
    policy_explanation: str
    timeout_seconds: int
    requested_at: float
    reason: str = ""
    raw_summary: str = ""
    proposal_id: str = ""
    subject: SubjectType = SubjectType.TOOL
    """What the approval is about: a tool call, unless the gateway says otherwise."""
    pairing: PairingDetails | None = None
    """The device, for a device pairing (``subject`` ``DEVICE_PAIRING``)."""

    @property
    def is_pairing(self) -> bool:
        """True for a device's request to pair: approving it trusts the device."""
        return self.subject is SubjectType.DEVICE_PAIRING

    @property
    def what(self) -> str:
        """What is asked, in a few words: the tool's name, or the device that wants to pair."""
        if self.pairing is not None:
            return f"device pairing for {self.pairing.device_id or 'an unnamed device'}"
        return self.tool_name

    @property
    def session_scope(self) -> bool:
        """Whether "allow for the session" means anything: not for a pairing, decided once."""
        return not self.is_pairing

    @property
    def deadline(self) -> float | None:
        """When the gateway gives up on an answer (wall clock), if it says."""
        if not self.timeout_seconds:
            return None
        return self.requested_at + self.timeout_seconds

    @property
    def refusal(self) -> str:
        """Why palyrad will refuse any decision on this approval ("" when it will take one)."""
        if self.route is Route.STREAM and self.proposal_id and not is_ulid(self.proposal_id):
            return provider_id_refusal(self.proposal_id)
        return ""


def provider_id_refusal(proposal_id: str) -> str:
    """The sentence for a tool call whose id palyrad cannot take an answer for."""
    return (
        f"palyrad refuses decisions on this tool call: the model provider named it "
        f"{proposal_id!r}, palyrad uses that as the proposal id, and it accepts an answer "
        "only for a proposal id that is a ULID; the call will be denied whatever you choose"
    )


@dataclass(frozen=True, slots=True)
class SummaryParts:
    """palyrad's ``request_summary``, parsed; empty strings for what it does not say."""

    tool_name: str = ""
    skill_id: str = ""
    input_json: str = ""
    backend: str = ""


def parse_summary(raw: str) -> SummaryParts:
    """Read palyrad's JSON ``request_summary`` (anything else gives empty parts)."""
    backend = ""
    body = raw
    match = _BACKEND.search(raw)
    if match:
        body = raw[: match.start()]
        backend = f"backend {match['resolved']} (requested {match['requested']}, {match['code']})"
    try:
        document = json.loads(body)
    except ValueError:
        return SummaryParts(backend=backend)
    if not isinstance(document, dict) or "tool_name" not in document:
        return SummaryParts(backend=backend)
    return SummaryParts(
        tool_name=_text(document.get("tool_name")),
        skill_id=_text(document.get("skill_id")),
        input_json=_json(document["input_json"]) if "input_json" in document else "",
        backend=backend,
    )


def from_stream(event: ApprovalRequestEvent, session_id: str, seen_at: float) -> InboxEntry:
    """An approval our own run received."""
    parts = parse_summary(event.request_summary)
    tool_name = event.tool_name or parts.tool_name
    return InboxEntry(
        approval_id=event.approval_id,
        route=Route.STREAM,
        run_id=event.run_id,
        session_id=session_id,
        tool_name=tool_name,
        title=event.prompt.title or f"Approve {tool_name}",
        summary=_summary(event.request_summary, parts, event.prompt.summary, tool_name),
        input_json=event.input_json or parts.input_json,
        risk=event.prompt.risk,
        policy_explanation=event.prompt.policy_explanation,
        timeout_seconds=event.prompt.timeout_seconds,
        requested_at=seen_at,
        reason=_reason(parts, event.prompt.policy_explanation),
        raw_summary=event.request_summary,
        proposal_id=event.proposal_id,
    )


def from_record(record: Approval) -> InboxEntry:
    """An approval from the gateway's journal."""
    if record.subject_type is SubjectType.DEVICE_PAIRING:
        return _pairing_entry(record)
    parts = parse_summary(record.request_summary)
    tool_name = parts.tool_name or record.subject_id.removeprefix("tool:").split("|", 1)[0]
    return InboxEntry(
        approval_id=record.approval_id,
        route=Route.CONSOLE,
        run_id=record.run_id,
        session_id=record.session_id,
        tool_name=tool_name,
        title=record.prompt.title or record.subject_id,
        summary=_summary(record.request_summary, parts, record.prompt.summary, tool_name),
        input_json=_input_from_details(record.prompt.details_json) or parts.input_json,
        risk=record.prompt.risk,
        policy_explanation=record.prompt.policy_explanation,
        timeout_seconds=record.prompt.timeout_seconds,
        requested_at=record.requested_at_ms / 1000 if record.requested_at_ms else 0.0,
        reason=_reason(parts, record.prompt.policy_explanation),
        raw_summary=record.request_summary,
        subject=(
            SubjectType.TOOL
            if record.subject_type is SubjectType.UNSPECIFIED
            else record.subject_type
        ),
    )


def parse_pairing(details_json: str, subject_id: str = "", summary: str = "") -> PairingDetails:
    """A pairing prompt's ``details_json``, read; what it lacks is taken from the
    ``subject_id`` (``device_pairing:<session>:<device>``) and the request summary
    (``device_id=… client_kind=… method=…``)."""
    try:
        details = json.loads(details_json)
    except (ValueError, RecursionError):
        details = None
    if not isinstance(details, dict):
        details = {}
    said = dict(_SUMMARY_PAIR.findall(summary))
    subject_device = ""
    if subject_id.startswith("device_pairing:"):
        subject_device = subject_id.rsplit(":", 1)[-1]

    def field(key: str, fallback: str = "") -> str:
        value = details.get(key)
        chosen = value if isinstance(value, str) and value else said.get(key, "") or fallback
        return _one_line(chosen)

    return PairingDetails(
        device_id=field("device_id", subject_device),
        client_kind=field("client_kind"),
        method=field("method"),
        identity_fingerprint=field("identity_fingerprint"),
        transcript_hash=field("transcript_hash_hex"),
    )


def _pairing_entry(record: Approval) -> InboxEntry:
    """A device's request to pair: its device, not a tool and an input."""
    prompt = record.prompt
    pairing = parse_pairing(
        prompt.details_json, prompt.subject_id or record.subject_id, record.request_summary
    )
    if not pairing.device_id:
        pairing = replace(pairing, device_id=_one_line(record.device_id))
    device = pairing.device_id
    return InboxEntry(
        approval_id=record.approval_id,
        route=Route.CONSOLE,
        run_id=record.run_id,
        session_id=record.session_id,
        tool_name=record.subject_id,
        title=prompt.title or f"Approve device pairing for {device}",
        summary=prompt.summary or record.request_summary,
        input_json=_json(_loaded(prompt.details_json)) if prompt.details_json else "",
        risk=prompt.risk,
        policy_explanation=prompt.policy_explanation,
        timeout_seconds=prompt.timeout_seconds,
        requested_at=record.requested_at_ms / 1000 if record.requested_at_ms else 0.0,
        reason=prompt.policy_explanation,
        raw_summary=record.request_summary,
        subject=SubjectType.DEVICE_PAIRING,
        pairing=pairing,
    )


def merge(
    stream: tuple[InboxEntry, ...], records: tuple[Approval, ...], decided: frozenset[str]
) -> tuple[InboxEntry, ...]:
    """Stream entries first (they are answerable in place), then the gateway's, oldest first."""
    seen = {entry.approval_id for entry in stream}
    entries = [entry for entry in stream if entry.approval_id not in decided]
    entries += [
        from_record(record)
        for record in records
        if record.pending and record.approval_id not in seen and record.approval_id not in decided
    ]
    return tuple(sorted(entries, key=lambda entry: entry.requested_at))


def without_pairing_of(inbox: tuple[InboxEntry, ...], device_id: str) -> tuple[InboxEntry, ...]:
    """The inbox without the pairing request of ``device_id`` ("" keeps all): the node host
    enrolment approves its own device's request, so nobody is asked to decide it."""
    if not device_id:
        return inbox
    return tuple(e for e in inbox if e.pairing is None or e.pairing.device_id != device_id)


def _summary(raw: str, parts: SummaryParts, prompt_summary: str, tool_name: str) -> str:
    """One readable line: the prompt's sentence when the summary is palyrad's JSON."""
    if parts.tool_name or parts.backend:
        return prompt_summary or f"Tool {tool_name} requested explicit approval"
    return raw or prompt_summary


def _reason(parts: SummaryParts, policy_explanation: str) -> str:
    """Why the gateway asks: its policy sentence (without the backend detail), and the backend."""
    policy = policy_explanation.split("; backend_requested=", 1)[0].strip()
    return "; ".join(part for part in (policy, parts.backend) if part)


def _input_from_details(details_json: str) -> str:
    """The tool input inside a prompt's ``details_json`` (palyrad: ``input_json``)."""
    try:
        details = json.loads(details_json)
    except ValueError:
        return details_json
    if isinstance(details, dict):
        for key in ("input_json", "input"):
            if key in details:
                return _json(details[key])
    return details_json


def _one_line(text: str) -> str:
    """A field that is one line (an id, a fingerprint): every control made visible, line
    breaks and tabs too."""
    return visible(text).translate(_BREAKS)


def _loaded(text: str) -> Any:
    """``text`` parsed as JSON, or the text itself when it is not JSON."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _json(value: Any) -> str:
    """A parsed JSON value as JSON text again, with any control character made visible."""
    return visible(json.dumps(value, ensure_ascii=False))


def _text(value: Any) -> str:
    return visible(value) if isinstance(value, str) else ""
