"""The state file's JSON: the current layout, the migrations from older ones, and the checks.

Reading is lenient about what is missing and strict about what is there: a
missing field (or ``null``) takes its default, an unknown field is ignored
(and gone after the next write), but a field of the wrong type makes the
whole file unreadable (:class:`CorruptState`, whose message names the field,
never its value).  A section or notification kind this version does not know
falls back to the default section, or drops the notification.

Versions: a file without ``schema_version`` is version 1, the flat layout
from before profiles (``active_section``, ``active_session_id``,
``offline_drafts``, ``notifications`` and ``onboarding`` at the top level).
Version 2 keeps those per profile under ``profile_states``.  Each migration
is a pure function from one version's document to the next one's.

Plaintext ``admin_token`` and ``browser_token`` (or the desktop companion's
``browser_auth_token``) at the top level are taken out before anything else
and returned apart, so that they reach the secret store and never the
rewritten file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from palyra_tui.state.drafts import OfflineDraft
from palyra_tui.state.persisted import (
    DEFAULT_PROFILE,
    ROLLOUT_FLAGS,
    SCHEMA_VERSION,
    LegacySecrets,
    Notification,
    NotificationKind,
    Onboarding,
    OnboardingEvent,
    OnboardingFailure,
    PersistedState,
    Place,
    Preferences,
    ProfileState,
    RolloutFlags,
    Section,
    normalise,
)
from palyra_tui.text import sanitize_line

T = TypeVar("T")
Document = dict[str, Any]

PROFILE_KEYS = (
    "active_section",
    "active_session_id",
    "offline_drafts",
    "notifications",
    "onboarding",
)
"""What version 1 kept at the top level and version 2 keeps per profile."""
LEGACY_SECRET_KEYS = {
    "admin_token": "admin_token",
    "browser_token": "browser_token",
    "browser_auth_token": "browser_token",
}
MAX_UNIX_MS = 2**53
"""Milliseconds beyond this are not a time (and lose precision as a float)."""


class CorruptState(ValueError):
    """The file is not a state file this version can read; the message says where."""


class NewerState(ValueError):
    """The file was written by a newer palyra-tui (its ``schema_version`` is ``version``)."""

    def __init__(self, version: int) -> None:
        super().__init__(f"schema version {version}")
        self.version = version


@dataclass(frozen=True, slots=True)
class Decoded:
    """A state file read: the normalised state, the secrets it held, and its version."""

    state: PersistedState
    legacy: LegacySecrets
    version: int


# Migrations ----------------------------------------------------------------------------


def migrate_1_to_2(document: Document) -> Document:
    """Move the flat, pre-profile fields into ``profile_states["local"]``."""
    migrated = {key: value for key, value in document.items() if key not in PROFILE_KEYS}
    migrated["profile_states"] = {
        DEFAULT_PROFILE: {key: document[key] for key in PROFILE_KEYS if key in document}
    }
    migrated["active_profile"] = DEFAULT_PROFILE
    migrated["schema_version"] = 2
    return migrated


MIGRATIONS: dict[int, Callable[[Document], Document]] = {1: migrate_1_to_2}
"""``MIGRATIONS[n]`` turns a version ``n`` document into a version ``n + 1`` one."""


# Reading -------------------------------------------------------------------------------


def decode_state(data: bytes) -> Decoded:
    """The state ``data`` holds; raises CorruptState or NewerState."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CorruptState(f"it is not UTF-8 text (byte {error.start})") from None
    try:
        document = json.loads(text)
    except RecursionError:
        raise CorruptState("it is nested too deeply") from None
    except ValueError as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else "a value is too large"
        where = f" at line {error.lineno}" if isinstance(error, json.JSONDecodeError) else ""
        raise CorruptState(f"it is not JSON ({reason}{where})") from None
    if not isinstance(document, dict):
        raise CorruptState(f"it holds {_kind(document)}, not an object")
    legacy = _take_secrets(document)
    read = version = _version(document)
    if version > SCHEMA_VERSION:
        raise NewerState(version)
    while version < SCHEMA_VERSION:
        document = MIGRATIONS[version](document)
        version += 1
    return Decoded(normalise(_state(_Fields(document, ""), flat=read == 1)), legacy, read)


def legacy_in(data: bytes) -> LegacySecrets:
    """The plaintext tokens at the top level of a state file's bytes; none when they
    are not a JSON object (whatever else is wrong with them is for :func:`decode_state`)."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return LegacySecrets()
    return _take_secrets(document) if isinstance(document, dict) else LegacySecrets()


def _take_secrets(document: Document) -> LegacySecrets:
    found = {"admin_token": "", "browser_token": ""}
    for key, name in LEGACY_SECRET_KEYS.items():
        value = document.pop(key, None)
        if isinstance(value, str) and value.strip() and not found[name]:
            found[name] = value.strip()
    return LegacySecrets(**found)


def _version(document: Document) -> int:
    value = document.get("schema_version")
    if value is None:
        return 1
    if not isinstance(value, int) or isinstance(value, bool):
        raise CorruptState(f"schema_version: expected an integer, got {_kind(value)}")
    if value < 1:
        raise CorruptState(f"schema_version: {value} is not a version")
    return value


class _Fields:
    """One JSON object and where it sits in the file, for messages."""

    def __init__(self, value: object, path: str) -> None:
        if not isinstance(value, dict):
            raise CorruptState(f"{path or 'the file'}: expected an object, got {_kind(value)}")
        self.document: Document = value
        self.path = path

    def at(self, key: str) -> str:
        shown = describe_key(key)
        return f"{self.path}.{shown}" if self.path else shown

    def get(self, key: str, kind: type[T], default: T) -> T:
        value = self.document.get(key)
        if value is None:
            return default
        _check(value, kind, self.at(key))
        return value  # type: ignore[no-any-return]

    def text(self, key: str, default: str = "") -> str:
        return self.get(key, str, default)

    def flag(self, key: str, default: bool) -> bool:
        return self.get(key, bool, default)

    def time(self, key: str) -> float | None:
        value = self.document.get(key)
        if value is None:
            return None
        _check(value, int, self.at(key))
        if not 0 <= value <= MAX_UNIX_MS:
            raise CorruptState(f"{self.at(key)}: {value} is not a time in milliseconds")
        return float(value) / 1000

    def child(self, key: str) -> _Fields:
        value = self.document.get(key)
        return _Fields({} if value is None else value, self.at(key))

    def items(self, key: str) -> list[_Fields]:
        """The elements of an array of objects."""
        value = self.document.get(key)
        if value is None:
            return []
        path = self.at(key)
        if not isinstance(value, list):
            raise CorruptState(f"{path}: expected an array, got {_kind(value)}")
        return [_Fields(item, f"{path}[{index}]") for index, item in enumerate(value)]


def _check(value: object, kind: type, path: str) -> None:
    if kind is int:
        good = isinstance(value, int) and not isinstance(value, bool)
    elif kind is bool:
        good = isinstance(value, bool)
    else:
        good = isinstance(value, kind)
    if not good:
        raise CorruptState(f"{path}: expected {_NAMES[kind]}, got {_kind(value)}")


_NAMES: dict[type, str] = {str: "a string", int: "an integer", bool: "a boolean", dict: "an object"}


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _state(fields: _Fields, *, flat: bool) -> PersistedState:
    """``flat``: the profile's fields sat at the top level of the file (version 1), and
    a message names them where they were."""
    profiles = fields.child("profile_states")
    kept = [
        (name, _profile(_Fields({} if value is None else value, "" if flat else profiles.at(name))))
        for name, value in profiles.document.items()
        if isinstance(name, str)
    ]
    rollout = fields.child("rollout")
    preferences = fields.child("preferences")
    return PersistedState(
        active_profile=fields.text("active_profile", DEFAULT_PROFILE),
        profiles=tuple(kept),
        rollout=_rollout(rollout),
        preferences=Preferences(
            notifications=preferences.flag("notifications", True),
            theme=preferences.text("theme"),
        ),
    )


def _rollout(fields: _Fields) -> RolloutFlags:
    """The flags the file holds, each missing one at its default.  ``notifications_enabled``
    is what an earlier version called ``desktop_notifications_enabled``."""
    defaults = RolloutFlags()
    flags: dict[str, bool] = {}
    for name in ROLLOUT_FLAGS:
        default = getattr(defaults, name)
        if name == "desktop_notifications_enabled":
            default = fields.flag("notifications_enabled", default)
        flags[name] = fields.flag(name, default)
    channel = fields.text("release_channel", defaults.release_channel)
    return RolloutFlags(**flags, release_channel=channel)


def _profile(fields: _Fields) -> ProfileState:
    section = fields.text("active_section", Section.HEALTH.value)
    place = Place(
        Section(section) if section in _SECTIONS else Section.HEALTH,
        fields.text("active_session_id"),
    )
    drafts = tuple(
        OfflineDraft(
            draft_id=draft.text("draft_id"),
            session_id=draft.text("session_id"),
            text=draft.text("text"),
            reason=draft.text("reason"),
            created_at=draft.time("created_at_unix_ms") or 0.0,
        )
        for draft in fields.items("offline_drafts")
    )
    notifications = tuple(
        notification
        for item in fields.items("notifications")
        if (notification := _notification(item)) is not None
    )
    onboarding = _onboarding(fields.child("onboarding"))
    return ProfileState(place, drafts, notifications, onboarding, fields.text("runtime_state_root"))


_SECTIONS = frozenset(section.value for section in Section)
_KINDS = frozenset(kind.value for kind in NotificationKind)


def _notification(fields: _Fields) -> Notification | None:
    kind = fields.text("kind")
    title = fields.text("title")
    detail = fields.text("detail")
    created_at = fields.time("created_at_unix_ms") or 0.0
    read = fields.flag("read", False)
    if kind not in _KINDS:
        return None
    return Notification(
        fields.text("notification_id"), NotificationKind(kind), title, detail, created_at, read
    )


def _onboarding(fields: _Fields) -> Onboarding:
    failure = None
    if fields.document.get("last_failure") is not None:
        last = fields.child("last_failure")
        failure = OnboardingFailure(
            last.text("step"), last.text("message"), last.time("recorded_at_unix_ms") or 0.0
        )
    counts = fields.child("failure_step_counts")
    openai = fields.child("openai")
    return Onboarding(
        flow_id=fields.text("flow_id"),
        welcome_acknowledged_at=fields.time("welcome_acknowledged_at_unix_ms"),
        state_root_confirmed_at=fields.time("state_root_confirmed_at_unix_ms"),
        dashboard_handoff_at=fields.time("dashboard_handoff_at_unix_ms"),
        completed_at=fields.time("completed_at_unix_ms"),
        discord_skipped_at=fields.time("discord_skipped_at_unix_ms"),
        dashboard_handoff_skipped_at=fields.time("dashboard_handoff_skipped_at_unix_ms"),
        openai_profile_id=openai.text("last_profile_id"),
        openai_connected_at=openai.time("last_connected_at_unix_ms"),
        last_failure=failure,
        recent_events=tuple(
            OnboardingEvent(
                event.text("kind"), event.text("detail"), event.time("recorded_at_unix_ms") or 0.0
            )
            for event in fields.items("recent_events")
        ),
        failure_step_counts=tuple(
            (step, counts.get(step, int, 0)) for step in counts.document if isinstance(step, str)
        ),
    )


# Writing -------------------------------------------------------------------------------


def encode_state(state: PersistedState) -> bytes:
    """The file's bytes: every key written, ``null`` for what is absent, UTF-8.

    A lone surrogate (JSON allows ``\\udc80`` in a string) cannot be UTF-8; it is
    written back as the same JSON escape instead.
    """
    document = {
        "schema_version": SCHEMA_VERSION,
        "active_profile": state.active_profile,
        "rollout": {
            **{name: getattr(state.rollout, name) for name in ROLLOUT_FLAGS},
            "release_channel": state.rollout.release_channel,
        },
        "preferences": {
            "notifications": state.preferences.notifications,
            "theme": state.preferences.theme,
        },
        "profile_states": {name: _profile_document(kept) for name, kept in state.profiles},
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return text.encode("utf-8", "backslashreplace")


def _ms(seconds: float | None) -> int | None:
    if seconds is None or not math.isfinite(seconds):
        return None
    return max(0, round(seconds * 1000))


def _null(text: str) -> str | None:
    return text or None


def _profile_document(state: ProfileState) -> Document:
    onboarding = state.onboarding
    failure = onboarding.last_failure
    return {
        "active_section": state.place.section.value,
        "active_session_id": _null(state.place.session_id),
        "runtime_state_root": _null(state.runtime_root),
        "offline_drafts": [
            {
                "draft_id": d.draft_id,
                "session_id": _null(d.session_id),
                "text": d.text,
                "reason": d.reason,
                "created_at_unix_ms": _ms(d.created_at),
            }
            for d in state.drafts
        ],
        "notifications": [
            {
                "notification_id": n.notification_id,
                "kind": n.kind.value,
                "title": n.title,
                "detail": n.detail,
                "created_at_unix_ms": _ms(n.created_at),
                "read": n.read,
            }
            for n in state.notifications
        ],
        "onboarding": {
            "flow_id": onboarding.flow_id,
            "welcome_acknowledged_at_unix_ms": _ms(onboarding.welcome_acknowledged_at),
            "state_root_confirmed_at_unix_ms": _ms(onboarding.state_root_confirmed_at),
            "dashboard_handoff_at_unix_ms": _ms(onboarding.dashboard_handoff_at),
            "completed_at_unix_ms": _ms(onboarding.completed_at),
            "discord_skipped_at_unix_ms": _ms(onboarding.discord_skipped_at),
            "dashboard_handoff_skipped_at_unix_ms": _ms(onboarding.dashboard_handoff_skipped_at),
            "openai": {
                "preferred_method": "api_key" if onboarding.openai_profile_id else None,
                "last_profile_id": _null(onboarding.openai_profile_id),
                "last_connected_at_unix_ms": _ms(onboarding.openai_connected_at),
            },
            "last_failure": None
            if failure is None
            else {
                "step": failure.step,
                "message": failure.message,
                "recorded_at_unix_ms": _ms(failure.recorded_at),
            },
            "recent_events": [
                {
                    "kind": e.kind,
                    "detail": _null(e.detail),
                    "recorded_at_unix_ms": _ms(e.recorded_at),
                }
                for e in onboarding.recent_events
            ],
            "failure_step_counts": dict(onboarding.failure_step_counts),
        },
    }


def describe_key(key: str) -> str:
    """A key from the file as a message may show it: one line, cut to 60 characters."""
    cleaned = sanitize_line(key)
    return cleaned if len(cleaned) <= 60 else cleaned[:59] + "…"
