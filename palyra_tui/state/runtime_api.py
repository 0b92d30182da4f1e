"""The one API the UI and the headless commands drive a runtime through.

A runtime is the supervisor, the gateway link, chat runs with their
in-stream approvals, the approval inbox, the offline drafts and the state
file that keeps drafts and the place on show across restarts.  It runs
in-process (:class:`~palyra_tui.state.local_runtime.LocalRuntime`, for tests
and the demo) or in a runtime host process behind a local socket; callers
cannot tell which.  They read one immutable :class:`RuntimeView`, follow its
changes as typed messages, and send commands.  Nothing here polls: a change is
pushed the moment its producer knows it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from palyra_tui.client.errors import ClientError
from palyra_tui.errors import PalyraError
from palyra_tui.models import LogLine, LogStream, ServiceEvent, SupervisorSnapshot
from palyra_tui.models.bundle import SupportBundle
from palyra_tui.models.devices import Inventory, NodeAction, NodeOutcome
from palyra_tui.models.feeds import LogFeed
from palyra_tui.models.gateway import ApprovalAnswer, SessionSummary
from palyra_tui.models.handoff import Handoff, HandoffScope
from palyra_tui.state.chat import ChatItem
from palyra_tui.state.chat_view import ChatView
from palyra_tui.state.inbox import InboxEntry
from palyra_tui.state.onboarding import OnboardingAction, OnboardingStatus
from palyra_tui.state.persisted import Notification, Place, Preferences, RolloutFlags
from palyra_tui.state.profiles import ProfileInfo
from palyra_tui.state.settings import PreferencesUpdate, RolloutUpdate
from palyra_tui.state.snapshot import AppSnapshot


@dataclass(frozen=True, slots=True)
class RuntimeView:
    """Everything a UI shows, as one immutable value."""

    snapshot: AppSnapshot = field(default_factory=AppSnapshot)
    inbox: tuple[InboxEntry, ...] = ()
    chat: ChatView = field(default_factory=ChatView)
    dashboard_url: str = ""
    state_dir: str = ""
    clients: int = 0
    """UIs and scripts attached to a runtime host (0 in-process)."""
    log_total_bytes: int = 256 * 1024 * 1024
    """The log budget of all services together; a view of the logs keeps no more."""
    log_service_bytes: int = 64 * 1024 * 1024
    """The log budget of one service."""
    place: Place = field(default_factory=Place)
    """The section and session last on show, kept across restarts."""
    state_notice: str = ""
    """One sentence about the state file when it could not be used ("" while all is well)."""
    notifications: tuple[Notification, ...] = ()
    """What the operator was told, oldest first, the newest 40 kept (read or not)."""
    onboarding: OnboardingStatus | None = None
    """Where onboarding stands (None until the runtime has read its state file)."""
    rollout: RolloutFlags = field(default_factory=RolloutFlags)
    """The rollout flags the state file keeps."""
    preferences: Preferences = field(default_factory=Preferences)
    """The operator's preferences (theme, terminal notifications), for every UI."""
    profile: ProfileInfo = field(default_factory=ProfileInfo)
    """The active profile: drafts, notifications, onboarding and place are its own."""
    profiles: tuple[ProfileInfo, ...] = (ProfileInfo(),)
    """Every profile of the catalog, the built-in one first."""


@dataclass(frozen=True, slots=True)
class SnapshotChanged:
    """Services or gateway facts changed; services are sent the moment they change."""

    snapshot: AppSnapshot
    dashboard_url: str


@dataclass(frozen=True, slots=True)
class InboxChanged:
    """Approvals waiting for a person, ours first."""

    inbox: tuple[InboxEntry, ...]


@dataclass(frozen=True, slots=True)
class ChatChanged:
    """Runs in flight, drafts or session names changed."""

    chat: ChatView


@dataclass(frozen=True, slots=True)
class TranscriptView:
    """A session's transcript as of its ``revision`` (0 before any change)."""

    revision: int
    items: tuple[ChatItem, ...] = ()


@dataclass(frozen=True, slots=True)
class TranscriptChanged:
    """A transcript changed: from ``start`` on it is ``items``, and it is ``length`` long.

    ``revision`` counts the changes of the session, so a copy can tell whether
    this one follows what it holds, is already in it, or one was missed.
    """

    session_id: str
    start: int
    items: tuple[ChatItem, ...]
    length: int
    revision: int


@dataclass(frozen=True, slots=True)
class AnswerGrew:
    """The streamed answer at ``index`` gained ``text`` at its end (a token's worth, not
    the whole answer again), and is ``final`` or not now."""

    session_id: str
    index: int
    text: str
    final: bool
    revision: int


@dataclass(frozen=True, slots=True)
class ServiceChanged:
    """A service changed state (for alerts; the state itself arrives as a snapshot)."""

    event: ServiceEvent


@dataclass(frozen=True, slots=True)
class RunFinished:
    """A chat run ended."""

    session_id: str
    summary: str


@dataclass(frozen=True, slots=True)
class ClientsChanged:
    """As many clients are attached to the runtime host now."""

    clients: int


@dataclass(frozen=True, slots=True)
class PlaceChanged:
    """A client remembered the section and session on show."""

    place: Place


@dataclass(frozen=True, slots=True)
class NotificationsChanged:
    """A notification was added or marked read."""

    notifications: tuple[Notification, ...]


@dataclass(frozen=True, slots=True)
class StateNotice:
    """The state file could not be read or written (or can be again: ``text`` is "")."""

    text: str


@dataclass(frozen=True, slots=True)
class LinkChanged:
    """The link to a runtime host: lost (``reason`` says why), or resynchronised after the
    client fell behind, when transcripts on show must be fetched again."""

    connected: bool
    reason: str = ""
    resynced: bool = False


@dataclass(frozen=True, slots=True)
class OnboardingChanged:
    """Onboarding moved: a step was done, a fact changed, or a check ran."""

    status: OnboardingStatus


@dataclass(frozen=True, slots=True)
class RolloutChanged:
    """The rollout flags changed (a client set them)."""

    rollout: RolloutFlags


@dataclass(frozen=True, slots=True)
class PreferencesChanged:
    """The operator's preferences changed (a UI set them)."""

    preferences: Preferences


@dataclass(frozen=True, slots=True)
class ProfileChanged:
    """Another profile is active, or the catalog changed."""

    profile: ProfileInfo
    profiles: tuple[ProfileInfo, ...]


RuntimeMessage = (
    SnapshotChanged
    | InboxChanged
    | ChatChanged
    | TranscriptChanged
    | AnswerGrew
    | ServiceChanged
    | RunFinished
    | ClientsChanged
    | PlaceChanged
    | NotificationsChanged
    | StateNotice
    | LinkChanged
    | OnboardingChanged
    | RolloutChanged
    | PreferencesChanged
    | ProfileChanged
)


class MessageFeed(Protocol):
    """The runtime's changes, in order, from the moment of subscription."""

    def __aiter__(self) -> AsyncIterator[RuntimeMessage]: ...

    def close(self) -> None:
        """Stop the feed."""
        ...


class DecisionError(Exception):
    """A decision could not be sent; the message says why."""


class DecisionRefused(DecisionError):
    """The decision reached palyrad, which refused it (the call is denied); the message says why."""


class AlreadyDecided(DecisionError):
    """Someone decided this approval first; the message says who, what and when."""


class MessageNotSent(ClientError):
    """The gateway never took a message and offline drafts are off: nothing was kept."""


class OnboardingRefused(PalyraError):
    """An onboarding step could not be done; the message says why in one sentence."""


class NodeHostRefused(PalyraError):
    """An action on the node host was not done, or failed; the message says why."""


class BundleFailed(PalyraError):
    """No support bundle was written (and nothing was left behind); the message says why."""


class BundleExists(BundleFailed):
    """The path asked for already exists: a support bundle never replaces a file."""


class RuntimeApi(Protocol):
    """Read the view, follow its changes, and command the runtime."""

    # Lifecycle --------------------------------------------------------------

    async def open(self) -> None:
        """Attach: start receiving the runtime's state (on the caller's loop)."""
        ...

    async def close(self) -> None:
        """Detach: end every feed of this caller; the runtime itself may go on."""
        ...

    # Reads ------------------------------------------------------------------

    def view(self) -> RuntimeView:
        """The latest view; never blocks."""
        ...

    def subscribe(self) -> MessageFeed:
        """Follow changes from the caller's loop."""
        ...

    async def transcript(self, session_id: str) -> TranscriptView:
        """A session's transcript as the runtime holds it, with its revision."""
        ...

    def service_names(self) -> tuple[str, ...]:
        """Configured services, in order."""
        ...

    async def tail(
        self, name: str, count: int, stream: LogStream | None = None
    ) -> tuple[LogLine, ...]:
        """The last ``count`` retained lines of one service."""
        ...

    def subscribe_logs(
        self, services: Iterable[str] | None = None, *, backlog: bool = False
    ) -> LogFeed:
        """Follow the logs of some (default: all) services from the caller's loop."""
        ...

    def services(self) -> SupervisorSnapshot:
        """The supervisor's latest state of every service; never blocks."""
        ...

    # Services -----------------------------------------------------------------

    async def start(self, name: str) -> None:
        """Start a service now (resets its backoff)."""
        ...

    async def stop(self, name: str) -> None:
        """Stop a service and wait until everything it started is gone."""
        ...

    async def restart(self, name: str) -> None:
        """Stop a service gracefully, then start it."""
        ...

    async def hold(self, name: str, held: bool) -> None:
        """Hold or release a service's automatic restarts."""
        ...

    async def start_all(self) -> None:
        """Start every enabled service."""
        ...

    async def stop_all(self, reason: str = "stopped by operator") -> None:
        """Stop every service, the gateway last."""
        ...

    def refresh(self) -> None:
        """Ask the gateway for fresh facts now instead of at the next interval."""
        ...

    async def shutdown(self) -> None:
        """Stop every service and end the runtime (a runtime host exits)."""
        ...

    # Chat ---------------------------------------------------------------------

    async def new_session(self) -> SessionSummary:
        """Create a chat session; raises ClientError when the gateway cannot."""
        ...

    async def load_history(self, session_id: str) -> bool:
        """Fill a session's transcript from the gateway (False if it changed meanwhile)."""
        ...

    async def send(self, session_id: str, text: str) -> None:
        """Send a message; one the gateway never took becomes an offline draft, or, with
        offline drafts off, raises MessageNotSent."""
        ...

    async def resend(self, draft_id: str) -> None:
        """Send an offline draft again."""
        ...

    async def discard_draft(self, draft_id: str) -> None:
        """Forget an offline draft."""
        ...

    async def abort(self, session_id: str) -> bool:
        """Abort the session's run in flight; False when there is none."""
        ...

    # What lasts -------------------------------------------------------------------

    async def remember_place(self, place: Place) -> None:
        """Keep the section and session on show, for the next start."""
        ...

    async def mark_read(self, ids: tuple[str, ...] | None = None) -> None:
        """Mark the notifications ``ids`` read, or all of them (None)."""
        ...

    async def update_preferences(self, update: PreferencesUpdate) -> Preferences:
        """Change some preferences (the rest stay); every UI hears it, and it lasts."""
        ...

    async def update_rollout(self, update: RolloutUpdate) -> RolloutFlags:
        """Change some rollout flags (the rest stay; a blank release channel is ignored);
        every client hears it, and it lasts."""
        ...

    # Profiles -------------------------------------------------------------------

    async def switch_profile(self, name: str, confirmation: str = "") -> str:
        """Make ``name`` the active profile: stop the local services (they are not started
        again), drop the gateway session and what was cached from it, and take up the
        profile's drafts, notifications, onboarding and place.  A strict profile needs its
        name typed as ``confirmation``.  Returns the sentence for the operator ("already
        using …" when nothing changed); raises ProfileRefused saying why not."""
        ...

    # Approvals ------------------------------------------------------------------

    async def decide(self, approval_id: str, answer: ApprovalAnswer) -> None:
        """Send one decision, exactly once; raises DecisionError or DecisionRefused."""
        ...

    # Dashboard ------------------------------------------------------------------

    async def dashboard_handoff(self, scope: HandoffScope) -> Handoff:
        """A one-time URL that opens the web dashboard on ``scope``, signed in; it works
        once, for 60 s, in a browser on the gateway's host.  Raises ClientError with the
        reason when there is none (the gateway is not healthy, or refused).  The caller
        keeps it only while it shows it: never in a log, a notice or a file."""

    # Node host and devices ------------------------------------------------------------

    async def node_host(self, action: NodeAction, restart_confirmed: bool = False) -> NodeOutcome:
        """Read, enrol, repair or reset the local node host.  Enrolment restarts the
        gateway twice when its node RPC requires client certificates: without
        ``restart_confirmed`` it is refused with a sentence saying so.  Raises
        NodeHostRefused with why it was not done."""
        ...

    async def devices(self) -> Inventory:
        """The gateway's devices and open pairings; raises NodeHostRefused when the
        gateway cannot be asked."""
        ...

    # Support ----------------------------------------------------------------------

    async def support_bundle(self, path: str = "") -> SupportBundle:
        """Write one archive for a bug report: versions, the config, the preflight checks,
        the last minutes of every service's logs, the state changes, the health probes,
        the approval decisions and the chat on show, all redacted.  ``path`` (absolute)
        names the file, or an existing directory to put it in; "" writes it under
        ``<state_dir>/support-bundles/``.  Raises BundleExists for a file that exists and
        BundleFailed with one sentence when nothing could be written."""
        ...

    # Onboarding -----------------------------------------------------------------

    async def onboarding_step(self, action: OnboardingAction) -> OnboardingStatus:
        """Do one onboarding action; raises OnboardingRefused with why it cannot be done."""
        ...

    async def confirm_state_root(self, runtime_root: str = "") -> OnboardingStatus:
        """Confirm the state root, with the daemons' directory ("" for the default);
        raises OnboardingRefused when the directory breaks the rules."""
        ...

    async def connect_openai(self, api_key: str) -> OnboardingStatus:
        """Send an OpenAI API key to the gateway once (nothing else keeps it but the redactor,
        which hides it from logs and support bundles); raises
        OnboardingRefused with one sentence when the gateway or OpenAI refuse it."""
        ...


__all__ = [
    "AlreadyDecided",
    "AnswerGrew",
    "BundleExists",
    "BundleFailed",
    "ChatChanged",
    "ClientsChanged",
    "DecisionError",
    "DecisionRefused",
    "InboxChanged",
    "LinkChanged",
    "MessageFeed",
    "MessageNotSent",
    "NodeHostRefused",
    "NotificationsChanged",
    "OnboardingChanged",
    "OnboardingRefused",
    "PlaceChanged",
    "PreferencesChanged",
    "ProfileChanged",
    "RolloutChanged",
    "RunFinished",
    "RuntimeApi",
    "RuntimeMessage",
    "RuntimeView",
    "ServiceChanged",
    "SnapshotChanged",
    "StateNotice",
    "TranscriptChanged",
    "TranscriptView",
]
