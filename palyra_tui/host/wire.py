"""The runtime API's method names and the requests and replies that carry it.

Every command answers with an :class:`Outcome` instead of failing the call, so
the kinds of refusal the UI tells apart (a decision refused by palyrad, an
approval already decided, a gateway that cannot be reached) survive the
socket as types, not as parsed messages.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from palyra_tui.models import LogLine, LogStream
from palyra_tui.models.bundle import SupportBundle
from palyra_tui.models.devices import Inventory, NodeAction, NodeOutcome
from palyra_tui.models.gateway import ApprovalAnswer, SessionSummary
from palyra_tui.models.handoff import Handoff
from palyra_tui.state.chat import ChatItem
from palyra_tui.state.onboarding import OnboardingAction, OnboardingStatus
from palyra_tui.state.runtime_api import RuntimeMessage, RuntimeView

VIEW = "View"
SUBSCRIBE = "Subscribe"
TRANSCRIPT = "Transcript"
SERVICE_NAMES = "ServiceNames"
TAIL = "Tail"
LOGS = "Logs"
SERVICE_COMMAND = "ServiceCommand"
REFRESH = "Refresh"
NEW_SESSION = "NewSession"
LOAD_HISTORY = "LoadHistory"
SEND = "Send"
RESEND = "Resend"
DISCARD_DRAFT = "DiscardDraft"
ABORT = "Abort"
DECIDE = "Decide"
REMEMBER_PLACE = "RememberPlace"
MARK_READ = "MarkRead"
SHUTDOWN = "Shutdown"
DASHBOARD_HANDOFF = "DashboardHandoff"
UPDATE_PREFERENCES = "UpdatePreferences"
UPDATE_ROLLOUT = "UpdateRollout"
SUPPORT_BUNDLE = "SupportBundle"
NODE_HOST = "NodeHost"
DEVICES = "Devices"


@dataclass(frozen=True, slots=True)
class MarkReadRequest:
    """Notifications to mark read: ``ids``, or every one when ``every``."""

    ids: tuple[str, ...] = ()
    every: bool = False


ONBOARDING_STEP = "OnboardingStep"
CONFIRM_STATE_ROOT = "ConfirmStateRoot"
CONNECT_OPENAI = "ConnectOpenAi"
SWITCH_PROFILE = "SwitchProfile"


class Verb(enum.Enum):
    """A command on services."""

    START = "start"
    STOP = "stop"
    RESTART = "restart"
    HOLD = "hold"
    RELEASE = "release"
    START_ALL = "start_all"
    STOP_ALL = "stop_all"


class Until(enum.Enum):
    """When the host answers a service command."""

    ACCEPTED = "accepted"
    """At once: the host carries the command out on its own."""
    DONE = "done"
    """Once the supervisor carried it out (a stop: once the processes are gone)."""
    RUNNING = "running"
    """A start or restart: once the service runs, or why it does not."""


class Failure(enum.Enum):
    """Why a command did not happen."""

    NONE = "none"
    SUPERVISOR = "supervisor"
    CLIENT = "client"
    DECISION = "decision"
    DECISION_REFUSED = "decision_refused"
    ALREADY_DECIDED = "already_decided"
    NOT_SENT = "not_sent"
    ONBOARDING = "onboarding"
    PROFILE = "profile"
    BUNDLE = "bundle"
    BUNDLE_EXISTS = "bundle_exists"
    NODE_HOST = "node_host"


@dataclass(frozen=True, slots=True)
class Empty:
    """No arguments."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """Done, or why not, in one sentence."""

    failure: Failure = Failure.NONE
    message: str = ""


@dataclass(frozen=True, slots=True)
class ServiceCommand:
    """Start, stop, restart, hold or release one service, or all of them."""

    verb: Verb
    name: str = ""
    reason: str = ""
    until: Until = Until.DONE


@dataclass(frozen=True, slots=True)
class TailRequest:
    """The last ``count`` retained lines of one service."""

    name: str
    count: int
    stream: LogStream | None = None


@dataclass(frozen=True, slots=True)
class LogsRequest:
    """Follow logs (of ``services``, or all), optionally starting with the backlog."""

    services: tuple[str, ...] | None = None
    backlog: bool = False


@dataclass(frozen=True, slots=True)
class Lines:
    """Log lines, oldest first (gap records included)."""

    lines: tuple[LogLine, ...] = ()


@dataclass(frozen=True, slots=True)
class Names:
    """Configured services, in order."""

    names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SessionRequest:
    """One chat session."""

    session_id: str


@dataclass(frozen=True, slots=True)
class Items:
    """A transcript, as of its revision."""

    items: tuple[ChatItem, ...] = ()
    revision: int = 0


@dataclass(frozen=True, slots=True)
class SendRequest:
    """A message for a session."""

    session_id: str
    text: str


@dataclass(frozen=True, slots=True)
class DraftRequest:
    """One offline draft."""

    draft_id: str


@dataclass(frozen=True, slots=True)
class DecideRequest:
    """A decision for one pending approval."""

    approval_id: str
    answer: ApprovalAnswer
    by: str = ""
    """Who decides (``palyra-tui approve (pid 4242)``), for whoever comes second."""


@dataclass(frozen=True, slots=True)
class SessionOutcome:
    """A created session, or why none was."""

    session: SessionSummary | None = None
    outcome: Outcome = field(default_factory=Outcome)


@dataclass(frozen=True, slots=True)
class FlagOutcome:
    """A yes or no answer, or why there is none."""

    value: bool = False
    outcome: Outcome = field(default_factory=Outcome)


@dataclass(frozen=True, slots=True)
class HandoffOutcome:
    """A dashboard handoff (its URL is a one-time credential), or why there is none."""

    handoff: Handoff | None = None
    outcome: Outcome = field(default_factory=Outcome)


@dataclass(frozen=True, slots=True)
class BundleOutcome:
    """A support bundle the host wrote, or why it wrote none."""

    bundle: SupportBundle | None = None
    outcome: Outcome = field(default_factory=Outcome)


@dataclass(frozen=True, slots=True)
class NodeHostRequest:
    """An action on the local node host."""

    action: NodeAction
    restart_confirmed: bool = False


@dataclass(frozen=True, slots=True)
class NodeHostOutcome:
    """What the action did, or why it was not done."""

    result: NodeOutcome | None = None
    outcome: Outcome = field(default_factory=Outcome)


@dataclass(frozen=True, slots=True)
class DevicesOutcome:
    """The gateway's devices, or why they could not be read."""

    inventory: Inventory | None = None
    outcome: Outcome = field(default_factory=Outcome)


@dataclass(frozen=True, slots=True)
class OnboardingRequest:
    """One onboarding action."""

    action: OnboardingAction


@dataclass(frozen=True, slots=True)
class StateRootRequest:
    """Confirm the state root with the daemons' directory ("" for the default)."""

    runtime_root: str = ""


@dataclass(frozen=True, slots=True, repr=False)
class ApiKeyRequest:
    """An OpenAI API key on its way to the gateway; its repr never shows it."""

    api_key: str

    def __repr__(self) -> str:
        return "ApiKeyRequest(api_key=<redacted>)"


@dataclass(frozen=True, slots=True)
class OnboardingOutcome:
    """Onboarding after an action, or why the action was refused."""

    status: OnboardingStatus | None = None
    outcome: Outcome = field(default_factory=Outcome)


@dataclass(frozen=True, slots=True)
class ProfileRequest:
    """Switch to the profile ``name``; a strict one needs its name typed as ``confirmation``."""

    name: str
    confirmation: str = ""


@dataclass(frozen=True, slots=True)
class SentenceOutcome:
    """Done, with the sentence for the operator, or why not."""

    sentence: str = ""
    outcome: Outcome = field(default_factory=Outcome)


@dataclass(frozen=True, slots=True)
class Resync:
    """The whole view: first on every subscription, and after a client fell too far behind
    (``behind``), when it must also fetch the transcripts it shows again."""

    view: RuntimeView
    behind: bool = False


HostMessage = RuntimeMessage | Resync


@dataclass(frozen=True, slots=True)
class Envelope:
    """One item of the Subscribe stream."""

    message: HostMessage
