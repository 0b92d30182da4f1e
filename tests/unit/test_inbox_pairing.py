"""A device's request to pair reaches the inbox as a pairing, not as a tool call."""

from __future__ import annotations

import json
from dataclasses import replace

from palyra_tui.host.codec import decode, encode
from palyra_tui.models.gateway import Approval, RiskLevel, SubjectType
from palyra_tui.state.inbox import PairingDetails, from_record, parse_pairing, without_pairing_of
from palyra_tui.state.runtime_api import InboxChanged
from tests.snapshots.fixed import (
    FINGERPRINT,
    NOW,
    PAIRING_DEVICE,
    PAIRING_SESSION,
    pairing_approval,
)

SESSION = PAIRING_SESSION
DEVICE = PAIRING_DEVICE


def test_a_pairing_approval_carries_its_device() -> None:
    entry = from_record(pairing_approval())
    assert entry.subject is SubjectType.DEVICE_PAIRING and entry.is_pairing
    assert entry.pairing == PairingDetails(DEVICE, "node", "pin", FINGERPRINT, "ab" * 32)
    assert entry.what == f"device pairing for {DEVICE}"
    assert not entry.session_scope, "a pairing is decided once"
    assert entry.title == f"Approve device pairing for {DEVICE}"
    assert entry.summary.startswith(f"Device `{DEVICE}` requested node pairing")
    assert entry.reason.startswith("Node/device pairing is deny-by-default")
    assert entry.risk is RiskLevel.HIGH and entry.deadline == NOW - 10 + 600
    assert entry.refusal == ""


def test_device_fields_are_made_visible_not_obeyed() -> None:
    hostile = f"{DEVICE}\x1b[2J\u202etxt.exe"
    entry = from_record(pairing_approval(device_id=hostile, method="pin\n\x07"))
    assert entry.pairing is not None
    assert entry.pairing.device_id == f"{DEVICE}\\u001b[2J\\u202etxt.exe"
    assert entry.pairing.method == "pin\\u000a\\u0007"
    assert all(ord(c) >= 0x20 for c in entry.what)


def test_what_details_lack_comes_from_the_subject_and_the_summary() -> None:
    for broken in ("", "not json", "[1, 2]", json.dumps({"device_id": 7}), "[" * 100_000):
        pairing = from_record(pairing_approval(broken)).pairing
        assert pairing == PairingDetails(DEVICE, "node", "pin", "", ""), broken[:40]
    other = "01J0NODE0000000000000000ZZ"
    assert parse_pairing("", f"device_pairing:{SESSION}:{other}").device_id == other
    assert parse_pairing("{}").device_id == ""


def test_a_tool_approval_stays_a_tool_call() -> None:
    summary = json.dumps({"tool_name": "palyra.process.run", "input_json": {"command": "ls"}})
    for subject in (SubjectType.TOOL, SubjectType.UNSPECIFIED):
        record = Approval(
            approval_id="01JQ7P4NQ2T7K5XG0C9M3E8TTT",
            subject_type=subject,
            subject_id="tool:palyra.process.run",
            request_summary=summary,
        )
        entry = from_record(record)
        assert entry.subject is SubjectType.TOOL and not entry.is_pairing
        assert entry.pairing is None and entry.session_scope
        assert entry.what == entry.tool_name == "palyra.process.run"


def test_a_pairing_entry_crosses_the_runtime_host_link_whole() -> None:
    entry = from_record(pairing_approval())
    assert decode(encode(InboxChanged((entry,))), InboxChanged) == InboxChanged((entry,))


def test_the_pairing_enrolment_approves_itself_is_not_put_before_a_person() -> None:
    mine = from_record(pairing_approval())
    other = from_record(
        replace(
            pairing_approval(),
            approval_id="01J0OTHERAPPROVAL000000000",
            prompt=replace(
                pairing_approval().prompt,
                details_json=json.dumps({"device_id": "01J0SOMEONEELSE0000000000Z"}),
            ),
        )
    )
    tool = from_record(replace(pairing_approval(), subject_type=SubjectType.TOOL))
    inbox = (mine, other, tool)
    assert without_pairing_of(inbox, DEVICE) == (other, tool)
    assert without_pairing_of(inbox, "") == inbox
