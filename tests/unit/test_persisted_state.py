"""The state file's schema: migration from version 1, bounds, de-duplication, strict types."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from palyra_tui.models.clock import ManualClock
from palyra_tui.state.drafts import MAX_DRAFTS, Drafts, OfflineDraft
from palyra_tui.state.persisted import (
    DEFAULT_PROFILE,
    MAX_NOTIFICATIONS,
    MAX_ONBOARDING_EVENTS,
    SCHEMA_VERSION,
    LegacySecrets,
    NotificationKind,
    Onboarding,
    PersistedState,
    Place,
    ProfileState,
    Section,
    add_notification,
    mark_read,
    normalise,
    record_event,
    record_failure,
)
from palyra_tui.state.persisted_json import (
    CorruptState,
    NewerState,
    decode_state,
    encode_state,
    migrate_1_to_2,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "state"
V1 = FIXTURES / "state-v1.json"
V2 = FIXTURES / "state-v2.json"
ADMIN = "legacy-admin-token-0123456789"
BROWSER = "legacy-browser-token-9876543210"


def decode(document: dict[str, Any]) -> PersistedState:
    return decode_state(json.dumps(document).encode()).state


def test_a_version_1_file_migrates_to_the_version_2_golden_file() -> None:
    decoded = decode_state(V1.read_bytes())
    assert decoded.version == 1
    assert encode_state(decoded.state) == V2.read_bytes()
    profile = decoded.state.profile()
    assert decoded.state.active_profile == DEFAULT_PROFILE
    assert profile.place == Place(Section.CHAT, "01JQ7P4NQ2T7K5XG0C9M3E8AAA")
    assert decoded.state.rollout.offline_drafts_enabled is False
    assert decoded.state.preferences.theme == "gruvbox"


def test_the_version_2_golden_file_reads_back_unchanged() -> None:
    decoded = decode_state(V2.read_bytes())
    assert decoded.version == SCHEMA_VERSION and not decoded.legacy
    assert encode_state(decoded.state) == V2.read_bytes()


def test_the_migration_moves_the_flat_fields_under_the_local_profile() -> None:
    migrated = migrate_1_to_2(
        {"offline_drafts": [], "notifications": [], "active_section": "logs", "extra": 1}
    )
    assert migrated == {
        "extra": 1,
        "schema_version": 2,
        "active_profile": "local",
        "profile_states": {
            "local": {"offline_drafts": [], "notifications": [], "active_section": "logs"}
        },
    }


def test_a_file_without_a_version_is_version_1_and_an_explicit_1_too() -> None:
    flat = {"active_section": "approvals"}
    assert decode(flat).profile().place.section is Section.APPROVALS
    assert decode({**flat, "schema_version": 1}).profile().place.section is Section.APPROVALS
    # In version 2 the flat field means nothing.
    assert decode({**flat, "schema_version": 2}).profile().place.section is Section.HEALTH


def test_legacy_secrets_come_out_apart_and_never_show() -> None:
    decoded = decode_state(V1.read_bytes())
    assert decoded.legacy == LegacySecrets(ADMIN, BROWSER)
    written = encode_state(decoded.state).decode()
    shown = f"{decoded.legacy!r} {decoded.legacy} {decoded!r}"
    for secret in (ADMIN, BROWSER):
        assert secret not in written and secret not in shown
    assert repr(LegacySecrets(admin_token="x")) == (
        "LegacySecrets(admin_token=<redacted>, browser_token=<absent>)"
    )
    desktop = decode_state(b'{"schema_version": 2, "browser_auth_token": "b", "admin_token": 5}')
    assert desktop.legacy == LegacySecrets("", "b")


def test_missing_fields_take_defaults_and_unknown_ones_are_ignored() -> None:
    empty = decode({})
    assert empty.active_profile == DEFAULT_PROFILE
    assert [name for name, _ in empty.profiles] == [DEFAULT_PROFILE]
    assert empty.rollout.offline_drafts_enabled and empty.rollout.desktop_notifications_enabled
    assert empty.rollout.release_channel == "preview"
    assert empty.preferences.notifications and empty.preferences.theme == ""
    assert empty.profile().onboarding.flow_id  # a flow id is made up
    nulls = decode(
        {"schema_version": 2, "rollout": None, "profile_states": {"local": {"onboarding": None}}}
    )
    assert nulls.rollout.offline_drafts_enabled
    odd = decode({"schema_version": 2, "wallpaper": "blue", "rollout": {"hologram": True}})
    assert b"wallpaper" not in encode_state(odd) and b"hologram" not in encode_state(odd)


def test_an_unknown_section_falls_back_and_an_unknown_kind_is_dropped() -> None:
    state = decode(
        {
            "active_section": "voice_overlay",
            "notifications": [{"kind": "trust_level", "title": "?"}, {"kind": "run"}],
        }
    )
    assert state.profile().place.section is Section.HEALTH
    assert [n.kind for n in state.profile().notifications] == [NotificationKind.RUN]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"schema_version": "2"}, "schema_version: expected an integer, got a string"),
        ({"schema_version": True}, "schema_version: expected an integer, got a boolean"),
        ({"schema_version": 0}, "schema_version: 0 is not a version"),
        ({"rollout": {"offline_drafts_enabled": "no"}}, "rollout.offline_drafts_enabled: "),
        ({"offline_drafts": {"a": 1}}, "offline_drafts: expected an array"),
        (
            {"offline_drafts": [{"text": "ok"}, {"text": 5}]},
            "offline_drafts[1].text: expected a string, got an integer",
        ),
        (
            {"schema_version": 2, "profile_states": {"p\x1b[31m": {"notifications": 1}}},
            "profile_states.p.notifications: expected an array",
        ),
        ({"notifications": [{"created_at_unix_ms": 1.5}]}, "got a number"),
        ({"notifications": [{"created_at_unix_ms": -1}]}, "is not a time in milliseconds"),
        ({"onboarding": {"failure_step_counts": {"x": "1"}}}, "failure_step_counts.x"),
        ({"preferences": []}, "preferences: expected an object, got an array"),
        ({"schema_version": 2, "profile_states": {"local": []}}, "profile_states.local: expected"),
        (
            {"schema_version": 2, "profile_states": {"local": {"offline_drafts": [{"text": 1}]}}},
            "profile_states.local.offline_drafts[0].text: expected a string",
        ),
    ],
)
def test_a_field_of_the_wrong_type_makes_the_file_corrupt(
    document: dict[str, Any], message: str
) -> None:
    with pytest.raises(CorruptState) as raised:
        decode({"admin_token": ADMIN, **document})
    assert message in str(raised.value)
    assert ADMIN not in str(raised.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "it is not JSON (Expecting value at line 1)"),
        (b'{"schema_version": 2,', "it is not JSON"),
        (b"\xff\xfe{}", "it is not UTF-8 text (byte 0)"),
        (b"[1, 2]", "it holds an array, not an object"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a": ' + b"9" * 5000 + b"}", "a value is too large"),
    ],
)
def test_bytes_that_are_not_a_state_file_say_why(data: bytes, message: str) -> None:
    with pytest.raises(CorruptState, match=message.replace("(", r"\(").replace(")", r"\)")):
        decode_state(data)


def test_a_newer_version_is_refused_with_its_number() -> None:
    with pytest.raises(NewerState) as raised:
        decode_state(json.dumps({"schema_version": SCHEMA_VERSION + 1}).encode())
    assert raised.value.version == SCHEMA_VERSION + 1


def test_lists_keep_their_newest_entries() -> None:
    drafts = [
        {"draft_id": f"d{i}", "session_id": "s", "text": f"m{i}", "created_at_unix_ms": i}
        for i in range(MAX_DRAFTS + 5)
    ]
    notifications = [{"kind": "run", "title": f"n{i}"} for i in range(MAX_NOTIFICATIONS + 3)]
    events = [{"kind": f"e{i}"} for i in range(MAX_ONBOARDING_EVENTS + 2)]
    profile = decode(
        {
            "offline_drafts": drafts,
            "notifications": notifications,
            "onboarding": {"recent_events": events},
        }
    ).profile()
    assert [d.text for d in profile.drafts] == [f"m{i}" for i in range(5, MAX_DRAFTS + 5)]
    assert profile.notifications[0].title == "n3"
    assert len(profile.notifications) == MAX_NOTIFICATIONS
    assert profile.onboarding.recent_events[0].kind == "e2"
    assert len(profile.onboarding.recent_events) == MAX_ONBOARDING_EVENTS


def test_the_same_message_in_the_same_session_is_one_draft_with_the_newest_reason() -> None:
    clock = ManualClock(100.0)
    drafts = Drafts(clock)
    first = drafts.add("s1", "hello", "gateway down")
    other = drafts.add("s2", "hello", "gateway down")
    clock.advance(5)
    again = drafts.add("s1", "hello", "still down\x1b[2J")
    assert again.draft_id == first.draft_id
    assert drafts.all() == (other, OfflineDraft(first.draft_id, "s1", "hello", "still down", 105.0))
    drafts.restore((*drafts.all(), replace(first, draft_id="copy", reason="older copy")))
    assert [(d.session_id, d.reason) for d in drafts.all()] == [
        ("s2", "gateway down"),
        ("s1", "older copy"),
    ]
    for index in range(MAX_DRAFTS + 3):
        drafts.add("s3", f"m{index}", "down")
    assert len(drafts.all()) == MAX_DRAFTS and drafts.all()[0].text == "m3"


def test_notifications_are_bounded_and_marked_read_by_id_or_all() -> None:
    notifications: tuple[Any, ...] = ()
    for index in range(MAX_NOTIFICATIONS + 2):
        notifications = add_notification(
            notifications, NotificationKind.RUN, f"run {index}\x1b]52;c;x\x07", "done", float(index)
        )
    assert len(notifications) == MAX_NOTIFICATIONS
    assert notifications[0].title == "run 2" and not notifications[0].read
    chosen = mark_read(notifications, [notifications[0].notification_id])
    assert [n.read for n in chosen[:2]] == [True, False]
    assert all(n.read for n in mark_read(notifications))


def test_onboarding_failures_are_counted_and_recorded_as_events() -> None:
    onboarding = record_event(Onboarding(flow_id="f"), "welcome_acknowledged", "  ", 1.0)
    onboarding = record_failure(onboarding, "state_root", "permission denied\n", 2.0)
    onboarding = record_failure(onboarding, "state_root", "still denied", 3.0)
    assert onboarding.failure_step_counts == (("state_root", 2),)
    assert onboarding.last_failure is not None and onboarding.last_failure.message == "still denied"
    assert [(e.kind, e.detail) for e in onboarding.recent_events] == [
        ("welcome_acknowledged", ""),
        ("failure", "state_root: permission denied⏎"),
        ("failure", "state_root: still denied"),
    ]
    for index in range(MAX_ONBOARDING_EVENTS):
        onboarding = record_event(onboarding, f"e{index}", "", float(index))
    assert len(onboarding.recent_events) == MAX_ONBOARDING_EVENTS


def test_normalising_keeps_the_active_profile_and_cleans_names() -> None:
    state = normalise(
        PersistedState(
            active_profile="  ",
            profiles=(("", ProfileState()), ("work\x1b[1m", ProfileState())),
        )
    )
    assert state.active_profile == DEFAULT_PROFILE
    assert [name for name, _ in state.profiles] == [DEFAULT_PROFILE, "work"]
    switched = state.with_profile(ProfileState(place=Place(Section.LOGS)), "work")
    assert switched.profile("work").place.section is Section.LOGS
    assert switched.profile().place.section is Section.HEALTH
    once = normalise(switched)
    assert normalise(once) == once
