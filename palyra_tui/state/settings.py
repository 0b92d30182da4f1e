"""Changing the operator's settings: the rollout flags and the preferences.

Both are kept in the state file for the operator, not per profile, and both
change by partial updates: a field left ``None`` keeps its value, so two
clients that change different settings at once do not undo each other.  A
blank release channel is ignored, as the desktop companion ignores it.

``parse_assignments`` reads ``NAME=VALUE`` words (``palyra-tui rollout set``):
booleans as ``true``/``false``/``on``/``off``; an unknown name or a bad value
is refused with one sentence before anything changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from palyra_tui.state.persisted import (
    MAX_THEME,
    ROLLOUT_FLAGS,
    Preferences,
    RolloutFlags,
)
from palyra_tui.text import sanitize_line

_TRUE = frozenset({"true", "on"})
_FALSE = frozenset({"false", "off"})
RELEASE_CHANNEL = "release_channel"
ROLLOUT_NAMES = (*ROLLOUT_FLAGS, RELEASE_CHANNEL)
"""Every name ``rollout set`` takes, in the order ``rollout`` prints them."""


@dataclass(frozen=True, slots=True)
class RolloutUpdate:
    """Rollout flags to change; ``None`` leaves a flag as it is."""

    companion_shell_enabled: bool | None = None
    ambient_companion_enabled: bool | None = None
    desktop_notifications_enabled: bool | None = None
    offline_drafts_enabled: bool | None = None
    voice_capture_enabled: bool | None = None
    voice_overlay_enabled: bool | None = None
    voice_silence_detection_enabled: bool | None = None
    tts_playback_enabled: bool | None = None
    release_channel: str | None = None


@dataclass(frozen=True, slots=True)
class PreferencesUpdate:
    """Preferences to change; ``None`` leaves one as it is."""

    notifications: bool | None = None
    theme: str | None = None


class BadAssignment(ValueError):
    """A ``NAME=VALUE`` word that cannot be applied; the message says why in one sentence."""


def apply_rollout(flags: RolloutFlags, update: RolloutUpdate) -> RolloutFlags:
    """``flags`` with the fields ``update`` sets; a blank release channel is ignored."""
    changes: dict[str, Any] = {
        name: value for name in ROLLOUT_FLAGS if (value := getattr(update, name)) is not None
    }
    channel = sanitize_line((update.release_channel or "").strip()).strip()[:MAX_THEME]
    if channel:
        changes[RELEASE_CHANNEL] = channel
    return replace(flags, **changes) if changes else flags


def apply_preferences(preferences: Preferences, update: PreferencesUpdate) -> Preferences:
    """``preferences`` with the fields ``update`` sets (a theme "" means the default)."""
    if update.notifications is not None:
        preferences = replace(preferences, notifications=update.notifications)
    if update.theme is not None:
        theme = sanitize_line(update.theme.strip()).strip()[:MAX_THEME]
        preferences = replace(preferences, theme=theme)
    return preferences


def rollout_items(flags: RolloutFlags) -> tuple[tuple[str, bool | str], ...]:
    """Each rollout setting by name, in :data:`ROLLOUT_NAMES` order."""
    values: list[tuple[str, bool | str]] = [(name, getattr(flags, name)) for name in ROLLOUT_FLAGS]
    return (*values, (RELEASE_CHANNEL, flags.release_channel))


def parse_assignments(words: Iterable[str]) -> RolloutUpdate:
    """The update ``NAME=VALUE`` words ask for; raises :class:`BadAssignment`."""
    changes: dict[str, bool | str] = {}
    for word in words:
        name, equals, raw = word.partition("=")
        name = name.strip()
        shown = sanitize_line(name)[:60]
        if not equals or not name:
            raise BadAssignment(f"{sanitize_line(word)[:60]!r} is not NAME=VALUE")
        if name not in ROLLOUT_NAMES:
            raise BadAssignment(
                f"{shown!r} is not a rollout flag; the flags are {', '.join(ROLLOUT_NAMES)}"
            )
        value = raw.strip()
        if name == RELEASE_CHANNEL:
            changes[name] = sanitize_line(value)
            continue
        lowered = value.lower()
        if lowered not in _TRUE | _FALSE:
            raise BadAssignment(
                f"{name} takes true, false, on or off, not {sanitize_line(value)[:60]!r}"
            )
        changes[name] = lowered in _TRUE
    if not changes:
        raise BadAssignment("name at least one flag to set, as NAME=VALUE")
    return RolloutUpdate(**changes)  # type: ignore[arg-type]
