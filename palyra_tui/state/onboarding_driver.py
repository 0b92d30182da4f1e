"""Onboarding inside the runtime: it gathers the facts, keeps the progress, does the steps.

The step machine (:mod:`palyra_tui.state.onboarding`) decides from facts; this
gathers them.  Progress (when each milestone was reached, the last failure,
the recent events) lives in the state file of the active profile.  The
preflight runs when asked (the runtime host asks once its services were
started; the operator asks with a check).  Two facts need the gateway: a
console login with the admin token (operator auth) and the gateway's OpenAI
status; each is asked once per gateway process, again after a check or a
connect, never on every snapshot.

An OpenAI API key passes through :meth:`OnboardingDriver.connect_openai` once,
into one request to the gateway.  It is not kept (the runtime gives it to the redactor,
which hides it), not logged, and a failure sentence that would repeat it has it replaced
by ``<redacted>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from palyra_tui.client.errors import ClientError, InvalidRequest
from palyra_tui.errors import PalyraError
from palyra_tui.models import ServiceKind, ServiceSnapshot, ServiceState, SupervisorSnapshot
from palyra_tui.models.clock import Clock
from palyra_tui.models.preflight import CheckStatus, Preflight
from palyra_tui.state.gateway_link import GatewayLink
from palyra_tui.state.kept import KeptState
from palyra_tui.state.onboarding import (
    OnboardingAction,
    OnboardingFacts,
    OnboardingStatus,
    OpenAiReadiness,
    Readiness,
    StepKey,
    onboarding_status,
    stamp_completion,
)
from palyra_tui.state.persisted import Onboarding, record_event, record_failure
from palyra_tui.state.runtime_api import OnboardingRefused
from palyra_tui.state.runtime_root import RuntimeRootRefused, prepare_runtime_root
from palyra_tui.state.snapshot import AppSnapshot, OverallStatus
from palyra_tui.supervisor import Supervisor
from palyra_tui.text import sanitize_line

log = logging.getLogger(__name__)

RunPreflight = Callable[[SupervisorSnapshot, str], Awaitable[Preflight]]
"""Runs the preflight checks, given the services and the dashboard's address."""

_GATEWAY_DOWN = frozenset(
    {ServiceState.BACKOFF, ServiceState.FAILED, ServiceState.EXITED, ServiceState.HELD}
)
_NO_GATEWAY = Readiness(False, "Start the gateway first: operator auth is checked by logging in.")


class OnboardingDriver:
    """The onboarding of one runtime: facts, progress, actions; publishes every new status."""

    def __init__(
        self,
        supervisor: Supervisor,
        link: GatewayLink,
        kept: KeptState,
        clock: Clock,
        *,
        current: Callable[[], tuple[AppSnapshot, str]],
        publish: Callable[[OnboardingStatus], None],
        preflight: RunPreflight | None = None,
    ) -> None:
        """``current`` gives the latest snapshot and dashboard address; ``publish`` takes
        every status that differs from the one before."""
        self.supervisor = supervisor
        self.link = link
        self.kept = kept
        self.clock = clock
        self._current = current
        self._publish = publish
        self._run_preflight = preflight
        self._preflight: Preflight | None = None if preflight is not None else Preflight(())
        self._auth = Readiness()
        self._openai = OpenAiReadiness()
        self._probed_for: tuple[str, int | None] | None = None
        """The gateway (address and pid) the probes last ran for."""
        self._probe: asyncio.Task[None] | None = None
        self._generation = 0
        """Counts the probes started: only the newest one's answer is taken."""
        self._checking: asyncio.Task[OnboardingStatus] | None = None
        self._queued: asyncio.Task[OnboardingStatus] | None = None
        """A check asked for while another ran; it runs when that one ends."""
        self.status: OnboardingStatus | None = None

    # Facts -------------------------------------------------------------------------

    def facts(self) -> OnboardingFacts:
        """The facts as of now."""
        snapshot, _ = self._current()
        config = self.supervisor.config
        profile = self.kept.profile()
        chosen = Path(profile.runtime_root) if profile.runtime_root else config.default_runtime_root
        health = snapshot.gateway_health
        preflight = self._preflight
        missing = ""
        if preflight is not None:
            gateway_binary = next((c for c in preflight.checks if c.key == "gateway_binary"), None)
            if gateway_binary is not None and gateway_binary.status is CheckStatus.BLOCKED:
                missing = gateway_binary.detail
        down = snapshot.overall is OverallStatus.DOWN
        return OnboardingFacts(
            progress=profile.onboarding,
            preflight=preflight,
            state_root=str(config.state_root),
            runtime_root=str(chosen),
            runtime_root_pending=chosen != config.runtime_root,
            gateway_version=(health.version or "unknown") if health is not None else "",
            gateway_down=down,
            gateway_problem=_gateway_problem(_gateway(snapshot)),
            gateway_missing=missing,
            operator_auth=self._auth if not down else _NO_GATEWAY,
            openai=self._openai,
            settled=preflight is not None and (down or self._probed_for == self._gateway_key()),
        )

    def update(self) -> OnboardingStatus:
        """Decide the status from the facts now; stamp the completion when every gate holds;
        publish a changed status; ask the gateway when its facts are due."""
        facts = self.facts()
        status = onboarding_status(facts)
        stamped = stamp_completion(facts.progress, status, self.clock.time())
        if stamped is not facts.progress:
            self._keep(stamped)
            status = onboarding_status(replace(facts, progress=stamped))
        if status != self.status:
            self.status = status
            self._publish(status)
        if not facts.gateway_down and self._probed_for != self._gateway_key():
            self._start_probe()
        return status

    def forget_gateway(self) -> None:
        """What the probes learnt belonged to another profile's gateway: ask again.  A probe
        under way asked that gateway, so its answer is dropped."""
        if self._probe is not None and not self._probe.done():
            self._probe.cancel()
        self._generation += 1
        self._auth = Readiness()
        self._openai = OpenAiReadiness()
        self._probed_for = None

    def _gateway_key(self) -> tuple[str, int | None]:
        snapshot, dashboard = self._current()
        gateway = _gateway(snapshot)
        return dashboard, gateway.pid if gateway is not None else None

    # Probes ------------------------------------------------------------------------

    def _start_probe(self, *, fresh: bool = False) -> None:
        """Start a probe unless one runs; ``fresh``: replace one that runs, since it began
        before what the operator just fixed and would report the old cause."""
        running = self._probe is not None and not self._probe.done()
        if running and not fresh:
            return
        if running and self._probe is not None:
            self._probe.cancel()
        self._generation += 1
        self._probe = asyncio.get_running_loop().create_task(self._probe_gateway(self._generation))

    async def _probe_gateway(self, generation: int) -> None:
        """Check the console session (logging in with the admin token when there is none, or
        when this gateway does not know it), then ask for the OpenAI status; once per gateway
        process: a restarted palyrad has forgotten every session.  The answer replaces the
        last one only while no newer probe has started."""
        key = self._gateway_key()
        dashboard = key[0]
        auth, openai = self._auth, self._openai
        if dashboard:
            try:
                http = await self.link.http(dashboard)
                await http.check_session()
                auth = Readiness(True, "The console login with the admin token works.")
            except ClientError as error:
                auth = Readiness(False, f"The console login failed: {error}")
                openai = OpenAiReadiness()
            except Exception:  # a probe bug must not end the runtime
                log.exception("checking operator auth failed")
                auth = Readiness(False, "Operator auth could not be checked (see the log).")
            else:
                openai = await self._ask_openai(dashboard)
        if generation != self._generation:
            return
        self._auth, self._openai = auth, openai
        self._probed_for = key
        if dashboard:
            self.update()

    async def _ask_openai(self, dashboard: str) -> OpenAiReadiness:
        from palyra_tui.client.http.providers import openai_auth_state

        try:
            state = await openai_auth_state(await self.link.http(dashboard))
        except ClientError as error:
            return OpenAiReadiness(note=f"The gateway did not say how OpenAI is set up: {error}")
        note = ""
        if not state.default_profile_id:
            note = "No default OpenAI profile yet: send an API key to the gateway."
        return OpenAiReadiness(
            available=True,
            default_profile_id=state.default_profile_id,
            profile_ids=state.available_profile_ids,
            note=note,
        )

    async def check(self) -> OnboardingStatus:
        """Run the preflight and ask the gateway again; a check under way began before this
        ask, so a fresh one follows it (asks meanwhile join that one)."""
        loop = asyncio.get_running_loop()
        running = self._checking
        if running is None or running.done():
            self._checking = joined = loop.create_task(self._check())
        else:
            if self._queued is None or self._queued.done():
                self._queued = loop.create_task(self._check_after(running))
            joined = self._queued
        return await asyncio.shield(joined)

    async def _check_after(self, running: asyncio.Task[OnboardingStatus]) -> OnboardingStatus:
        """A check asked for while one runs: that one began before the ask, so this one
        runs once it ends (every ask meanwhile joins it)."""
        with contextlib.suppress(Exception):
            await asyncio.shield(running)
        self._checking, self._queued = asyncio.current_task(), None
        return await self._check()

    def check_soon(self) -> None:
        """Run the checks in the background (the runtime host, once its services started)."""
        if self._checking is None or self._checking.done():
            self._checking = asyncio.get_running_loop().create_task(self._check())

    async def _check(self) -> OnboardingStatus:
        """Run every check again from scratch: a result from before the check (a probe
        still under way, a failure since fixed) never stands for this one."""
        self._probed_for = None
        if self._run_preflight is not None:
            snapshot, dashboard = self._current()
            try:
                self._preflight = await self._run_preflight(snapshot.supervisor, dashboard)
            except Exception:  # a check that fails to run must not end onboarding
                log.exception("the preflight checks failed to run")
        if not self.facts().gateway_down:
            self._start_probe(fresh=True)
        status = self.update()
        probe = self._probe
        if probe is not None and not probe.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(probe)
            status = self.status or status
        return status

    async def close(self) -> None:
        """Stop the probes and checks under way."""
        running = (self._probe, self._checking, self._queued)
        tasks = [t for t in running if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # Actions -----------------------------------------------------------------------

    def failed(self, step: StepKey, message: str) -> None:
        """A step failed outside onboarding's own actions (a dashboard handoff refused):
        it becomes the last failure and is counted."""
        progress = self.kept.profile().onboarding
        self._keep(record_failure(progress, step.value, message, self.clock.time()))
        self.update()

    async def act(
        self,
        action: OnboardingAction,
        start_all: Callable[[], Awaitable[None]],
        *,
        detail: str = "",
    ) -> OnboardingStatus:
        """Do ``action``; raises :class:`OnboardingRefused` when it cannot be done.
        ``detail`` goes with the event it records (a dashboard link: its section)."""
        now = self.clock.time()
        progress = self.kept.profile().onboarding
        if action is OnboardingAction.CHECK:
            return await self.check()
        if action is OnboardingAction.ACKNOWLEDGE_WELCOME:
            progress = _first(progress, "welcome_acknowledged_at", now)
            progress = _cleared(record_event(progress, "welcome_acknowledged", "", now))
        elif action is OnboardingAction.START_GATEWAY:
            self._keep(record_event(progress, "runtime_start_requested", "", now))
            try:
                await start_all()
            except PalyraError as error:
                raise OnboardingRefused(f"The runtime could not be started: {error}") from None
            return self.update()
        elif action is OnboardingAction.SKIP_DISCORD:
            progress = _first(progress, "discord_skipped_at", now)
            progress = record_event(progress, "discord_skipped", "", now)
        elif action is OnboardingAction.DASHBOARD_OPENED:
            progress = _first(progress, "dashboard_handoff_at", now)
            progress = _cleared(record_event(progress, "dashboard_opened", detail, now))
        elif action is OnboardingAction.SKIP_DASHBOARD:
            progress = _first(progress, "dashboard_handoff_skipped_at", now)
            progress = record_event(progress, "dashboard_handoff_skipped", "", now)
        elif action is OnboardingAction.COMPLETE:
            status = self.update()
            if status.current is not StepKey.COMPLETION:
                step = status.current_step
                raise OnboardingRefused(f"{step.title} is not done yet: {step.detail}")
            return status
        self._keep(progress)
        return self.update()

    async def confirm_state_root(self, text: str) -> OnboardingStatus:
        """Check and create the daemons' directory, keep the choice, confirm the step."""
        config = self.supervisor.config
        now = self.clock.time()
        try:
            path = await asyncio.to_thread(prepare_runtime_root, text, config.default_runtime_root)
        except RuntimeRootRefused as refused:
            message = sanitize_line(str(refused))
            self._keep(record_failure(self.kept.profile().onboarding, "state_root", message, now))
            self.update()
            raise OnboardingRefused(_sentence(message)) from None
        chosen = "" if path == config.default_runtime_root else str(path)
        profile = self.kept.profile()
        progress = _first(profile.onboarding, "state_root_confirmed_at", now)
        progress = _cleared(record_event(progress, "state_root_selected", str(path), now))
        self.kept.keep(replace(profile, onboarding=progress, runtime_root=chosen))
        return self.update()

    async def connect_openai(self, api_key: str) -> OnboardingStatus:
        """Send ``api_key`` to the gateway once; keep only the profile it made."""
        from palyra_tui.client.http.providers import connect_openai_api_key, hide

        now = self.clock.time()
        key = api_key.strip()
        if not key:
            raise OnboardingRefused("Paste an OpenAI API key first: the field is empty.")
        _, dashboard = self._current()
        if not dashboard or self.facts().gateway_down:
            raise OnboardingRefused(
                "The gateway does not answer yet: finish Gateway init, then send the key."
            )
        try:
            action = await connect_openai_api_key(await self.link.http(dashboard), key)
        except ClientError as error:
            message = hide(_openai_failure(error), key)
        except Exception as error:  # no unexpected error may carry the key into a log
            log.error("connecting OpenAI failed unexpectedly: %s", type(error).__name__)
            message = "OpenAI could not be connected: an unexpected error stopped the request."
        else:
            message = ""
        if message:
            self._keep(
                record_failure(self.kept.profile().onboarding, "openai_connect", message, now)
            )
            self.update()
            raise OnboardingRefused(message)
        progress = self.kept.profile().onboarding
        progress = replace(progress, openai_profile_id=action.profile_id, openai_connected_at=now)
        progress = _cleared(record_event(progress, "openai_connected", action.profile_id, now))
        self._keep(progress)
        self._openai = await self._ask_openai(dashboard)
        return self.update()

    def _keep(self, progress: Onboarding) -> None:
        self.kept.keep(replace(self.kept.profile(), onboarding=progress))


def _gateway(snapshot: AppSnapshot) -> ServiceSnapshot | None:
    return next((s for s in snapshot.supervisor.services if s.kind is ServiceKind.GATEWAY), None)


def _gateway_problem(gateway: ServiceSnapshot | None) -> str:
    """Why the gateway service does not run, or ""."""
    if gateway is None:
        return "no gateway service is configured"
    if not gateway.enabled:
        return (
            f"the gateway service is disabled ({gateway.reason})"
            if gateway.reason
            else ("the gateway service is disabled")
        )
    if gateway.state in _GATEWAY_DOWN:
        reason = gateway.reason or gateway.state.value
        ended = gateway.last_exit.description if gateway.last_exit is not None else ""
        return f"{ended}; {reason}" if ended and ended not in reason else reason
    if gateway.state is ServiceState.STOPPED:
        return "it is not started"
    return ""


def _first(progress: Onboarding, name: str, now: float) -> Onboarding:
    """``progress`` with the milestone ``name`` stamped, unless it was already."""
    if getattr(progress, name) is not None:
        return progress
    stamped: dict[str, Any] = {name: now}
    return replace(progress, **stamped)


def _cleared(progress: Onboarding) -> Onboarding:
    return replace(progress, last_failure=None)


def _openai_failure(error: ClientError) -> str:
    """One sentence for a key the gateway did not take."""
    if isinstance(error, InvalidRequest):
        detail = error.detail or str(error)
        return _sentence(f"The gateway did not take the key: {detail}")
    return _sentence(f"OpenAI could not be connected: {error}")


def _sentence(text: str) -> str:
    """``text`` as one sentence: a capital first letter and a full stop."""
    text = sanitize_line(text).strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
