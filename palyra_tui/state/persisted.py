"""What palyra-tui keeps between runs, as frozen values, and the rules that bound it.

One state file per state root holds these values (``state/state_file.py``
reads and writes it; ``state/persisted_json.py`` is its JSON).  Drafts,
notifications, onboarding and the place on show are kept per profile; the
built-in profile is ``local``.  Rollout flags and preferences belong to the
operator, not to a profile.  Every list is bounded and drops its oldest
entries first: notifications 40, drafts 20, onboarding events 40.

Only what a terminal needs is kept: the desktop companion's voice, hotkey and
tray fields have no meaning here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from palyra_tui.models.ids import new_ulid
from palyra_tui.state.drafts import OfflineDraft, bounded_drafts
from palyra_tui.text import sanitize, sanitize_line

SCHEMA_VERSION = 2
DEFAULT_PROFILE = "local"
MAX_NOTIFICATIONS = 40
MAX_ONBOARDING_EVENTS = 40
MAX_PROFILE_NAME = 64
MAX_THEME = 64
DEFAULT_RELEASE_CHANNEL = "preview"


class Section(enum.Enum):
    """A section of the control center."""

    HEALTH = "health"
    LOGS = "logs"
    CHAT = "chat"
    APPROVALS = "approvals"


@dataclass(frozen=True, slots=True)
class Place:
    """The section on show and the chat session open in it ("" for none)."""

    section: Section = Section.HEALTH
    session_id: str = ""


class NotificationKind(enum.Enum):
    """What a notification is about."""

    APPROVAL = "approval"
    CONNECTION = "connection"
    RUN = "run"
    DRAFT = "draft"
    STATE = "state"


@dataclass(frozen=True, slots=True)
class Notification:
    """Something the operator was told, read or not yet."""

    notification_id: str
    kind: NotificationKind
    title: str
    detail: str
    created_at: float
    read: bool = False


@dataclass(frozen=True, slots=True)
class OnboardingEvent:
    """One step of onboarding that happened (``welcome_acknowledged``, ``failure``, …)."""

    kind: str
    detail: str
    recorded_at: float


@dataclass(frozen=True, slots=True)
class OnboardingFailure:
    """The last onboarding step that failed, and why."""

    step: str
    message: str
    recorded_at: float


@dataclass(frozen=True, slots=True)
class Onboarding:
    """Onboarding progress: when each milestone was reached (None: not yet)."""

    flow_id: str = ""
    welcome_acknowledged_at: float | None = None
    state_root_confirmed_at: float | None = None
    dashboard_handoff_at: float | None = None
    completed_at: float | None = None
    discord_skipped_at: float | None = None
    """Discord is optional: when the operator skipped it."""
    dashboard_handoff_skipped_at: float | None = None
    """When the operator skipped opening the dashboard."""
    openai_profile_id: str = ""
    """The auth profile the last OpenAI connect made (an id, never the key)."""
    openai_connected_at: float | None = None
    last_failure: OnboardingFailure | None = None
    recent_events: tuple[OnboardingEvent, ...] = ()
    failure_step_counts: tuple[tuple[str, int], ...] = ()
    """Failures per step, sorted by step."""


@dataclass(frozen=True, slots=True)
class RolloutFlags:
    """Features that can be switched off, with the desktop companion's defaults.

    The voice, ambient and shell flags have no effect in a terminal; they are
    kept so that the file holds what the desktop companion's does.
    """

    companion_shell_enabled: bool = True
    ambient_companion_enabled: bool = True
    desktop_notifications_enabled: bool = True
    """Off: no terminal notifications (bell, OSC), whatever the preference says."""
    offline_drafts_enabled: bool = True
    """Off: a message the gateway never took is an error instead of a draft."""
    voice_capture_enabled: bool = False
    voice_overlay_enabled: bool = True
    voice_silence_detection_enabled: bool = False
    tts_playback_enabled: bool = False
    release_channel: str = DEFAULT_RELEASE_CHANNEL


ROLLOUT_FLAGS = (
    "companion_shell_enabled",
    "ambient_companion_enabled",
    "desktop_notifications_enabled",
    "offline_drafts_enabled",
    "voice_capture_enabled",
    "voice_overlay_enabled",
    "voice_silence_detection_enabled",
    "tts_playback_enabled",
)
"""The boolean rollout flags, in the desktop companion's order (``release_channel`` is text)."""


@dataclass(frozen=True, slots=True)
class Preferences:
    """The operator's choices in the control center."""

    notifications: bool = True
    """Terminal notifications (bell, OSC 9/777/99) on or off."""
    theme: str = ""
    """A theme's name; "" for the default."""


@dataclass(frozen=True, slots=True)
class ProfileState:
    """What is kept for one profile."""

    place: Place = field(default_factory=Place)
    drafts: tuple[OfflineDraft, ...] = ()
    notifications: tuple[Notification, ...] = ()
    onboarding: Onboarding = field(default_factory=Onboarding)
    runtime_root: str = ""
    """The daemons' directory chosen during onboarding ("" for the default)."""


@dataclass(frozen=True, slots=True)
class PersistedState:
    """Everything the state file holds; ``profiles`` is sorted by name."""

    active_profile: str = DEFAULT_PROFILE
    profiles: tuple[tuple[str, ProfileState], ...] = ()
    rollout: RolloutFlags = field(default_factory=RolloutFlags)
    preferences: Preferences = field(default_factory=Preferences)

    def profile(self, name: str | None = None) -> ProfileState:
        """The state of profile ``name`` (default: the active one); empty if none is kept."""
        wanted = self.active_profile if name is None else name
        return next((state for key, state in self.profiles if key == wanted), ProfileState())

    def with_profile(self, state: ProfileState, name: str | None = None) -> PersistedState:
        """This state with profile ``name`` (default: the active one) replaced by ``state``."""
        wanted = self.active_profile if name is None else name
        others = [(key, kept) for key, kept in self.profiles if key != wanted]
        return replace(self, profiles=tuple(sorted([*others, (wanted, state)])))


@dataclass(frozen=True, slots=True, repr=False)
class LegacySecrets:
    """Plaintext tokens an older state file held at its top level.

    They belong in the secret store; the state file is rewritten without them.
    Their values never appear in a repr, a log line or an error.
    """

    admin_token: str = ""
    browser_token: str = ""

    def __bool__(self) -> bool:
        return bool(self.admin_token or self.browser_token)

    def __repr__(self) -> str:
        def shown(value: str) -> str:
            return "<redacted>" if value else "<absent>"

        return (
            f"LegacySecrets(admin_token={shown(self.admin_token)}, "
            f"browser_token={shown(self.browser_token)})"
        )

    __str__ = __repr__


# Rules -------------------------------------------------------------------------------


def add_notification(
    notifications: Iterable[Notification],
    kind: NotificationKind,
    title: str,
    detail: str,
    at: float,
) -> tuple[Notification, ...]:
    """``notifications`` with a new unread one at the end, the newest 40 kept."""
    # Milliseconds, as the file keeps them: a notification read back equals the one sent.
    added = Notification(
        new_ulid(), kind, sanitize_line(title), sanitize_line(detail), round(at, 3)
    )
    return (*notifications, added)[-MAX_NOTIFICATIONS:]


def mark_read(
    notifications: Iterable[Notification], ids: Iterable[str] | None = None
) -> tuple[Notification, ...]:
    """``notifications`` with those of ``ids`` (default: all) marked read."""
    chosen = None if ids is None else frozenset(ids)
    return tuple(
        replace(n, read=True) if chosen is None or n.notification_id in chosen else n
        for n in notifications
    )


def record_event(onboarding: Onboarding, kind: str, detail: str, at: float) -> Onboarding:
    """``onboarding`` with an event added, the newest 40 kept."""
    event = OnboardingEvent(sanitize_line(kind), sanitize_line(detail).strip(), at)
    events = (*onboarding.recent_events, event)[-MAX_ONBOARDING_EVENTS:]
    return replace(onboarding, recent_events=events)


def record_failure(onboarding: Onboarding, step: str, message: str, at: float) -> Onboarding:
    """A step failed: it becomes the last failure, is counted, and is an event."""
    step = sanitize_line(step)
    message = sanitize_line(message)
    counts = dict(onboarding.failure_step_counts)
    counts[step] = counts.get(step, 0) + 1
    failed = replace(
        onboarding,
        last_failure=OnboardingFailure(step, message, at),
        failure_step_counts=tuple(sorted(counts.items())),
    )
    return record_event(failed, "failure", f"{step}: {message}", at)


def clean_profile_name(name: str) -> str:
    """A profile's name on one line, at most 64 characters; "" when blank."""
    return sanitize_line(name).strip()[:MAX_PROFILE_NAME]


def normalise(state: PersistedState) -> PersistedState:
    """The state as it is kept: every list bounded, the active profile present, ids set.

    Applied to every state read from a file, so a hand-edited file cannot
    carry more than the rules allow.
    """
    active = clean_profile_name(state.active_profile) or DEFAULT_PROFILE
    profiles: dict[str, ProfileState] = {}
    for name, kept in state.profiles:
        cleaned = clean_profile_name(name)
        if cleaned:
            profiles[cleaned] = _normalise_profile(kept)
    profiles.setdefault(active, _normalise_profile(ProfileState()))
    rollout = state.rollout
    channel = sanitize_line(rollout.release_channel).strip() or DEFAULT_RELEASE_CHANNEL
    theme = sanitize_line(state.preferences.theme).strip()
    return PersistedState(
        active_profile=active,
        profiles=tuple(sorted(profiles.items())),
        rollout=replace(rollout, release_channel=channel[:MAX_THEME]),
        preferences=replace(state.preferences, theme=theme[:MAX_THEME]),
    )


def _normalise_profile(state: ProfileState) -> ProfileState:
    drafts = bounded_drafts(
        replace(
            d,
            draft_id=sanitize_line(d.draft_id) or new_ulid(),
            session_id=sanitize_line(d.session_id),
            text=sanitize(d.text),
            reason=sanitize_line(d.reason),
        )
        for d in state.drafts
    )
    notifications = tuple(
        replace(
            n,
            notification_id=sanitize_line(n.notification_id) or new_ulid(),
            title=sanitize_line(n.title),
            detail=sanitize_line(n.detail),
        )
        for n in state.notifications
    )[-MAX_NOTIFICATIONS:]
    place = replace(state.place, session_id=sanitize_line(state.place.session_id).strip())
    onboarding = _normalise_onboarding(state.onboarding)
    runtime_root = sanitize_line(state.runtime_root).strip()
    return ProfileState(place, drafts, notifications, onboarding, runtime_root)


def _normalise_onboarding(onboarding: Onboarding) -> Onboarding:
    failure = onboarding.last_failure
    if failure is not None:
        failure = replace(
            failure, step=sanitize_line(failure.step), message=sanitize_line(failure.message)
        )
    counts: dict[str, int] = {}
    for step, count in onboarding.failure_step_counts:
        cleaned = sanitize_line(step)
        if cleaned and count > 0:
            counts[cleaned] = counts.get(cleaned, 0) + count
    events = tuple(
        replace(e, kind=sanitize_line(e.kind), detail=sanitize_line(e.detail).strip())
        for e in onboarding.recent_events
    )
    return replace(
        onboarding,
        flow_id=sanitize_line(onboarding.flow_id).strip() or new_ulid(),
        openai_profile_id=sanitize_line(onboarding.openai_profile_id).strip(),
        last_failure=failure,
        recent_events=events[-MAX_ONBOARDING_EVENTS:],
        failure_step_counts=tuple(sorted(counts.items())),
    )
