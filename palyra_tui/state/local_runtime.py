"""The runtime in this process: supervisor, gateway link, runs, inbox and drafts.

It composes one :class:`RuntimeView` from two producers.  What lasts (the
offline drafts, the place on show, the rollout flags, the preferences) is read from the state
file at :meth:`LocalRuntime.open` and written back on every change.  The supervisor's
state is pushed the moment a service changes (and its figures, CPU, memory
and health, once a second); the gateway's facts are polled, and a gateway
that hangs delays only them.  Every change goes out to subscribers as a typed
message.  Create it, and call :meth:`open`, on the loop that will drive it: the
gateway clients belong to that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace

from palyra_tui.client.errors import ClientError, GatewayUnreachable
from palyra_tui.client.identity import ClientIdentity
from palyra_tui.config import RuntimeConfig
from palyra_tui.config.profiles import CATALOG_ENV
from palyra_tui.models import LogLine, LogStream, SupervisorSnapshot
from palyra_tui.models.bundle import SupportBundle
from palyra_tui.models.clock import Clock, SystemClock
from palyra_tui.models.devices import Inventory, NodeAction, NodeOutcome
from palyra_tui.models.feeds import LogFeed
from palyra_tui.models.gateway import ApprovalAnswer, DecisionScope, SessionSummary
from palyra_tui.models.handoff import Handoff, HandoffScope
from palyra_tui.state import notification_rules as rules
from palyra_tui.state import profile_switch
from palyra_tui.state.decisions import Decisions
from palyra_tui.state.feeds import Feed, Subscribers
from palyra_tui.state.gateway_link import GatewayLink
from palyra_tui.state.handoff_grant import grant_handoff
from palyra_tui.state.kept import AdoptSecrets, KeptState
from palyra_tui.state.node_host import NodeHostControl
from palyra_tui.state.onboarding import OnboardingAction, OnboardingStatus, StepKey
from palyra_tui.state.onboarding_driver import OnboardingDriver, RunPreflight
from palyra_tui.state.persisted import (
    Place,
    Preferences,
    RolloutFlags,
    mark_read,
)
from palyra_tui.state.profile_book import ProfileBook
from palyra_tui.state.renames import Renames
from palyra_tui.state.runs import RunManager
from palyra_tui.state.runtime_api import (
    ClientsChanged,
    DecisionError,
    DecisionRefused,
    MessageNotSent,
    NodeHostRefused,
    OnboardingChanged,
    PlaceChanged,
    PreferencesChanged,
    RolloutChanged,
    RuntimeApi,
    RuntimeView,
    StateNotice,
    TranscriptView,
)
from palyra_tui.state.runtime_producers import RuntimeProducers
from palyra_tui.state.settings import (
    PreferencesUpdate,
    RolloutUpdate,
    apply_preferences,
    apply_rollout,
)
from palyra_tui.state.snapshot import AppSnapshot
from palyra_tui.state.state_file import state_path
from palyra_tui.state.transcript_publisher import TranscriptPublisher
from palyra_tui.supervisor import Supervisor
from palyra_tui.supervisor.logbuffer import MIB

log = logging.getLogger(__name__)


class LocalRuntime(RuntimeProducers):
    """A :class:`~palyra_tui.state.runtime_api.RuntimeApi` over objects in this process."""

    def __init__(
        self,
        supervisor: Supervisor,
        identity: ClientIdentity,
        runtime: RuntimeConfig,
        *,
        clock: Clock | None = None,
        interval: float = 1.0,
        collect: Callable[[], Awaitable[AppSnapshot]] | None = None,
        adopt_secrets: AdoptSecrets | None = None,
        preflight: RunPreflight | None = None,
        profile_token: Callable[[str], str | None] | None = None,
        catalog: bool = True,
        hosted: bool = False,
    ) -> None:
        """``adopt_secrets`` takes plaintext tokens an older state file held (for the
        secret store) before the file is rewritten without them; ``preflight`` runs the
        checks of onboarding's Environment step and of a support bundle (none: nothing to
        check); ``profile_token`` reads a remote profile's admin token (blocking); without
        ``catalog`` only the built-in profile exists (the demo's throw-away state root);
        ``hosted``: a runtime host serves this runtime to clients."""
        self.profile_token = profile_token
        self.preflight = preflight
        self.in_process = not hosted
        self.supervisor = supervisor
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.interval = interval
        self.link = GatewayLink(identity, runtime)
        self.runs = RunManager(
            self.link,
            on_change=self._transcript_changed,
            on_inbox=self._inbox_changed,
            on_finished=self._run_finished,
            on_renamed=self._renamed,
            clock=self.clock,
        )
        self._collect = collect
        self._view = RuntimeView(
            snapshot=AppSnapshot(supervisor=supervisor.snapshot()),
            state_dir=str(supervisor.config.state_dir),
            log_total_bytes=supervisor.config.log_total_mib * MIB,
            log_service_bytes=supervisor.config.log_mib * MIB,
        )
        self._grpc_target = ""
        self.decisions = Decisions()
        """The approval decisions sent from this runtime (since the last profile switch)."""
        self._transcripts = TranscriptPublisher()
        self._renames = Renames()
        """Sessions as the gateway renamed them, with the number of polls begun by then."""
        self._subscribers = Subscribers()
        self._wake: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._noticed = rules.Noticed()
        self._restored = False
        """True once the kept drafts are back: drafts restored are not news."""
        no_catalog = None if catalog else {CATALOG_ENV: ""}
        self.book = ProfileBook(supervisor.config.state_root, no_catalog)
        self._switching = asyncio.Lock()
        self.kept = KeptState(
            state_path(supervisor.config.state_dir),
            self.clock,
            on_notice=self._state_notice,
            adopt_secrets=adopt_secrets,
        )
        self.onboarding = OnboardingDriver(
            supervisor,
            self.link,
            self.kept,
            self.clock,
            current=lambda: (self._view.snapshot, self._view.dashboard_url),
            publish=self._onboarding_changed,
            preflight=preflight,
        )
        self.node = NodeHostControl(
            supervisor,
            self.link,
            current=lambda: (self._view.snapshot, self._view.dashboard_url),
            is_remote=lambda: self.book.info.remote,
            clock=self.clock,
        )

    # Lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        """Read the state file, then start following the supervisor and polling the
        gateway (idempotent)."""
        if self._tasks:
            return
        await self._restore()
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._follow_services(), name="runtime services"),
            loop.create_task(self._poll_gateway(), name="runtime gateway"),
        ]

    async def close(self) -> None:
        """Stop following, end every feed, close the gateway clients (the services go on)."""
        self._closing = True
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.onboarding.close()
        self._subscribers.close()
        await self.link.close()
        await self.kept.close()

    async def _restore(self) -> None:
        """Resolve the active profile, then take up its drafts, place and notifications
        and the rollout flags the state file kept."""
        state = await self.kept.open()
        await profile_switch.open_profile(self, "" if self.kept.first_run else state.active_profile)
        profile = self.kept.profile()
        self._settings(state.rollout, state.preferences)
        self.runs.drafts.restore((*profile.drafts, *self.runs.drafts.all()))
        profile_switch.take_up(self, profile)
        self._restored = True
        self.onboarding.update()

    # Reads -------------------------------------------------------------------------

    def view(self) -> RuntimeView:
        return self._view

    def subscribe(self, limit: int | None = None) -> Feed:
        return self._subscribers.subscribe(limit)

    async def transcript(self, session_id: str) -> TranscriptView:
        return self._publish_transcript(session_id)

    def service_names(self) -> tuple[str, ...]:
        return self.supervisor.service_names()

    async def tail(
        self, name: str, count: int, stream: LogStream | None = None
    ) -> tuple[LogLine, ...]:
        return self.supervisor.tail(name, count, stream)

    def subscribe_logs(
        self, services: Iterable[str] | None = None, *, backlog: bool = False
    ) -> LogFeed:
        return self.supervisor.subscribe_logs(services, backlog=backlog)

    def services(self) -> SupervisorSnapshot:
        return self.supervisor.snapshot()

    # Services -----------------------------------------------------------------------

    # A start waits for a profile switch under way, then asks the profile it left in
    # place: a start made mid-switch would run the daemons of a profile being left, or
    # those of a remote one.

    async def start(self, name: str) -> None:
        async with self._switching:
            profile_switch.refuse_remote(self)
            await self.supervisor.start(name)

    async def stop(self, name: str) -> None:
        await self.supervisor.stop(name)

    async def restart(self, name: str) -> None:
        async with self._switching:
            profile_switch.refuse_remote(self)
            await self.supervisor.restart(name)

    async def hold(self, name: str, held: bool) -> None:
        await self.supervisor.hold(name, held)

    async def start_all(self) -> None:
        async with self._switching:
            profile_switch.refuse_remote(self)
            await self.supervisor.start_all()

    async def stop_all(self, reason: str = "stopped by operator") -> None:
        await self.supervisor.stop_all(reason)

    async def shutdown(self) -> None:
        await self.supervisor.stop_all("stopped: palyra-tui quit")

    def set_clients(self, clients: int) -> None:
        """How many clients a runtime host serves now."""
        if clients != self._view.clients:
            self._view = replace(self._view, clients=clients)
            self._push(ClientsChanged(clients))

    # Chat ---------------------------------------------------------------------------

    async def new_session(self) -> SessionSummary:
        if not self._grpc_target:
            raise GatewayUnreachable("the gateway is not reachable")
        session = await self.runs.new_session(self._grpc_target)
        self.refresh()
        return session

    async def load_history(self, session_id: str) -> bool:
        return await self.runs.load_history(self._view.dashboard_url, session_id)

    async def send(
        self, session_id: str, text: str, *, on_taken: Callable[[], None] | None = None
    ) -> None:
        """``on_taken`` is called once the gateway took the message."""
        self.check_can_send()
        try:
            await self.runs.send(self._grpc_target, session_id, text, on_taken=on_taken)
        finally:
            self._chat_changed()

    async def resend(self, draft_id: str) -> None:
        draft = next((d for d in self.runs.drafts.all() if d.draft_id == draft_id), None)
        if draft is None:
            return
        self.check_can_send()
        try:
            await self.runs.resend(self._grpc_target, draft)
        finally:
            self._chat_changed()

    def check_can_send(self) -> None:
        """Raise MessageNotSent while the profile is being switched: a message sent then
        would go to the profile being left, or land as a draft of the next one."""
        if self._switching.locked():
            raise MessageNotSent(
                "not sent: the profile is being switched; send it again once the switch is done"
            )

    async def discard_draft(self, draft_id: str) -> None:
        self.runs.drafts.remove(draft_id)
        self._chat_changed()

    async def abort(self, session_id: str) -> bool:
        try:
            return await self.runs.abort(session_id)
        finally:
            self._chat_changed()

    # What lasts -------------------------------------------------------------------------

    async def mark_read(self, ids: tuple[str, ...] | None = None) -> None:
        self._notify(mark_read(self._view.notifications, ids))

    async def remember_place(self, place: Place) -> None:
        if place == self._view.place:
            return
        self._view = replace(self._view, place=place)
        self.kept.keep(replace(self.kept.profile(), place=place))
        self._push(PlaceChanged(place))

    async def update_preferences(self, update: PreferencesUpdate) -> Preferences:
        self._settings(self._view.rollout, apply_preferences(self._view.preferences, update))
        return self._view.preferences

    async def update_rollout(self, update: RolloutUpdate) -> RolloutFlags:
        self._settings(apply_rollout(self._view.rollout, update), self._view.preferences)
        return self._view.rollout

    def _settings(self, rollout: RolloutFlags, preferences: Preferences) -> None:
        """Take up, publish and keep the operator's rollout flags and preferences."""
        self.runs.drafts_enabled = rollout.offline_drafts_enabled
        if rollout != self._view.rollout:
            self._view = replace(self._view, rollout=rollout)
            self._push(RolloutChanged(rollout))
        if preferences != self._view.preferences:
            self._view = replace(self._view, preferences=preferences)
            self._push(PreferencesChanged(preferences))
        self.kept.keep_settings(rollout, preferences)

    def _state_notice(self, text: str) -> None:
        """The state file cannot be used, or can again: every client hears it once."""
        if text != self._view.state_notice:
            self._view = replace(self._view, state_notice=text)
            self._push(StateNotice(text))

    # Profiles -------------------------------------------------------------------------

    async def switch_profile(self, name: str, confirmation: str = "") -> str:
        return await profile_switch.switch_profile(self, name, confirmation)

    # Approvals ------------------------------------------------------------------------

    async def decide(self, approval_id: str, answer: ApprovalAnswer, by: str = "") -> None:
        """Send one decision; whoever comes second hears what was decided, when, and by
        whom (``by``: the client that decides, when it says)."""
        self.decisions.refuse_second(approval_id)
        entry = next((e for e in self._view.inbox if e.approval_id == approval_id), None)
        if entry is None:
            raise DecisionError(f"approval {approval_id} is no longer pending")
        if answer.approved and not entry.session_scope and answer.scope is not DecisionScope.ONCE:
            raise DecisionRefused(
                f"approval {approval_id} is {entry.what}: it is allowed once or denied, "
                "never for a session or a time"
            )
        self.decisions.record(entry, answer, self.clock.time(), by)
        try:
            await self.runs.decide(entry, answer, self._view.dashboard_url)
        except DecisionRefused:
            raise
        except (DecisionError, ClientError):
            # Not sent: another client may decide. A cancelled call keeps the record:
            # its decision may have gone out.
            self.decisions.forget(approval_id)
            raise

    # Dashboard ------------------------------------------------------------------------

    async def dashboard_handoff(self, scope: HandoffScope) -> Handoff:
        """Ask the gateway for a handoff URL, handed back and not kept.  Onboarding records
        each link handed out as ``dashboard_opened``, and a refusal as a failure of its
        dashboard handoff step."""
        try:
            handoff = await grant_handoff(self._view, self.link, self.clock, scope)
        except ClientError as error:
            self.onboarding.failed(StepKey.DASHBOARD, str(error))
            raise
        opened = OnboardingAction.DASHBOARD_OPENED
        await self.onboarding.act(opened, self.start_all, detail=scope.section.value)
        return handoff

    # Node host and devices -------------------------------------------------------------

    async def node_host(self, action: NodeAction, restart_confirmed: bool = False) -> NodeOutcome:
        """A profile switch and a node host action exclude each other: each is refused
        while the other runs, so neither acts on the other's profile."""
        if action is NodeAction.STATUS:
            return await self.node.status()
        if self._switching.locked():
            raise NodeHostRefused("a profile switch is under way: try again when it is done")
        if action is NodeAction.RESET:
            return await self.node.reset()
        return await self.node.enroll(
            repair=action is NodeAction.REPAIR, restart_confirmed=restart_confirmed
        )

    async def devices(self) -> Inventory:
        return await self.node.devices()

    # Support ----------------------------------------------------------------------------

    async def support_bundle(self, path: str = "") -> SupportBundle:
        from palyra_tui.state.bundle import export_bundle

        return await export_bundle(self, path)

    # Onboarding ---------------------------------------------------------------------------

    async def onboarding_step(self, action: OnboardingAction) -> OnboardingStatus:
        return await self.onboarding.act(action, self.start_all)

    async def confirm_state_root(self, runtime_root: str = "") -> OnboardingStatus:
        return await self.onboarding.confirm_state_root(runtime_root)

    async def connect_openai(self, api_key: str) -> OnboardingStatus:
        """The key is kept by nothing but the redactor, which hides it from the services'
        logs and from support bundles should a daemon or an error ever repeat it."""
        self.supervisor.redactor.add_secret(api_key)
        return await self.onboarding.connect_openai(api_key)

    def _onboarding_changed(self, status: OnboardingStatus) -> None:
        self._view = replace(self._view, onboarding=status)
        self._push(OnboardingChanged(status))


def _implements_the_api(runtime: LocalRuntime) -> RuntimeApi:
    return runtime
