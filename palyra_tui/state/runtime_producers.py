"""What a local runtime publishes, and when: the supervisor's changes at once, the
gateway's facts once per interval, and the inbox, chat, transcripts and notifications
they lead to.  :class:`LocalRuntime` owns the state; this part only produces messages
from it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from palyra_tui.models.clock import Clock
from palyra_tui.models.gateway import SessionSummary
from palyra_tui.state import notification_rules as rules
from palyra_tui.state.collector import SnapshotCollector
from palyra_tui.state.feeds import Subscribers
from palyra_tui.state.gateway_link import GatewayLink, preload
from palyra_tui.state.inbox import merge, without_pairing_of
from palyra_tui.state.kept import KeptState
from palyra_tui.state.node_host import NodeHostControl
from palyra_tui.state.onboarding_driver import OnboardingDriver
from palyra_tui.state.persisted import Notification
from palyra_tui.state.renames import Renames
from palyra_tui.state.runs import RunManager
from palyra_tui.state.runtime_api import (
    ChatChanged,
    InboxChanged,
    NotificationsChanged,
    RunFinished,
    RuntimeMessage,
    RuntimeView,
    ServiceChanged,
    SnapshotChanged,
    TranscriptView,
)
from palyra_tui.state.snapshot import AppSnapshot, ConnectionState
from palyra_tui.state.transcript_publisher import TranscriptPublisher
from palyra_tui.supervisor import Supervisor

log = logging.getLogger(__name__)


class RuntimeProducers:
    """The message producers of :class:`~palyra_tui.state.local_runtime.LocalRuntime`."""

    supervisor: Supervisor
    link: GatewayLink
    runs: RunManager
    kept: KeptState
    onboarding: OnboardingDriver
    node: NodeHostControl
    clock: Clock
    interval: float
    _view: RuntimeView
    _closing: bool
    _collect: Callable[[], Awaitable[AppSnapshot]] | None
    _wake: asyncio.Event | None
    _renames: Renames
    _noticed: rules.Noticed
    _grpc_target: str
    _restored: bool
    _transcripts: TranscriptPublisher
    _subscribers: Subscribers

    def refresh(self) -> None:
        """Collect the gateway's facts now rather than at the end of the interval."""
        if self._wake is not None:
            self._wake.set()

    def _notify(self, notes: tuple[Notification, ...]) -> None:
        """Publish and keep a new list of notifications (if it differs)."""
        if notes != self._view.notifications:
            self._view = replace(self._view, notifications=notes)
            self._push(NotificationsChanged(notes))
            self.kept.keep(replace(self.kept.profile(), notifications=notes))

    async def _follow_services(self) -> None:
        """Push the supervisor's state at once on every service event, and its figures
        (CPU, memory, health latency) once per interval when they changed."""
        events = self.supervisor.subscribe_events()
        iterator = aiter(events)
        try:
            while not self._closing:
                try:
                    async with asyncio.timeout(self.interval):
                        event = await anext(iterator)
                except TimeoutError:
                    self._services_changed()
                    continue
                except StopAsyncIteration:
                    return
                self._services_changed()
                self._push(ServiceChanged(event))
        finally:
            events.close()

    async def _poll_gateway(self) -> None:
        """Collect the gateway's facts, sleep (or wake on request), forever; four times as
        often until the gateway answers, so live data appears as soon as it is up."""
        if self._collect is None:
            await asyncio.to_thread(preload)
        collect = self._collect or SnapshotCollector(self.supervisor, self.link, self.clock).collect
        assert self._wake is not None
        while not self._closing:
            begun = self._renames.poll_begins()
            try:
                collected = await collect()
            except Exception:  # a collector bug must not end the runtime's gateway view
                log.exception("collecting the gateway's facts failed")
                collected = self._view.snapshot
            snapshot = replace(collected, supervisor=self.supervisor.snapshot())
            self._publish_snapshot(self._renames.apply(snapshot, begun))
            waiting = snapshot.connection is not ConnectionState.CONNECTED
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval / 4 if waiting else self.interval):
                    await self._wake.wait()
            self._wake.clear()

    def _services_changed(self) -> None:
        supervised = self.supervisor.snapshot()
        if supervised != self._view.snapshot.supervisor:
            self._publish_snapshot(replace(self._view.snapshot, supervisor=supervised))

    def _publish_snapshot(self, snapshot: AppSnapshot) -> None:
        """Send a snapshot that differs from the last one sent (timestamps do not count):
        an idle runtime sends its clients nothing."""
        self._grpc_target, dashboard = self.link.targets(snapshot.supervisor)
        if snapshot != self._view.snapshot or dashboard != self._view.dashboard_url:
            self._view = replace(self._view, snapshot=snapshot, dashboard_url=dashboard)
            self._push(SnapshotChanged(snapshot, dashboard))
            notes, self._noticed = rules.connection_changed(
                self._view.notifications, self._noticed, snapshot.connection, self.clock.time()
            )
            self._notify(notes)
            if self.kept.opened:
                self.onboarding.update()
        self._inbox_changed()

    def _renamed(self, session_id: str, session: SessionSummary | None) -> None:
        """A session was renamed after its first message: every client sees the new name
        now, not after the next poll."""
        if session is not None:
            self._renames.renamed(session)
            self._publish_snapshot(self._renames.apply(self._view.snapshot))
        self._chat_changed()
        self.refresh()

    def _inbox_changed(self) -> None:
        inbox = merge(
            self.runs.stream_entries(),
            self._view.snapshot.approvals,
            frozenset(self.runs.decided),
        )
        inbox = without_pairing_of(inbox, self.node.pairing_device)
        if inbox != self._view.inbox:
            self._view = replace(self._view, inbox=inbox)
            self._push(InboxChanged(inbox))
        connected = self._view.snapshot.connection is ConnectionState.CONNECTED
        notes, self._noticed = rules.approvals_changed(
            self._view.notifications, self._noticed, len(inbox), self.clock.time(), connected
        )
        self._notify(notes)

    def _chat_changed(self) -> None:
        chat = self.runs.chat_view()
        if chat != self._view.chat:
            known = {draft.draft_id for draft in self._view.chat.drafts}
            self._view = replace(self._view, chat=chat)
            self._push(ChatChanged(chat))
            self.kept.keep(replace(self.kept.profile(), drafts=chat.drafts))
            new = [draft.reason for draft in chat.drafts if draft.draft_id not in known]
            if new and self._restored:
                self._notify(rules.drafts_kept(self._view.notifications, new, self.clock.time()))

    def _transcript_changed(self, session_id: str) -> None:
        self._publish_transcript(session_id)
        self._chat_changed()

    def _publish_transcript(self, session_id: str) -> TranscriptView:
        view, change = self._transcripts.publish(
            session_id, tuple(self.runs.transcript(session_id).items)
        )
        if change is not None:
            self._push(change)
        return view

    def _run_finished(self, session_id: str, summary: str) -> None:
        self._chat_changed()
        self._push(RunFinished(session_id, summary))
        self._notify(rules.run_finished(self._view.notifications, summary, self.clock.time()))

    def _push(self, message: RuntimeMessage) -> None:
        self._subscribers.push(message)
