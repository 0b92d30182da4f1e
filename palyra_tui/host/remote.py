"""The runtime API over the host socket: what a UI or a script attaches with.

:class:`SocketRuntime` keeps the host's view as the host sends it (the whole
view first, then every change) and hands the same messages to its own
subscribers, so the UI cannot tell it from the in-process runtime.  When the
link ends, subscribers get :class:`LinkChanged` with the reason; nothing is
retried behind the operator's back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from palyra_tui.client.errors import ClientError
from palyra_tui.errors import (
    HostDisconnected,
    HostError,
    HostNotRunning,
    PalyraError,
    SupervisorError,
)
from palyra_tui.host import wire
from palyra_tui.models import LogLine, LogStream, SupervisorSnapshot
from palyra_tui.models.bundle import BundleRequest, SupportBundle
from palyra_tui.models.devices import Inventory, NodeAction, NodeOutcome
from palyra_tui.models.gateway import ApprovalAnswer, SessionSummary
from palyra_tui.models.handoff import Handoff, HandoffScope
from palyra_tui.state.feeds import Feed, Subscribers
from palyra_tui.state.onboarding import OnboardingAction, OnboardingStatus
from palyra_tui.state.persisted import Place, Preferences, RolloutFlags
from palyra_tui.state.profiles import ProfileRefused
from palyra_tui.state.runtime_api import (
    AlreadyDecided,
    BundleExists,
    BundleFailed,
    ChatChanged,
    ClientsChanged,
    DecisionError,
    DecisionRefused,
    InboxChanged,
    LinkChanged,
    MessageNotSent,
    NodeHostRefused,
    NotificationsChanged,
    OnboardingChanged,
    OnboardingRefused,
    PlaceChanged,
    PreferencesChanged,
    ProfileChanged,
    RolloutChanged,
    RuntimeApi,
    RuntimeMessage,
    RuntimeView,
    SnapshotChanged,
    StateNotice,
    TranscriptView,
)
from palyra_tui.state.settings import PreferencesUpdate, RolloutUpdate

if TYPE_CHECKING:
    from palyra_tui.host.client import HostClient

ATTACH_TIMEOUT = 10.0
COMMAND_DEADLINE = 3600.0
"""Seconds a service command may take (stops wait for every service's stop timeout)."""
BUNDLE_DEADLINE = 600.0
"""Seconds a support bundle may take: the preflight checks, then minutes of logs to write."""
SEND_DEADLINE = 300.0
"""Seconds a send may take: with offline drafts off, the host answers once the gateway took
the message or failed to, which may take as long as reaching it."""


class _LogFeed:
    """Batches of log lines from the host, read by a task of their own.

    Each batch the iterator yields holds every line received since the one before, as
    the supervisor's own subscription does: a reader that takes a batch per frame keeps
    up with any rate, instead of falling behind by one host message a frame while the
    rest piles up in memory.
    """

    def __init__(self, client: HostClient, request: wire.LogsRequest) -> None:
        self._queue: asyncio.Queue[tuple[LogLine, ...] | None] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._read(client, request))
        self.error = ""

    async def _read(self, client: HostClient, request: wire.LogsRequest) -> None:
        try:
            async for batch in client.stream(wire.LOGS, request, wire.Lines):
                self._queue.put_nowait(batch.lines)
                # Messages already received are read without a pause; without a turn
                # between them a flood decodes for tens of milliseconds while keys wait.
                await asyncio.sleep(0)
        except HostError as error:
            self.error = str(error)
        finally:
            self._queue.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[tuple[LogLine, ...]]:
        ended = False
        while not ended:
            batches = [await self._queue.get()]
            while not self._queue.empty():
                batches.append(self._queue.get_nowait())
            ended = batches[-1] is None
            lines = tuple(line for batch in batches if batch is not None for line in batch)
            if lines:
                yield lines

    def close(self) -> None:
        self._task.cancel()


class SocketRuntime:
    """A :class:`RuntimeApi` served by the runtime host of a state root."""

    def __init__(
        self,
        client: HostClient | None = None,
        *,
        prepare: Callable[[], Awaitable[HostClient]] | None = None,
    ) -> None:
        self._client = client
        self._prepare = prepare
        """Run first by :meth:`open` (finding or starting the host) for the client."""
        self._view = RuntimeView()
        self._names: tuple[str, ...] = ()
        self._subscribers = Subscribers()
        self._follow: asyncio.Task[None] | None = None
        self._opening: asyncio.Future[None] | None = None
        self._synced: asyncio.Event | None = None
        self._asks: set[asyncio.Task[None]] = set()
        self.lost = ""
        """Why the link to the host ended ("" while it holds)."""

    @property
    def client(self) -> HostClient:
        """The link to the host; before :meth:`open` has prepared one, every call fails."""
        if self._client is None:
            raise HostNotRunning("not attached to the runtime host yet")
        return self._client

    # Lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        """Attach; callers that ask while an attach is under way share it (the UI starts
        one before its first frame and joins it once drawn)."""
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open())
        opening = self._opening
        try:
            await asyncio.shield(opening)
        except BaseException:
            if opening.done() and self._opening is opening:
                self._opening = None
            raise

    async def _open(self) -> None:
        if self._follow is not None:
            return
        if self._prepare is not None:
            self._client = await self._prepare()
            self._prepare = None
        if self.client.host is None:
            await self.client.connect()
        self._names = (await self.client.call(wire.SERVICE_NAMES, wire.Empty(), wire.Names)).names
        self._synced = asyncio.Event()
        self._follow = asyncio.get_running_loop().create_task(self._follow_host())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(ATTACH_TIMEOUT):
                await self._synced.wait()
        if self.lost:
            raise HostError(self.lost)

    async def close(self) -> None:
        opening, self._opening = self._opening, None
        if opening is not None and not opening.done():
            opening.cancel()
            with contextlib.suppress(BaseException):
                await opening
        follow, self._follow = self._follow, None
        if follow is not None:
            follow.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follow
        self._subscribers.close()
        if self._client is not None:
            await self._client.close()

    async def _follow_host(self) -> None:
        assert self._synced is not None
        try:
            async for envelope in self.client.stream(wire.SUBSCRIBE, wire.Empty(), wire.Envelope):
                self._receive(envelope.message)
                self._synced.set()
            self._lose("the runtime host ended the link")
        except HostDisconnected:
            self._lose("the runtime host went away (it stopped, or was killed)")
        except HostError as error:
            self._lose(str(error))
        finally:
            self._synced.set()

    def _receive(self, message: wire.HostMessage) -> None:
        if isinstance(message, wire.Resync):
            view = message.view
            self._view = view
            for change in (
                SnapshotChanged(view.snapshot, view.dashboard_url),
                InboxChanged(view.inbox),
                ChatChanged(view.chat),
                ClientsChanged(view.clients),
                NotificationsChanged(view.notifications),
                PlaceChanged(view.place),
                StateNotice(view.state_notice),
                RolloutChanged(view.rollout),
                PreferencesChanged(view.preferences),
                ProfileChanged(view.profile, view.profiles),
            ):
                self._push(change)
            if view.onboarding is not None:
                self._push(OnboardingChanged(view.onboarding))
            if message.behind:
                self._push(LinkChanged(True, resynced=True))
            return
        if isinstance(message, SnapshotChanged):
            self._view = replace(
                self._view, snapshot=message.snapshot, dashboard_url=message.dashboard_url
            )
        elif isinstance(message, InboxChanged):
            self._view = replace(self._view, inbox=message.inbox)
        elif isinstance(message, ChatChanged):
            self._view = replace(self._view, chat=message.chat)
        elif isinstance(message, ClientsChanged):
            self._view = replace(self._view, clients=message.clients)
        elif isinstance(message, PlaceChanged):
            self._view = replace(self._view, place=message.place)
        elif isinstance(message, StateNotice):
            self._view = replace(self._view, state_notice=message.text)
        elif isinstance(message, NotificationsChanged):
            self._view = replace(self._view, notifications=message.notifications)
        elif isinstance(message, OnboardingChanged):
            self._view = replace(self._view, onboarding=message.status)
        elif isinstance(message, RolloutChanged):
            self._view = replace(self._view, rollout=message.rollout)
        elif isinstance(message, PreferencesChanged):
            self._view = replace(self._view, preferences=message.preferences)
        elif isinstance(message, ProfileChanged):
            self._view = replace(self._view, profile=message.profile, profiles=message.profiles)
        self._push(message)

    def _lose(self, reason: str) -> None:
        if not self.lost:
            self.lost = reason
            self._push(LinkChanged(False, reason))

    def _push(self, message: RuntimeMessage) -> None:
        self._subscribers.push(message)

    # Reads -------------------------------------------------------------------------

    def view(self) -> RuntimeView:
        return self._view

    def subscribe(self) -> Feed:
        return self._subscribers.subscribe()

    async def transcript(self, session_id: str) -> TranscriptView:
        reply = await self.client.call(wire.TRANSCRIPT, wire.SessionRequest(session_id), wire.Items)
        return TranscriptView(reply.revision, reply.items)

    def service_names(self) -> tuple[str, ...]:
        return self._names

    async def tail(
        self, name: str, count: int, stream: LogStream | None = None
    ) -> tuple[LogLine, ...]:
        reply = await self.client.call(wire.TAIL, wire.TailRequest(name, count, stream), wire.Lines)
        return reply.lines

    def subscribe_logs(
        self, services: Iterable[str] | None = None, *, backlog: bool = False
    ) -> _LogFeed:
        names = tuple(services) if services is not None else None
        return _LogFeed(self.client, wire.LogsRequest(names, backlog))

    def services(self) -> SupervisorSnapshot:
        return self._view.snapshot.supervisor

    # Services -----------------------------------------------------------------------

    async def _command(self, verb: wire.Verb, name: str = "", reason: str = "") -> None:
        """A stop may take each service's ``stop_timeout``, in waves: no short deadline.
        The host finishes the command even if this call ends first."""
        outcome = await self.client.call(
            wire.SERVICE_COMMAND,
            wire.ServiceCommand(verb, name, reason),
            wire.Outcome,
            COMMAND_DEADLINE,
        )
        _raise(outcome)

    async def start(self, name: str) -> None:
        await self._command(wire.Verb.START, name)

    async def stop(self, name: str) -> None:
        await self._command(wire.Verb.STOP, name)

    async def restart(self, name: str) -> None:
        await self._command(wire.Verb.RESTART, name)

    async def hold(self, name: str, held: bool) -> None:
        await self._command(wire.Verb.HOLD if held else wire.Verb.RELEASE, name)

    async def start_all(self) -> None:
        await self._command(wire.Verb.START_ALL)

    async def stop_all(self, reason: str = "stopped by operator") -> None:
        await self._command(wire.Verb.STOP_ALL, reason=reason)

    def refresh(self) -> None:
        async def ask() -> None:
            with contextlib.suppress(HostError):
                await self.client.call(wire.REFRESH, wire.Empty(), wire.Outcome)

        task = asyncio.get_running_loop().create_task(ask())
        self._asks.add(task)
        task.add_done_callback(self._asks.discard)

    async def shutdown(self) -> None:
        """Ask the host to stop every service and exit."""
        await self.client.call(wire.SHUTDOWN, wire.Empty(), wire.Outcome)

    # Chat ---------------------------------------------------------------------------

    async def new_session(self) -> SessionSummary:
        reply = await self.client.call(wire.NEW_SESSION, wire.Empty(), wire.SessionOutcome)
        _raise(reply.outcome)
        if reply.session is None:
            raise ClientError("the gateway did not create a session")
        return reply.session

    async def load_history(self, session_id: str) -> bool:
        reply = await self.client.call(
            wire.LOAD_HISTORY, wire.SessionRequest(session_id), wire.FlagOutcome
        )
        _raise(reply.outcome)
        return reply.value

    async def send(self, session_id: str, text: str) -> None:
        request = wire.SendRequest(session_id, text)
        _raise(await self.client.call(wire.SEND, request, wire.Outcome, SEND_DEADLINE))

    async def resend(self, draft_id: str) -> None:
        _raise(await self.client.call(wire.RESEND, wire.DraftRequest(draft_id), wire.Outcome))

    async def discard_draft(self, draft_id: str) -> None:
        _raise(
            await self.client.call(wire.DISCARD_DRAFT, wire.DraftRequest(draft_id), wire.Outcome)
        )

    async def abort(self, session_id: str) -> bool:
        reply = await self.client.call(
            wire.ABORT, wire.SessionRequest(session_id), wire.FlagOutcome
        )
        _raise(reply.outcome)
        return reply.value

    async def remember_place(self, place: Place) -> None:
        _raise(await self.client.call(wire.REMEMBER_PLACE, place, wire.Outcome))

    async def mark_read(self, ids: tuple[str, ...] | None = None) -> None:
        request = wire.MarkReadRequest(ids or (), every=ids is None)
        _raise(await self.client.call(wire.MARK_READ, request, wire.Outcome))

    async def update_preferences(self, update: PreferencesUpdate) -> Preferences:
        return await self.client.call(wire.UPDATE_PREFERENCES, update, Preferences)

    async def update_rollout(self, update: RolloutUpdate) -> RolloutFlags:
        return await self.client.call(wire.UPDATE_ROLLOUT, update, RolloutFlags)

    # Profiles -------------------------------------------------------------------------

    async def switch_profile(self, name: str, confirmation: str = "") -> str:
        """Stopping the services may take each one's stop timeout: no short deadline."""
        request = wire.ProfileRequest(name, confirmation)
        reply = await self.client.call(
            wire.SWITCH_PROFILE, request, wire.SentenceOutcome, COMMAND_DEADLINE
        )
        _raise(reply.outcome)
        return reply.sentence

    # Approvals ------------------------------------------------------------------------

    async def decide(self, approval_id: str, answer: ApprovalAnswer) -> None:
        """Send one decision; whoever decides second hears it was this client, and when."""
        info = self.client.info
        request = wire.DecideRequest(approval_id, answer, by=f"{info.name}, pid {info.pid}")
        _raise(await self.client.call(wire.DECIDE, request, wire.Outcome))

    # Dashboard ------------------------------------------------------------------------

    async def dashboard_handoff(self, scope: HandoffScope) -> Handoff:
        reply = await self.client.call(wire.DASHBOARD_HANDOFF, scope, wire.HandoffOutcome)
        _raise(reply.outcome)
        if reply.handoff is None:
            raise ClientError("the runtime host gave no dashboard handoff")
        return reply.handoff

    # Support ------------------------------------------------------------------------

    async def support_bundle(self, path: str = "") -> SupportBundle:
        """The host writes it: ``path`` must be absolute (the host's working directory is
        not the caller's)."""
        reply = await self.client.call(
            wire.SUPPORT_BUNDLE, BundleRequest(path), wire.BundleOutcome, BUNDLE_DEADLINE
        )
        _raise(reply.outcome)
        if reply.bundle is None:
            raise BundleFailed("the runtime host answered without the support bundle")
        return reply.bundle

    # Node host and devices ----------------------------------------------------------

    async def node_host(self, action: NodeAction, restart_confirmed: bool = False) -> NodeOutcome:
        """Enrolment restarts the gateway (twice, each waiting for it to be healthy)."""
        request = wire.NodeHostRequest(action, restart_confirmed)
        reply = await self.client.call(
            wire.NODE_HOST, request, wire.NodeHostOutcome, COMMAND_DEADLINE
        )
        _raise(reply.outcome)
        if reply.result is None:
            raise NodeHostRefused("the runtime host answered without the node host's state")
        return reply.result

    async def devices(self) -> Inventory:
        reply = await self.client.call(wire.DEVICES, wire.Empty(), wire.DevicesOutcome)
        _raise(reply.outcome)
        if reply.inventory is None:
            raise NodeHostRefused("the runtime host answered without the device inventory")
        return reply.inventory

    # Onboarding ---------------------------------------------------------------------

    async def onboarding_step(self, action: OnboardingAction) -> OnboardingStatus:
        request = wire.OnboardingRequest(action)
        return _status(await self._onboarding(wire.ONBOARDING_STEP, request))

    async def confirm_state_root(self, runtime_root: str = "") -> OnboardingStatus:
        request = wire.StateRootRequest(runtime_root)
        return _status(await self._onboarding(wire.CONFIRM_STATE_ROOT, request))

    async def connect_openai(self, api_key: str) -> OnboardingStatus:
        request = wire.ApiKeyRequest(api_key)
        return _status(await self._onboarding(wire.CONNECT_OPENAI, request))

    async def _onboarding(self, method: str, request: object) -> wire.OnboardingOutcome:
        """Starting the runtime may take each service's start: no short deadline."""
        return await self.client.call(method, request, wire.OnboardingOutcome, COMMAND_DEADLINE)


def _status(reply: wire.OnboardingOutcome) -> OnboardingStatus:
    _raise(reply.outcome)
    if reply.status is None:
        raise OnboardingRefused("the runtime host answered without the onboarding status")
    return reply.status


def _raise(outcome: wire.Outcome) -> None:
    """Turn a refusal back into the exception the caller would get in-process."""
    failure = outcome.failure
    if failure is wire.Failure.NONE:
        return
    errors: dict[wire.Failure, type[Exception]] = {
        wire.Failure.SUPERVISOR: SupervisorError,
        wire.Failure.CLIENT: ClientError,
        wire.Failure.DECISION: DecisionError,
        wire.Failure.DECISION_REFUSED: DecisionRefused,
        wire.Failure.ALREADY_DECIDED: AlreadyDecided,
        wire.Failure.NOT_SENT: MessageNotSent,
        wire.Failure.ONBOARDING: OnboardingRefused,
        wire.Failure.PROFILE: ProfileRefused,
        wire.Failure.BUNDLE: BundleFailed,
        wire.Failure.BUNDLE_EXISTS: BundleExists,
        wire.Failure.NODE_HOST: NodeHostRefused,
    }
    raise errors.get(failure, PalyraError)(outcome.message)


def _implements_the_api(runtime: SocketRuntime) -> RuntimeApi:
    return runtime
