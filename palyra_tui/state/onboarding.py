"""The onboarding step machine: from a frozen set of facts to the status of every step.

Nine steps, in order: Welcome, Environment and binaries, Local state root,
Gateway init, Operator auth bootstrap, OpenAI connect, Discord connect and
verify, Dashboard handoff, Completion.  Each step but the last has a gate, a
fact that says it is done.  The current step is the first one whose gate
fails; a step whose gate holds is complete wherever it stands, so a gateway
already running counts before Welcome is acknowledged.

A step is ``complete``, ``blocked`` (only Environment, while a preflight check
is blocked), ``current`` or ``pending``, and has one sentence of detail.  The
phase is ``home`` once onboarding was completed or every gate holds, else
``onboarding``.  Discord and the dashboard handoff may be skipped; nothing
else may.  Recovery names the step to look at, why, and what to do.

Everything here is pure: the runtime gathers the facts
(:mod:`palyra_tui.state.onboarding_driver`) and keeps the progress.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from palyra_tui.models.preflight import CheckStatus, Preflight
from palyra_tui.state.persisted import Onboarding, OnboardingEvent, record_event


class StepKey(enum.Enum):
    """The onboarding steps, in order."""

    WELCOME = "welcome"
    ENVIRONMENT = "environment"
    STATE_ROOT = "state_root"
    GATEWAY_INIT = "gateway_init"
    OPERATOR_AUTH = "operator_auth_bootstrap"
    OPENAI = "openai_connect"
    DISCORD = "discord_connect"
    DASHBOARD = "dashboard_handoff"
    COMPLETION = "completion"


STEP_TITLES: dict[StepKey, str] = {
    StepKey.WELCOME: "Welcome",
    StepKey.ENVIRONMENT: "Environment and binaries",
    StepKey.STATE_ROOT: "Local state root",
    StepKey.GATEWAY_INIT: "Gateway init",
    StepKey.OPERATOR_AUTH: "Operator auth bootstrap",
    StepKey.OPENAI: "OpenAI connect",
    StepKey.DISCORD: "Discord connect and verify",
    StepKey.DASHBOARD: "Dashboard handoff",
    StepKey.COMPLETION: "Completion",
}

SKIPPABLE = frozenset({StepKey.DISCORD, StepKey.DASHBOARD})
"""Steps the operator may skip: the others are what a working runtime needs."""


class StepStatus(enum.Enum):
    """Where one step stands."""

    COMPLETE = "complete"
    BLOCKED = "blocked"
    CURRENT = "current"
    PENDING = "pending"


class Phase(enum.Enum):
    """Whether the operator is still onboarding."""

    ONBOARDING = "onboarding"
    HOME = "home"


class OnboardingAction(enum.Enum):
    """What the operator can do in onboarding besides typing a directory or a key."""

    ACKNOWLEDGE_WELCOME = "acknowledge_welcome"
    START_GATEWAY = "start_gateway"
    """Start the runtime; the Gateway init step waits until the gateway answers."""
    SKIP_DISCORD = "skip_discord"
    DASHBOARD_OPENED = "dashboard_opened"
    SKIP_DASHBOARD = "skip_dashboard"
    COMPLETE = "complete"
    CHECK = "check"
    """Run the preflight and ask the gateway again."""


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether something works now, and one sentence about it."""

    ready: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class OpenAiReadiness:
    """What the gateway says of its OpenAI auth.

    Ready when the gateway answered, has a default profile, and lists that
    profile among its OpenAI profiles.
    """

    available: bool = False
    """The gateway answered the provider status call."""
    default_profile_id: str = ""
    profile_ids: tuple[str, ...] = ()
    note: str = ""

    @property
    def ready(self) -> bool:
        """An OpenAI profile exists and is the default."""
        return (
            self.available
            and bool(self.default_profile_id)
            and self.default_profile_id in self.profile_ids
        )


@dataclass(frozen=True, slots=True)
class OnboardingFacts:
    """Everything the step machine decides from, as of one moment."""

    progress: Onboarding = field(default_factory=Onboarding)
    preflight: Preflight | None = None
    """None until the checks have run."""
    state_root: str = ""
    runtime_root: str = ""
    """The daemons' directory in use."""
    gateway_version: str = ""
    """What the gateway says of itself ("" while it does not answer)."""
    gateway_down: bool = True
    """The overall status is down."""
    gateway_problem: str = ""
    """Why the gateway service does not run, as its supervisor says ("" when it does)."""
    operator_auth: Readiness = field(default_factory=Readiness)
    openai: OpenAiReadiness = field(default_factory=OpenAiReadiness)
    discord_verified: bool = False
    runtime_root_pending: bool = False
    """The chosen directory differs from the one the daemons use now (until the host restarts)."""
    gateway_missing: str = ""
    """Why palyrad cannot be found, when the preflight says so."""
    settled: bool = True
    """The checks and probes have run for this gateway; a completed setup is judged only then."""


@dataclass(frozen=True, slots=True)
class Step:
    """One step as the operator sees it."""

    key: StepKey
    title: str
    status: StepStatus
    detail: str
    skippable: bool = False
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class Recovery:
    """What needs attention, why, and what to do about it."""

    step: StepKey
    message: str
    suggested_actions: tuple[str, ...] = ()
    recorded_at: float | None = None


@dataclass(frozen=True, slots=True)
class OnboardingStatus:
    """Where onboarding stands: every step, the current one, progress and recovery."""

    flow_id: str
    phase: Phase
    current: StepKey
    steps: tuple[Step, ...]
    preflight: Preflight | None = None
    recovery: Recovery | None = None
    state_root: str = ""
    runtime_root: str = ""
    completed_at: float | None = None
    openai_profile_id: str = ""
    recent_events: tuple[OnboardingEvent, ...] = ()
    failure_step_counts: tuple[tuple[str, int], ...] = ()

    @property
    def progress_completed(self) -> int:
        """How many steps are complete."""
        return sum(step.status is StepStatus.COMPLETE for step in self.steps)

    @property
    def progress_total(self) -> int:
        """How many steps there are."""
        return len(self.steps)

    def step(self, key: StepKey) -> Step:
        """The step ``key``."""
        return next(step for step in self.steps if step.key is key)

    @property
    def current_step(self) -> Step:
        """The step to do now."""
        return self.step(self.current)


# The gates -----------------------------------------------------------------------------


def _gates(facts: OnboardingFacts) -> dict[StepKey, bool]:
    progress = facts.progress
    preflight = facts.preflight
    return {
        StepKey.WELCOME: progress.welcome_acknowledged_at is not None,
        StepKey.ENVIRONMENT: preflight is not None and preflight.blocked == 0,
        StepKey.STATE_ROOT: progress.state_root_confirmed_at is not None,
        StepKey.GATEWAY_INIT: bool(facts.gateway_version) and not facts.gateway_down,
        StepKey.OPERATOR_AUTH: facts.operator_auth.ready,
        StepKey.OPENAI: facts.openai.ready,
        StepKey.DISCORD: facts.discord_verified or progress.discord_skipped_at is not None,
        StepKey.DASHBOARD: progress.dashboard_handoff_at is not None
        or progress.dashboard_handoff_skipped_at is not None,
    }


def onboarding_status(facts: OnboardingFacts) -> OnboardingStatus:
    """The status of every step for ``facts``."""
    gates = _gates(facts)
    current = next((key for key in StepKey if not gates.get(key, False)), StepKey.COMPLETION)
    progress = facts.progress
    completed = progress.completed_at is not None
    steps = []
    for key in StepKey:
        done = gates.get(key, completed or current is StepKey.COMPLETION)
        if done:
            status = StepStatus.COMPLETE
        elif key is StepKey.ENVIRONMENT and facts.preflight is not None:
            status = StepStatus.BLOCKED
        elif key is current:
            status = StepStatus.CURRENT
        else:
            status = StepStatus.PENDING
        steps.append(
            Step(
                key,
                STEP_TITLES[key],
                status,
                _detail(key, done, facts),
                skippable=key in SKIPPABLE,
                skipped=_skipped(key, facts),
            )
        )
    phase = Phase.HOME if completed or current is StepKey.COMPLETION else Phase.ONBOARDING
    status_now = OnboardingStatus(
        flow_id=progress.flow_id,
        phase=phase,
        current=current,
        steps=tuple(steps),
        preflight=facts.preflight,
        state_root=facts.state_root,
        runtime_root=facts.runtime_root,
        completed_at=progress.completed_at,
        openai_profile_id=progress.openai_profile_id,
        recent_events=progress.recent_events,
        failure_step_counts=progress.failure_step_counts,
    )
    return replace(status_now, recovery=_recovery(status_now, facts))


def stamp_completion(progress: Onboarding, status: OnboardingStatus, at: float) -> Onboarding:
    """``progress`` with the completion stamped once every gate holds (the first time only),
    and the ``onboarding_completed`` event; unchanged otherwise."""
    if status.current is not StepKey.COMPLETION or progress.completed_at is not None:
        return progress
    return record_event(replace(progress, completed_at=at), "onboarding_completed", "", at)


def _skipped(key: StepKey, facts: OnboardingFacts) -> bool:
    progress = facts.progress
    if key is StepKey.DISCORD:
        return not facts.discord_verified and progress.discord_skipped_at is not None
    if key is StepKey.DASHBOARD:
        return progress.dashboard_handoff_at is None and (
            progress.dashboard_handoff_skipped_at is not None
        )
    return False


# What each step says -------------------------------------------------------------------


def _detail(key: StepKey, done: bool, facts: OnboardingFacts) -> str:
    describe = {
        StepKey.WELCOME: _welcome,
        StepKey.ENVIRONMENT: _environment,
        StepKey.STATE_ROOT: _state_root,
        StepKey.GATEWAY_INIT: _gateway,
        StepKey.OPERATOR_AUTH: _operator_auth,
        StepKey.OPENAI: _openai,
        StepKey.DISCORD: _discord,
        StepKey.DASHBOARD: _dashboard,
        StepKey.COMPLETION: _completion,
    }[key]
    return describe(done, facts)


def _welcome(done: bool, facts: OnboardingFacts) -> str:
    if done:
        return "Acknowledged."
    return (
        "palyra-tui walks you to a working Palyra runtime, one step at a time; "
        "your progress is kept if you leave."
    )


def _environment(done: bool, facts: OnboardingFacts) -> str:
    preflight = facts.preflight
    if preflight is None:
        return "Not checked yet."
    warned = f", {_count(preflight.warnings, 'warning')}" if preflight.warnings else ""
    if done:
        return f"No check is blocked ({_count(len(preflight.checks), 'check')}{warned})."
    blocked = [c.label for c in preflight.checks if c.status is CheckStatus.BLOCKED]
    return f"{_count(len(blocked), 'check')} blocked: {', '.join(blocked)}{warned}."


def _state_root(done: bool, facts: OnboardingFacts) -> str:
    later = " (from the next start of the runtime host)" if facts.runtime_root_pending else ""
    where = f"state root {facts.state_root}, daemons in {facts.runtime_root}{later}"
    if done:
        return f"Confirmed: {where}."
    return f"Confirm where Palyra keeps its state: {where}."


def _gateway(done: bool, facts: OnboardingFacts) -> str:
    if done:
        return f"The gateway answers (version {facts.gateway_version})."
    if facts.gateway_missing:
        return (
            f"palyrad cannot be found ({facts.gateway_missing}): install Palyra, or run "
            "`palyra-tui demo` to try palyra-tui over its reference daemons."
        )
    if facts.gateway_problem:
        return f"The gateway does not run: {facts.gateway_problem}."
    if facts.gateway_version:
        return "The gateway answers, but the runtime is down."
    return "Start the gateway and wait until it answers."


def _operator_auth(done: bool, facts: OnboardingFacts) -> str:
    if done:
        return facts.operator_auth.note or "The console login with the admin token works."
    return facts.operator_auth.note or "Not checked yet: it needs a running gateway."


def _openai(done: bool, facts: OnboardingFacts) -> str:
    openai = facts.openai
    if done:
        return f"Default OpenAI profile: {openai.default_profile_id}."
    if openai.note:
        return openai.note
    if not openai.available:
        return "Not checked yet: it needs a running gateway and a console login."
    return "No default OpenAI profile: send an API key to the gateway."


def _discord(done: bool, facts: OnboardingFacts) -> str:
    if facts.discord_verified:
        return "Discord is connected and verified."
    if done:
        return "Skipped: Discord can be connected later in the dashboard."
    return "Optional: connect Discord in the dashboard's Channels page, or skip it."


def _dashboard(done: bool, facts: OnboardingFacts) -> str:
    progress = facts.progress
    if progress.dashboard_handoff_at is not None:
        return "The dashboard was opened."
    if done:
        return "Skipped: the dashboard stays reachable from the palette."
    return "Open the web dashboard once, or skip it."


def _completion(done: bool, facts: OnboardingFacts) -> str:
    if done:
        return "Onboarding is complete."
    return "Every other step must be complete first."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# Recovery ------------------------------------------------------------------------------

SUGGESTED_ACTIONS: dict[StepKey, tuple[str, ...]] = {
    StepKey.WELCOME: ("Acknowledge the Welcome step to begin.",),
    StepKey.ENVIRONMENT: (
        "Run `palyra-tui doctor`: it explains every blocked check with a hint.",
        "Install Palyra so that palyrad is on PATH or next to palyra-tui, or set "
        "PALYRA_DESKTOP_PALYRAD_BIN to its absolute path.",
        "No Palyra yet? `palyra-tui demo` runs palyra-tui over its reference daemons.",
    ),
    StepKey.STATE_ROOT: (
        "Keep the default directory, or give an absolute directory inside palyra-tui's "
        "state directory.",
        "Run `palyra-tui doctor` to check that the state root is writable.",
    ),
    StepKey.GATEWAY_INIT: (
        "Read the gateway's log: `palyra-tui logs gateway`.",
        "Run `palyra-tui doctor` for the binaries and the ports.",
        "No Palyra yet? `palyra-tui demo` runs palyra-tui over its reference daemons.",
    ),
    StepKey.OPERATOR_AUTH: (
        "Restart the gateway so that it takes the stored admin token: "
        "`palyra-tui restart gateway`.",
        "Run `palyra-tui doctor`: its operator auth check says whether the gateway "
        "accepts the token.",
    ),
    StepKey.OPENAI: (
        "Check the key in your OpenAI account and paste it again.",
        "Read the gateway's log: `palyra-tui logs gateway`.",
    ),
    StepKey.DISCORD: ("Skip Discord; it can be connected later in the dashboard.",),
    StepKey.DASHBOARD: (
        "Wait until the gateway answers, then open the dashboard again.",
        "Skip the handoff: the dashboard stays reachable from the palette.",
    ),
    StepKey.COMPLETION: (),
}


def _recovery(status: OnboardingStatus, facts: OnboardingFacts) -> Recovery | None:
    failure = facts.progress.last_failure
    if failure is not None:
        step = _step_key(failure.step) or status.current
        return Recovery(step, failure.message, SUGGESTED_ACTIONS[step], failure.recorded_at)
    preflight = facts.preflight
    if preflight is not None and preflight.blocked:
        return Recovery(
            StepKey.ENVIRONMENT,
            f"{_count(preflight.blocked, 'preflight check')} blocked: fix "
            f"{'it' if preflight.blocked == 1 else 'them'}, then check again.",
            SUGGESTED_ACTIONS[StepKey.ENVIRONMENT],
        )
    if (
        facts.settled
        and facts.progress.completed_at is not None
        and status.current is not StepKey.COMPLETION
    ):
        current = status.current_step
        return Recovery(
            status.current,
            f"A completed setup needs attention: {current.title}. {current.detail}",
            SUGGESTED_ACTIONS[status.current],
        )
    return None


def _step_key(value: str) -> StepKey | None:
    try:
        return StepKey(value)
    except ValueError:
        return None


FIRST_STEPS = frozenset(
    {
        StepKey.WELCOME,
        StepKey.ENVIRONMENT,
        StepKey.STATE_ROOT,
        StepKey.GATEWAY_INIT,
        StepKey.OPERATOR_AUTH,
    }
)
"""The steps without which the runtime does not work."""


def opens_first(status: OnboardingStatus) -> bool:
    """True when the control center should open on onboarding: a step the runtime needs
    is still to do.  Past those, what is left (a provider, Discord, the dashboard) waits
    for the operator to ask."""
    return status.phase is Phase.ONBOARDING and status.current in FIRST_STEPS
