"""Rollout flags and preferences: defaults, partial updates, the file, and ``NAME=VALUE``."""

from __future__ import annotations

import json

import pytest

from palyra_tui.state.persisted import PersistedState, Preferences, RolloutFlags
from palyra_tui.state.persisted_json import decode_state, encode_state
from palyra_tui.state.settings import (
    BadAssignment,
    PreferencesUpdate,
    RolloutUpdate,
    apply_preferences,
    apply_rollout,
    parse_assignments,
    rollout_items,
)

DESKTOP_DEFAULTS = {
    "companion_shell_enabled": True,
    "ambient_companion_enabled": True,
    "desktop_notifications_enabled": True,
    "offline_drafts_enabled": True,
    "voice_capture_enabled": False,
    "voice_overlay_enabled": True,
    "voice_silence_detection_enabled": False,
    "tts_playback_enabled": False,
    "release_channel": "preview",
}


def test_the_defaults_are_the_desktop_companions() -> None:
    assert dict(rollout_items(RolloutFlags())) == DESKTOP_DEFAULTS
    written = json.loads(encode_state(PersistedState()))
    assert written["rollout"] == DESKTOP_DEFAULTS


def test_an_update_changes_only_what_it_names_and_ignores_a_blank_channel() -> None:
    flags = apply_rollout(RolloutFlags(), RolloutUpdate(voice_capture_enabled=True))
    assert flags == RolloutFlags(voice_capture_enabled=True)
    flags = apply_rollout(flags, RolloutUpdate(release_channel="  "))
    assert flags.release_channel == "preview"
    flags = apply_rollout(flags, RolloutUpdate(release_channel=" stable\n"))
    assert flags == RolloutFlags(voice_capture_enabled=True, release_channel="stable")


def test_preferences_change_one_at_a_time() -> None:
    preferences = apply_preferences(Preferences(), PreferencesUpdate(theme=" nord "))
    assert preferences == Preferences(notifications=True, theme="nord")
    preferences = apply_preferences(preferences, PreferencesUpdate(notifications=False))
    assert preferences == Preferences(notifications=False, theme="nord")


def test_every_flag_and_the_preferences_survive_the_file() -> None:
    state = PersistedState(
        rollout=RolloutFlags(
            companion_shell_enabled=False,
            desktop_notifications_enabled=False,
            tts_playback_enabled=True,
            release_channel="stable",
        ),
        preferences=Preferences(notifications=False, theme="dracula"),
    )
    back = decode_state(encode_state(state)).state
    assert back.rollout == state.rollout and back.preferences == state.preferences


def test_the_earlier_name_of_the_notifications_flag_is_read() -> None:
    data = json.dumps({"schema_version": 2, "rollout": {"notifications_enabled": False}})
    assert decode_state(data.encode()).state.rollout.desktop_notifications_enabled is False


def test_assignments_take_true_false_on_off_and_a_channel() -> None:
    update = parse_assignments(
        ["voice_capture_enabled=on", "offline_drafts_enabled=FALSE", "release_channel=stable"]
    )
    assert update == RolloutUpdate(
        voice_capture_enabled=True, offline_drafts_enabled=False, release_channel="stable"
    )


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["voice=on"], "'voice' is not a rollout flag; the flags are companion_shell_enabled"),
        (["tts_playback_enabled=yes"], "tts_playback_enabled takes true, false, on or off"),
        (["tts_playback_enabled"], "'tts_playback_enabled' is not NAME=VALUE"),
        ([], "name at least one flag"),
    ],
)
def test_a_bad_assignment_is_one_sentence(words: list[str], message: str) -> None:
    with pytest.raises(BadAssignment) as refused:
        parse_assignments(["voice_capture_enabled=on", *words] if words else words)
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)
