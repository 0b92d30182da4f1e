"""The runtime API served on the host socket, over the host's :class:`LocalRuntime`.

What a UI starts, the host finishes: a message sent from a UI runs as a task
of the host, so a UI that detaches (or loses its terminal) mid-run cancels
nothing.  Each subscriber gets the whole view first, then every change; one
that falls too far behind gets the whole view again instead of an ever longer
queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from palyra_tui.client.errors import ClientError
from palyra_tui.errors import PalyraError
from palyra_tui.host import wire
from palyra_tui.host.report import STATUS, StatusReport, StatusRequest
from palyra_tui.host.reporting import build_report
from palyra_tui.host.settle import until_running
from palyra_tui.host.transport import HostServer
from palyra_tui.models.bundle import BundleRequest
from palyra_tui.models.feeds import LogFeed
from palyra_tui.models.handoff import HandoffScope
from palyra_tui.state.local_runtime import LocalRuntime
from palyra_tui.state.onboarding import OnboardingStatus
from palyra_tui.state.persisted import Place, Preferences, RolloutFlags
from palyra_tui.state.profiles import ProfileRefused
from palyra_tui.state.runtime_api import (
    AlreadyDecided,
    BundleExists,
    DecisionError,
    DecisionRefused,
    MessageNotSent,
    OnboardingRefused,
    RuntimeView,
)
from palyra_tui.state.settings import PreferencesUpdate, RolloutUpdate

log = logging.getLogger(__name__)

MAX_BEHIND = 5_000
"""Messages queued for one subscriber before it is resynchronised instead."""
LOG_CHUNK = 512
"""Log lines an item of the Logs stream holds at most.  A backlog comes as one batch
of every retained line; cut into items, it travels in messages under the socket's
16 MiB limit (a line is at most 16 KiB) instead of failing as one."""


class RuntimeService:
    """Binds a :class:`LocalRuntime` to a :class:`HostServer`'s methods."""

    def __init__(self, runtime: LocalRuntime, on_shutdown: Callable[[], None]) -> None:
        self.runtime = runtime
        self._on_shutdown = on_shutdown
        self._tasks: set[asyncio.Task[None]] = set()
        self._log_feeds: set[LogFeed] = set()

    def register(self, server: HostServer) -> None:
        """Add every method of the runtime API to ``server`` (before it starts)."""
        unary = server.add_unary
        unary(wire.VIEW, wire.Empty, RuntimeView, self._view)
        unary(STATUS, StatusRequest, StatusReport, self._status)
        unary(wire.TRANSCRIPT, wire.SessionRequest, wire.Items, self._transcript)
        unary(wire.SERVICE_NAMES, wire.Empty, wire.Names, self._service_names)
        unary(wire.TAIL, wire.TailRequest, wire.Lines, self._tail)
        unary(wire.SERVICE_COMMAND, wire.ServiceCommand, wire.Outcome, self._service_command)
        unary(wire.REFRESH, wire.Empty, wire.Outcome, self._refresh)
        unary(wire.NEW_SESSION, wire.Empty, wire.SessionOutcome, self._new_session)
        unary(wire.LOAD_HISTORY, wire.SessionRequest, wire.FlagOutcome, self._load_history)
        unary(wire.SEND, wire.SendRequest, wire.Outcome, self._send)
        unary(wire.RESEND, wire.DraftRequest, wire.Outcome, self._resend)
        unary(wire.DISCARD_DRAFT, wire.DraftRequest, wire.Outcome, self._discard)
        unary(wire.ABORT, wire.SessionRequest, wire.FlagOutcome, self._abort)
        unary(wire.DECIDE, wire.DecideRequest, wire.Outcome, self._decide)
        unary(wire.REMEMBER_PLACE, Place, wire.Outcome, self._remember_place)
        unary(wire.MARK_READ, wire.MarkReadRequest, wire.Outcome, self._mark_read)
        unary(wire.SHUTDOWN, wire.Empty, wire.Outcome, self._shutdown)
        unary(wire.DASHBOARD_HANDOFF, HandoffScope, wire.HandoffOutcome, self._dashboard_handoff)
        unary(wire.UPDATE_PREFERENCES, PreferencesUpdate, Preferences, self._preferences)
        unary(wire.UPDATE_ROLLOUT, RolloutUpdate, RolloutFlags, self._rollout)
        onboarding = wire.OnboardingOutcome
        unary(wire.ONBOARDING_STEP, wire.OnboardingRequest, onboarding, self._onboarding_step)
        unary(wire.CONFIRM_STATE_ROOT, wire.StateRootRequest, onboarding, self._state_root)
        unary(wire.CONNECT_OPENAI, wire.ApiKeyRequest, onboarding, self._connect_openai)
        unary(wire.SWITCH_PROFILE, wire.ProfileRequest, wire.SentenceOutcome, self._switch)
        unary(wire.SUPPORT_BUNDLE, BundleRequest, wire.BundleOutcome, self._support_bundle)
        unary(wire.NODE_HOST, wire.NodeHostRequest, wire.NodeHostOutcome, self._node_host)
        unary(wire.DEVICES, wire.Empty, wire.DevicesOutcome, self._devices)
        server.add_stream(wire.SUBSCRIBE, wire.Empty, wire.Envelope, self._subscribe)
        server.add_stream(wire.LOGS, wire.LogsRequest, wire.Lines, self._logs)

    async def drain(self) -> None:
        """End the log streams and the runs that UIs started (used when the host stops).

        A log stream follows the logs until its client leaves; left open, it would hold
        the server's stop for its whole grace period."""
        for feed in list(self._log_feeds):
            feed.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # Reads -----------------------------------------------------------------------

    async def _view(self, _: wire.Empty) -> RuntimeView:
        return self.runtime.view()

    async def _status(self, _: StatusRequest) -> StatusReport:
        return build_report(self.runtime.view(), self.runtime.services())

    async def _transcript(self, request: wire.SessionRequest) -> wire.Items:
        view = await self.runtime.transcript(request.session_id)
        return wire.Items(view.items, view.revision)

    async def _service_names(self, _: wire.Empty) -> wire.Names:
        return wire.Names(self.runtime.service_names())

    async def _tail(self, request: wire.TailRequest) -> wire.Lines:
        return wire.Lines(await self.runtime.tail(request.name, request.count, request.stream))

    async def _subscribe(self, _: wire.Empty) -> AsyncIterator[wire.Envelope]:
        feed = self.runtime.subscribe(MAX_BEHIND)
        self.runtime.set_clients(self.runtime.view().clients + 1)
        try:
            yield wire.Envelope(wire.Resync(self.runtime.view()))
            async for message in feed:
                if feed.behind:
                    feed.behind = False
                    yield wire.Envelope(wire.Resync(self.runtime.view(), behind=True))
                yield wire.Envelope(message)
        finally:
            feed.close()
            self.runtime.set_clients(self.runtime.view().clients - 1)

    async def _logs(self, request: wire.LogsRequest) -> AsyncIterator[wire.Lines]:
        feed = self.runtime.subscribe_logs(request.services, backlog=request.backlog)
        self._log_feeds.add(feed)
        try:
            async for batch in feed:
                if len(batch) <= LOG_CHUNK:
                    yield wire.Lines(batch)
                    continue
                for start in range(0, len(batch), LOG_CHUNK):
                    yield wire.Lines(batch[start : start + LOG_CHUNK])
        finally:
            self._log_feeds.discard(feed)
            feed.close()

    # Commands ----------------------------------------------------------------------

    async def _service_command(self, command: wire.ServiceCommand) -> wire.Outcome:
        runtime = self.runtime
        actions: dict[wire.Verb, Callable[[], Coroutine[Any, Any, None]]] = {
            wire.Verb.START: lambda: runtime.start(command.name),
            wire.Verb.STOP: lambda: runtime.stop(command.name),
            wire.Verb.RESTART: lambda: runtime.restart(command.name),
            wire.Verb.HOLD: lambda: runtime.hold(command.name, True),
            wire.Verb.RELEASE: lambda: runtime.hold(command.name, False),
            wire.Verb.START_ALL: runtime.start_all,
            wire.Verb.STOP_ALL: lambda: runtime.stop_all(command.reason or "stopped by operator"),
        }
        work = self._own(actions[command.verb]())
        if command.until is wire.Until.ACCEPTED:
            return wire.Outcome()
        if command.until is wire.Until.RUNNING and command.verb in _STARTS:
            return await _settled(
                until_running(runtime.supervisor, command.name, asyncio.shield(work))
            )
        return await _outcome(asyncio.shield(work))

    async def _refresh(self, _: wire.Empty) -> wire.Outcome:
        self.runtime.refresh()
        return wire.Outcome()

    async def _new_session(self, _: wire.Empty) -> wire.SessionOutcome:
        try:
            return wire.SessionOutcome(await self.runtime.new_session())
        except ClientError as error:
            return wire.SessionOutcome(None, wire.Outcome(wire.Failure.CLIENT, str(error)))

    async def _load_history(self, request: wire.SessionRequest) -> wire.FlagOutcome:
        try:
            return wire.FlagOutcome(await self.runtime.load_history(request.session_id))
        except ClientError as error:
            return wire.FlagOutcome(False, wire.Outcome(wire.Failure.CLIENT, str(error)))

    async def _send(self, request: wire.SendRequest) -> wire.Outcome:
        """Answer at once: a message the gateway does not take becomes a draft.  With
        offline drafts off, answer once the gateway took it, or with why it did not.  During
        a profile switch, refuse at once: the client gives the text back to the operator."""
        try:
            self.runtime.check_can_send()
        except MessageNotSent as refused:
            return wire.Outcome(wire.Failure.NOT_SENT, str(refused))
        taken = asyncio.get_running_loop().create_future()

        def took() -> None:
            if not taken.done():
                taken.set_result(None)

        work = self._own(self.runtime.send(request.session_id, request.text, on_taken=took))
        if self.runtime.runs.drafts_enabled:
            return wire.Outcome()
        await asyncio.wait((work, taken), return_when=asyncio.FIRST_COMPLETED)
        taken.cancel()
        if work.done() and not work.cancelled():
            error = work.exception()
            if isinstance(error, MessageNotSent):
                return wire.Outcome(wire.Failure.NOT_SENT, str(error))
        return wire.Outcome()

    async def _resend(self, request: wire.DraftRequest) -> wire.Outcome:
        try:
            self.runtime.check_can_send()
        except MessageNotSent as refused:
            return wire.Outcome(wire.Failure.NOT_SENT, str(refused))
        self._own(self.runtime.resend(request.draft_id))
        return wire.Outcome()

    async def _discard(self, request: wire.DraftRequest) -> wire.Outcome:
        await self.runtime.discard_draft(request.draft_id)
        return wire.Outcome()

    async def _abort(self, request: wire.SessionRequest) -> wire.FlagOutcome:
        try:
            return wire.FlagOutcome(await self.runtime.abort(request.session_id))
        except ClientError as error:
            return wire.FlagOutcome(False, wire.Outcome(wire.Failure.CLIENT, str(error)))

    async def _decide(self, request: wire.DecideRequest) -> wire.Outcome:
        try:
            await asyncio.shield(
                self._own(self.runtime.decide(request.approval_id, request.answer, by=request.by))
            )
        except AlreadyDecided as error:
            return wire.Outcome(wire.Failure.ALREADY_DECIDED, str(error))
        except DecisionRefused as error:
            return wire.Outcome(wire.Failure.DECISION_REFUSED, str(error))
        except DecisionError as error:
            return wire.Outcome(wire.Failure.DECISION, str(error))
        except ClientError as error:
            return wire.Outcome(wire.Failure.CLIENT, str(error))
        return wire.Outcome()

    async def _remember_place(self, place: Place) -> wire.Outcome:
        await self.runtime.remember_place(place)
        return wire.Outcome()

    async def _mark_read(self, request: wire.MarkReadRequest) -> wire.Outcome:
        await self.runtime.mark_read(None if request.every else request.ids)
        return wire.Outcome()

    async def _preferences(self, update: PreferencesUpdate) -> Preferences:
        return await self.runtime.update_preferences(update)

    async def _rollout(self, update: RolloutUpdate) -> RolloutFlags:
        return await self.runtime.update_rollout(update)

    async def _dashboard_handoff(self, scope: HandoffScope) -> wire.HandoffOutcome:
        """A handoff for the client that asked; the host keeps nothing of it."""
        try:
            return wire.HandoffOutcome(await self.runtime.dashboard_handoff(scope))
        except ClientError as error:
            return wire.HandoffOutcome(None, wire.Outcome(wire.Failure.CLIENT, str(error)))

    async def _switch(self, request: wire.ProfileRequest) -> wire.SentenceOutcome:
        """A switch runs as the host's: a client that leaves mid-switch (the services take
        their stop timeouts) does not leave it half done."""
        work = self.runtime.switch_profile(request.name, request.confirmation)
        answer: asyncio.Future[wire.SentenceOutcome] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            try:
                answer.set_result(wire.SentenceOutcome(await work))
            except ProfileRefused as refused:
                failure = wire.Outcome(wire.Failure.PROFILE, str(refused))
                answer.set_result(wire.SentenceOutcome("", failure))
            except PalyraError as error:
                answer.set_result(
                    wire.SentenceOutcome("", wire.Outcome(wire.Failure.SUPERVISOR, str(error)))
                )

        await asyncio.shield(self._own(run()))
        return answer.result()

    async def _support_bundle(self, request: BundleRequest) -> wire.BundleOutcome:
        """A bundle is written as the host's: a client that leaves mid-way leaves no half
        file, and the bundle it asked for is still written whole."""
        answer: asyncio.Future[wire.BundleOutcome] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            try:
                bundle = await self.runtime.support_bundle(request.path)
            except BundleExists as exists:
                failure = wire.Outcome(wire.Failure.BUNDLE_EXISTS, str(exists))
            except PalyraError as failed:
                failure = wire.Outcome(wire.Failure.BUNDLE, str(failed))
            except Exception as error:
                log.exception("a support bundle failed")
                kind = type(error).__name__
                sentence = f"no support bundle was written: unexpected error ({kind})"
                failure = wire.Outcome(wire.Failure.BUNDLE, sentence)
            else:
                answer.set_result(wire.BundleOutcome(bundle))
                return
            answer.set_result(wire.BundleOutcome(None, failure))

        await asyncio.shield(self._own(run()))
        return answer.result()

    async def _node_host(self, request: wire.NodeHostRequest) -> wire.NodeHostOutcome:
        """Enrolment runs as the host's: a client that leaves mid-way (it restarts the
        gateway) never leaves the gateway without client certificates required."""
        answer: asyncio.Future[wire.NodeHostOutcome] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            try:
                result = await self.runtime.node_host(request.action, request.restart_confirmed)
            except PalyraError as refused:
                failure = wire.Outcome(wire.Failure.NODE_HOST, str(refused))
                answer.set_result(wire.NodeHostOutcome(None, failure))
            except Exception as error:
                log.exception("a node host action failed")
                sentence = f"the node host action failed: unexpected error ({type(error).__name__})"
                failure = wire.Outcome(wire.Failure.NODE_HOST, sentence)
                answer.set_result(wire.NodeHostOutcome(None, failure))
            else:
                answer.set_result(wire.NodeHostOutcome(result))

        await asyncio.shield(self._own(run()))
        return answer.result()

    async def _devices(self, _: wire.Empty) -> wire.DevicesOutcome:
        try:
            return wire.DevicesOutcome(await self.runtime.devices())
        except PalyraError as refused:
            return wire.DevicesOutcome(None, wire.Outcome(wire.Failure.NODE_HOST, str(refused)))

    async def _shutdown(self, _: wire.Empty) -> wire.Outcome:
        self._on_shutdown()
        return wire.Outcome()

    async def _onboarding_step(self, request: wire.OnboardingRequest) -> wire.OnboardingOutcome:
        return await self._onboarding(self.runtime.onboarding_step(request.action))

    async def _state_root(self, request: wire.StateRootRequest) -> wire.OnboardingOutcome:
        return await self._onboarding(self.runtime.confirm_state_root(request.runtime_root))

    async def _connect_openai(self, request: wire.ApiKeyRequest) -> wire.OnboardingOutcome:
        return await self._onboarding(self.runtime.connect_openai(request.api_key))

    async def _onboarding(
        self, step: Coroutine[Any, Any, OnboardingStatus]
    ) -> wire.OnboardingOutcome:
        """Run an onboarding step as the host's: a client that detaches mid-step (a start
        of the runtime, a key on its way) cancels its call, never the step."""
        answer: asyncio.Future[wire.OnboardingOutcome] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            answer.set_result(await _onboarding(step))

        await asyncio.shield(self._own(run()))
        return answer.result()

    def _own(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``work`` as the host's, past the call that asked for it: a client that
        detaches, or whose deadline passes, cancels its call, never the work."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None and not isinstance(error, (PalyraError, DecisionError)):
            log.error("work a client started failed", exc_info=error)


_STARTS = frozenset({wire.Verb.START, wire.Verb.RESTART})


async def _settled(waiting: Awaitable[str]) -> wire.Outcome:
    """A start that ran (or did not: the outcome says why)."""
    try:
        problem = await waiting
    except PalyraError as error:
        return wire.Outcome(wire.Failure.SUPERVISOR, str(error))
    if problem:
        return wire.Outcome(wire.Failure.SUPERVISOR, problem)
    return wire.Outcome()


async def _onboarding(action: Awaitable[OnboardingStatus]) -> wire.OnboardingOutcome:
    try:
        return wire.OnboardingOutcome(await action)
    except OnboardingRefused as refused:
        return wire.OnboardingOutcome(None, wire.Outcome(wire.Failure.ONBOARDING, str(refused)))


async def _outcome(action: Awaitable[None]) -> wire.Outcome:
    try:
        await action
    except PalyraError as error:
        return wire.Outcome(wire.Failure.SUPERVISOR, str(error))
    return wire.Outcome()
