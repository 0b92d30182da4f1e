"""Fixed data and a fixed clock for the SVG snapshot tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace

from palyra_tui.client.errors import ClientError
from palyra_tui.config.profiles import Catalog, SwitchRefused, check_switch
from palyra_tui.errors import PalyraError
from palyra_tui.models import (
    ExitInfo,
    HealthState,
    HealthStatus,
    LogCounters,
    LogLevel,
    LogLine,
    LogStream,
    ProcessStats,
    ServiceKind,
    ServiceSnapshot,
    ServiceState,
    SupervisorSnapshot,
)
from palyra_tui.models.bundle import SupportBundle
from palyra_tui.models.clock import Clock, ManualClock
from palyra_tui.models.devices import (
    Capability,
    Device,
    Inventory,
    NodeAction,
    NodeOutcome,
    NodeStatus,
    PairingRequest,
    PairingState,
    Presence,
    TrustState,
    restart_warning,
)
from palyra_tui.models.gateway import (
    Approval,
    ApprovalAnswer,
    ApprovalPrompt,
    GatewayHealth,
    RiskLevel,
    SessionSummary,
    SubjectType,
)
from palyra_tui.models.handoff import Handoff, HandoffScope
from palyra_tui.models.preflight import Check, CheckStatus, Preflight
from palyra_tui.models.run_events import ApprovalRequestEvent, TokenEvent, ToolProposalEvent
from palyra_tui.state.chat import ChatItem, Transcript
from palyra_tui.state.chat_view import ChatView
from palyra_tui.state.drafts import OfflineDraft
from palyra_tui.state.handoff import scope_redirect
from palyra_tui.state.inbox import InboxEntry, from_stream
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
from palyra_tui.state.persisted import (
    NotificationKind,
    Onboarding,
    Place,
    Preferences,
    RolloutFlags,
    add_notification,
    mark_read,
    record_event,
    record_failure,
)
from palyra_tui.state.profiles import ProfileInfo, ProfileRefused, catalog_infos
from palyra_tui.state.runtime_api import (
    ChatChanged,
    InboxChanged,
    LinkChanged,
    MessageNotSent,
    NodeHostRefused,
    NotificationsChanged,
    OnboardingChanged,
    OnboardingRefused,
    PreferencesChanged,
    ProfileChanged,
    RolloutChanged,
    RuntimeApi,
    RuntimeMessage,
    RuntimeView,
    TranscriptChanged,
    TranscriptView,
)
from palyra_tui.state.settings import (
    PreferencesUpdate,
    RolloutUpdate,
    apply_preferences,
    apply_rollout,
)
from palyra_tui.state.snapshot import AppSnapshot, ConnectionState
from palyra_tui.ui.app import PalyraApp

NOW = 1_795_200_000.0
SESSION = "01JQ7P4NQ2T7K5XG0C9M3E8AAA"
RUN = "01JQ7P4NQ2T7K5XG0C9M3E8BBB"


def services() -> tuple[ServiceSnapshot, ...]:
    healthy = HealthStatus(HealthState.HEALTHY, "", 0.8, "0.1.0", NOW)
    return (
        ServiceSnapshot(
            name="gateway",
            kind=ServiceKind.GATEWAY,
            state=ServiceState.RUNNING,
            desired=True,
            pid=4101,
            started_at=NOW - 3725,
            health=healthy,
            stats=ProcessStats(1.5, 48_000_000, 12, 40),
            logs=LogCounters(120, 120),
            binary="/usr/local/bin/palyrad",
            endpoints=(("grpc_listen_addr", "127.0.0.1:7443"), ("listen_addr", "127.0.0.1:7142")),
        ),
        ServiceSnapshot(
            name="browserd",
            kind=ServiceKind.BROWSERD,
            state=ServiceState.BACKOFF,
            desired=True,
            restarts=3,
            attempt=4,
            next_attempt_at=NOW + 12,
            last_exit=ExitInfo(code=1, signal=None, at=NOW - 4, uptime=0.4),
            reason="exited with code 1",
            binary="/usr/local/bin/palyra-browserd",
        ),
        ServiceSnapshot(
            name="node_host",
            kind=ServiceKind.NODE_HOST,
            state=ServiceState.STOPPED,
            desired=False,
            enabled=False,
            reason="node host is not enrolled",
        ),
    )


def app_snapshot() -> AppSnapshot:
    return AppSnapshot(
        supervisor=SupervisorSnapshot(services=services(), state_root="/srv/palyra"),
        gateway_target="127.0.0.1:7443",
        gateway_health=GatewayHealth("palyrad", "ok", "0.1.0", "abc123", "release", 3720),
        connection=ConnectionState.CONNECTED,
        sessions=(
            SessionSummary(session_id=SESSION, title="deploy checks", last_run_state="in_progress"),
        ),
        taken_at=NOW,
    )


LINES = (
    LogLine(
        1,
        NOW - 30,
        "gateway",
        LogStream.STDOUT,
        "daemon listening",
        LogLevel.INFO,
        "palyra_daemon",
        (("listen_addr", "127.0.0.1:7142"),),
    ),
    LogLine(
        1,
        NOW - 20,
        "browserd",
        LogStream.STDERR,
        "Error: failed to bind 127.0.0.1:7143",
        LogLevel.ERROR,
    ),
    LogLine(
        2,
        NOW - 19,
        "browserd",
        LogStream.SUPERVISOR,
        "⟂ 1,204 lines dropped: no longer in the buffer",
        LogLevel.WARN,
        dropped=1204,
    ),
    LogLine(
        2,
        NOW - 10,
        "gateway",
        LogStream.STDOUT,
        "approval requested",
        LogLevel.INFO,
        "palyra_daemon::tool_flow",
        (("approval_id", "01JQ7P4NQ2T7K5XG0C9M3E8CCC"),),
    ),
)


class _LogFeed:
    def __init__(self, lines: tuple[LogLine, ...]) -> None:
        self._lines = lines

    def __aiter__(self) -> AsyncIterator[tuple[LogLine, ...]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[tuple[LogLine, ...]]:
        yield self._lines
        await asyncio.Event().wait()

    def close(self) -> None:
        return None


class _MessageFeed:
    def __init__(self) -> None:
        self._queue: asyncio.Queue[RuntimeMessage | None] = asyncio.Queue()

    def push(self, message: RuntimeMessage | None) -> None:
        self._queue.put_nowait(message)

    def __aiter__(self) -> AsyncIterator[RuntimeMessage]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[RuntimeMessage]:
        while (message := await self._queue.get()) is not None:
            yield message

    def close(self) -> None:
        self.push(None)


def approval_request() -> ApprovalRequestEvent:
    """The fixed run's pending approval."""
    return ApprovalRequestEvent(
        RUN,
        "01JQ7P4NQ2T7K5XG0C9M3E8DDD",
        "01JQ7P4NQ2T7K5XG0C9M3E8CCC",
        "palyra.process.run",
        '{"command": "df -h", "cwd": "."}',
        "run a shell command: df -h",
        ApprovalPrompt(
            title="Approve palyra.process.run",
            risk=RiskLevel.HIGH,
            timeout_seconds=60,
            policy_explanation="process execution needs approval",
        ),
    )


PAIRING_DEVICE = "01J0NODE0000000000000000AA"
PAIRING_SESSION = "01JQ7P4NQ2T7K5XG0C9M3E8SSS"
FINGERPRINT = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def pairing_approval(details_json: str | None = None, **fields: object) -> Approval:
    """A device's request to pair, as palyrad (and the reference gateway) file it;
    ``fields`` replace entries of its ``details_json``."""
    if details_json is None:
        details: dict[str, object] = {
            "session_id": PAIRING_SESSION,
            "device_id": PAIRING_DEVICE,
            "client_kind": "node",
            "method": "pin",
            "identity_fingerprint": FINGERPRINT,
            "transcript_hash_hex": "ab" * 32,
        }
        details.update(fields)
        details_json = json.dumps(details, separators=(",", ":"))
    return Approval(
        approval_id="01JQ7P4NQ2T7K5XG0C9M3E8PPP",
        session_id=PAIRING_SESSION,
        run_id="01JQ7P4NQ2T7K5XG0C9M3E8RRR",
        principal="system:node-pairing",
        device_id=PAIRING_DEVICE,
        requested_at_ms=int((NOW - 10) * 1000),
        subject_type=SubjectType.DEVICE_PAIRING,
        subject_id=f"device_pairing:{PAIRING_SESSION}:{PAIRING_DEVICE}",
        request_summary=(
            f"device_id={PAIRING_DEVICE} client_kind=node method=pin approval_required=true"
        ),
        prompt=ApprovalPrompt(
            title=f"Approve device pairing for {PAIRING_DEVICE}",
            risk=RiskLevel.HIGH,
            summary=f"Device `{PAIRING_DEVICE}` requested node pairing with method `pin`",
            timeout_seconds=600,
            details_json=details_json,
            policy_explanation="Node/device pairing is deny-by-default until an operator "
            "explicitly approves the request.",
        ),
    )


def device_inventory() -> Inventory:
    """Two devices (one with a hostile warning), a pending pairing, three not listed."""
    now_ms = int(NOW * 1000)
    return Inventory(
        generated_at_ms=now_ms,
        devices=(
            Device(
                device_id="01J0NODE0000000000000000AA",
                client_kind="node",
                trust=TrustState.TRUSTED,
                presence=Presence.OK,
                last_seen_at_ms=now_ms - 12_000,
                platform="linux-x86_64",
                capabilities=(
                    Capability("system.run", True),
                    Capability("camera.snap", False),
                ),
                warnings=("certificate expires in 3 days \x1b[31m[@click=app.quit]",),
            ),
            Device(
                device_id="01J0NODE0000000000000000BB",
                client_kind="node",
                trust=TrustState.PENDING,
                presence=Presence.OFFLINE,
                pending_pairings=1,
            ),
        ),
        pending_pairings=(
            PairingRequest(
                request_id="01J0REQ00000000000000000CC",
                device_id="01J0NODE0000000000000000BB",
                state=PairingState.PENDING_APPROVAL,
                client_kind="node",
                method="pin",
                approval_id="01J0APPROVAL00000000000000",
                requested_at_ms=now_ms - 40_000,
                expires_at_ms=now_ms + 560_000,
            ),
        ),
        trusted_devices=1,
        truncated=3,
    )


def transcript_items() -> tuple[ChatItem, ...]:
    """The fixed session: a question, an answer, and a tool call waiting for approval."""
    transcript = Transcript(SESSION)
    transcript.add_user("please run `df -h`", at=NOW - 30)
    transcript.apply(TokenEvent(RUN, "I will run a shell command: df -h.", True))
    transcript.apply(
        ToolProposalEvent(
            RUN,
            "01JQ7P4NQ2T7K5XG0C9M3E8DDD",
            "palyra.process.run",
            '{"command": "df -h", "cwd": "."}',
            True,
        )
    )
    transcript.apply(approval_request())
    return tuple(transcript.items)


HANDOFF_BASE = "http://127.0.0.1:7142/console/v1/auth/browser-handoff/consume?token="
FIXED_KEY = "sk-fixed-accepted-0123456789"
"""The one OpenAI API key the fixed runtime accepts."""


def preflight() -> Preflight:
    """The fixed machine's checks: palyrad is missing, everything else is fine."""
    return Preflight(
        (
            Check(
                "gateway_binary",
                "Gateway binary",
                CheckStatus.BLOCKED,
                "cannot find 'palyrad': install Palyra or set PALYRA_DESKTOP_PALYRAD_BIN",
                "install Palyra so that 'palyrad' is on PATH or next to palyra-tui",
            ),
            Check("state_root", "Writable state root", CheckStatus.OK, "/srv/palyra is writable"),
            Check(
                "cli_binary",
                "Support CLI",
                CheckStatus.WARNING,
                "cannot find 'palyra'",
                "install Palyra",
            ),
        )
    )


def onboarding_facts(*, completed: bool = True) -> OnboardingFacts:
    """Facts of a machine where every gate holds, with onboarding completed or not yet
    begun (no step acknowledged, palyrad missing)."""
    if completed:
        return OnboardingFacts(
            progress=Onboarding(
                flow_id="01JQ7P4NQ2T7K5XG0C9M3E8FFF",
                welcome_acknowledged_at=NOW - 600,
                state_root_confirmed_at=NOW - 590,
                dashboard_handoff_at=NOW - 60,
                discord_skipped_at=NOW - 70,
                openai_profile_id="openai-01jq7p4nq2t7k5xg0c9m3e8ggg",
                completed_at=NOW - 50,
            ),
            preflight=Preflight(()),
            state_root="/srv/palyra",
            runtime_root="/srv/palyra/tui/runtime",
            gateway_version="0.1.0",
            gateway_down=False,
            operator_auth=Readiness(True, "The console login with the admin token works."),
            openai=OpenAiReadiness(
                True, "openai-01jq7p4nq2t7k5xg0c9m3e8ggg", ("openai-01jq7p4nq2t7k5xg0c9m3e8ggg",)
            ),
        )
    return OnboardingFacts(
        progress=Onboarding(flow_id="01JQ7P4NQ2T7K5XG0C9M3E8FFF"),
        preflight=preflight(),
        state_root="/srv/palyra",
        runtime_root="/srv/palyra/tui/runtime",
        gateway_missing=preflight().checks[0].detail,
    )


class FixedRuntime:
    """A runtime over fixed data that records every command and changes only when told."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock if clock is not None else ManualClock(NOW)
        self._view = RuntimeView(
            snapshot=app_snapshot(),
            inbox=(from_stream(approval_request(), SESSION, NOW - 20),),
            dashboard_url="http://127.0.0.1:7142",
            state_dir="/nonexistent/palyra-tui",
        )
        self._transcripts: dict[str, TranscriptView] = {
            SESSION: TranscriptView(1, transcript_items())
        }
        self._feeds: list[_MessageFeed] = []
        self.calls: list[tuple[str, ...]] = []
        """Service commands, as ``(verb, name, …)``."""
        self.decisions: list[tuple[str, ApprovalAnswer]] = []
        self.sent: list[str] = []
        self.refuse = False
        """Service commands fail with PalyraError while True."""
        self.log_subscriptions = 0
        self.open_failure: PalyraError | None = None
        """Raised by :meth:`open` when set."""
        self.opening: asyncio.Event | None = None
        """When set, :meth:`open` waits for it."""
        self.places: list[Place] = []
        """Every place remembered, in order."""
        self.send_refusal = ""
        """When set, :meth:`send` refuses with it (offline drafts off)."""
        self.handoffs: list[HandoffScope] = []
        """The scopes dashboard handoffs were asked for, in order."""
        self.handoff_failure: ClientError | None = None
        """Raised by :meth:`dashboard_handoff` when set."""
        self.facts = onboarding_facts()
        self._view = replace(self._view, onboarding=onboarding_status(self.facts))
        self.onboarding_calls: list[str] = []
        """Onboarding actions, by value; a state root confirmation as ``state_root:<dir>``,
        an OpenAI connect as ``connect_openai`` (never the key)."""
        self.keys_received = 0
        """API keys that reached the runtime."""
        self.preference_updates: list[PreferencesUpdate] = []
        """Every preferences update asked for, in order."""
        self.catalog = Catalog()
        self.remote_dashboard = ""
        """A remote profile's dashboard address: handoffs are that, without a token."""
        self.switches: list[str] = []
        """The profiles switched to, in order."""
        self.bundles: list[str] = []
        """The paths support bundles were asked for ("" for the default), in order."""
        self.bundle_failure: PalyraError | None = None
        """Raised by :meth:`support_bundle` when set."""
        self.node_calls: list[tuple[NodeAction, bool]] = []
        """Each node host action asked for, with whether the gateway restart was confirmed."""
        self.node_status = NodeStatus()
        self.inventory = Inventory()
        self.node_pause: asyncio.Event | None = None
        """When set, node host actions wait for it (to see one under way)."""
        self.devices_asked = 0
        """How many times the devices were asked for."""
        self.devices_refusal: NodeHostRefused | None = None
        """Raised by :meth:`devices` when set."""

    def set_settings(
        self, preferences: Preferences | None = None, rollout: RolloutFlags | None = None
    ) -> None:
        """The preferences and rollout flags the runtime keeps, told to every subscriber."""
        if preferences is not None:
            self._view = replace(self._view, preferences=preferences)
            self.push(PreferencesChanged(preferences))
        if rollout is not None:
            self._view = replace(self._view, rollout=rollout)
            self.push(RolloutChanged(rollout))

    def set_place(self, place: Place) -> None:
        """The place the runtime remembers from an earlier run."""
        self._view = replace(self._view, place=place)

    # Changing the fixed data -----------------------------------------------------

    def set_inbox(self, *entries: InboxEntry) -> None:
        self._view = replace(self._view, inbox=entries)
        self.push(InboxChanged(entries))

    def add_draft(self, session_id: str, text: str, reason: str) -> OfflineDraft:
        draft = OfflineDraft(f"draft-{len(self._view.chat.drafts)}", session_id, text, reason, NOW)
        self._set_chat(replace(self._view.chat, drafts=(*self._view.chat.drafts, draft)))
        return draft

    def set_transcript(self, session_id: str, items: tuple[ChatItem, ...]) -> None:
        revision = (
            self._transcripts[session_id].revision + 1 if session_id in self._transcripts else 1
        )
        self._transcripts[session_id] = TranscriptView(revision, items)
        self.push(TranscriptChanged(session_id, 0, items, len(items), revision))

    def _set_chat(self, chat: ChatView) -> None:
        self._view = replace(self._view, chat=chat)
        self.push(ChatChanged(chat))

    def set_onboarding(self, facts: OnboardingFacts) -> OnboardingStatus:
        """Onboarding decided from ``facts`` (completion stamped as a runtime would)."""
        status = onboarding_status(facts)
        stamped = stamp_completion(facts.progress, status, NOW)
        if stamped is not facts.progress:
            facts = replace(facts, progress=stamped)
            status = onboarding_status(facts)
        self.facts = facts
        self._view = replace(self._view, onboarding=status)
        self.push(OnboardingChanged(status))
        return status

    def _progress(self, progress: Onboarding) -> OnboardingStatus:
        return self.set_onboarding(replace(self.facts, progress=progress))

    def set_catalog(self, catalog: Catalog, active: str = "") -> None:
        """The profiles the runtime knows, and the active one (default: the built-in)."""
        self.catalog = catalog
        info = ProfileInfo.of(catalog.active(active))
        self._view = replace(self._view, profile=info, profiles=catalog_infos(catalog))
        self.push(ProfileChanged(info, self._view.profiles))

    def push(self, message: RuntimeMessage) -> None:
        """Send ``message`` to every subscriber, as a runtime would."""
        for feed in self._feeds:
            feed.push(message)

    # RuntimeApi ---------------------------------------------------------------

    async def open(self) -> None:
        if self.opening is not None:
            await self.opening.wait()
        if self.open_failure is not None:
            raise self.open_failure

    async def close(self) -> None:
        for feed in self._feeds:
            feed.close()

    def view(self) -> RuntimeView:
        return self._view

    def subscribe(self) -> _MessageFeed:
        feed = _MessageFeed()
        self._feeds.append(feed)
        return feed

    async def transcript(self, session_id: str) -> TranscriptView:
        return self._transcripts.get(session_id, TranscriptView(0))

    def service_names(self) -> tuple[str, ...]:
        return ("gateway", "browserd", "node_host")

    async def tail(
        self, name: str, count: int, stream: LogStream | None = None
    ) -> tuple[LogLine, ...]:
        return tuple(line for line in LINES if line.service == name)[-count:]

    def subscribe_logs(
        self, services: Iterable[str] | None = None, *, backlog: bool = False
    ) -> _LogFeed:
        self.log_subscriptions += 1
        return _LogFeed(LINES)

    def services(self) -> SupervisorSnapshot:
        return self._view.snapshot.supervisor

    async def _command(self, *call: str) -> None:
        self.calls.append(call)
        if self.refuse:
            raise PalyraError("the supervisor is shutting down")

    async def start(self, name: str) -> None:
        await self._command("start", name)

    async def stop(self, name: str) -> None:
        await self._command("stop", name)

    async def restart(self, name: str) -> None:
        await self._command("restart", name)

    async def hold(self, name: str, held: bool) -> None:
        await self._command("hold", name, str(held))

    async def start_all(self) -> None:
        await self._command("start_all")

    async def stop_all(self, reason: str = "stopped by operator") -> None:
        await self._command("stop_all")

    def refresh(self) -> None:
        return None

    async def shutdown(self) -> None:
        await self._command("shutdown")
        self.push(LinkChanged(False, "the runtime host stopped"))

    async def new_session(self) -> SessionSummary:
        return SessionSummary(session_id="01JQ7P4NQ2T7K5XG0C9M3E8NEW", title="chat 12:00")

    async def load_history(self, session_id: str) -> bool:
        return False

    async def send(self, session_id: str, text: str) -> None:
        if self.send_refusal:
            raise MessageNotSent(self.send_refusal)
        self.sent.append(text)

    async def resend(self, draft_id: str) -> None:
        self.calls.append(("resend", draft_id))

    async def discard_draft(self, draft_id: str) -> None:
        drafts = tuple(d for d in self._view.chat.drafts if d.draft_id != draft_id)
        self._set_chat(replace(self._view.chat, drafts=drafts))

    async def abort(self, session_id: str) -> bool:
        self.calls.append(("abort", session_id))
        return False

    async def remember_place(self, place: Place) -> None:
        self.places.append(place)

    def notify(self, title: str, detail: str) -> None:
        """Add an unread notification, as the runtime would."""
        notes = add_notification(self._view.notifications, NotificationKind.RUN, title, detail, NOW)
        self._view = replace(self._view, notifications=notes)
        self.push(NotificationsChanged(notes))

    async def mark_read(self, ids: tuple[str, ...] | None = None) -> None:
        notes = mark_read(self._view.notifications, ids)
        self._view = replace(self._view, notifications=notes)
        self.push(NotificationsChanged(notes))

    async def update_preferences(self, update: PreferencesUpdate) -> Preferences:
        self.preference_updates.append(update)
        preferences = apply_preferences(self._view.preferences, update)
        if preferences != self._view.preferences:
            self._view = replace(self._view, preferences=preferences)
            self.push(PreferencesChanged(preferences))
        return preferences

    async def update_rollout(self, update: RolloutUpdate) -> RolloutFlags:
        rollout = apply_rollout(self._view.rollout, update)
        if rollout != self._view.rollout:
            self._view = replace(self._view, rollout=rollout)
            self.push(RolloutChanged(rollout))
        return rollout

    async def decide(self, approval_id: str, answer: ApprovalAnswer) -> None:
        self.decisions.append((approval_id, answer))

    async def dashboard_handoff(self, scope: HandoffScope) -> Handoff:
        """A new token each time (``fixed-token-1``, …), valid 60 s on the runtime's clock."""
        if self.handoff_failure is not None:
            raise self.handoff_failure
        self.handoffs.append(scope)
        if self.remote_dashboard:
            redirect = scope_redirect(scope)
            return Handoff(self.remote_dashboard + redirect, 0.0, redirect, scope, one_time=False)
        url = f"{HANDOFF_BASE}fixed-token-{len(self.handoffs)}"
        return Handoff(url, self.clock.time() + 60, scope_redirect(scope), scope)

    async def node_host(self, action: NodeAction, restart_confirmed: bool = False) -> NodeOutcome:
        """A reference gateway requires client certificates: enrolment needs the restart
        confirmed; then the node host is enrolled."""
        self.node_calls.append((action, restart_confirmed))
        if self.node_pause is not None:
            await self.node_pause.wait()
        if action is NodeAction.STATUS:
            return NodeOutcome(action, self.node_status, "the node host is not enrolled")
        if action is NodeAction.RESET:
            self.node_status = NodeStatus()
            return NodeOutcome(action, self.node_status, "node host stopped and uninstalled")
        if not restart_confirmed:
            raise NodeHostRefused(restart_warning())
        self.node_status = NodeStatus(True, True, "01J0NODE0000000000000000AA")
        return NodeOutcome(action, self.node_status, "node host enrolled and started", True)

    async def devices(self) -> Inventory:
        self.devices_asked += 1
        if self.devices_refusal is not None:
            raise self.devices_refusal
        return self.inventory

    async def support_bundle(self, path: str = "") -> SupportBundle:
        """Nothing is written: the path a bundle would have, under the fixed state dir."""
        self.bundles.append(path)
        if self.bundle_failure is not None:
            raise self.bundle_failure
        where = path or f"{self._view.state_dir}/support-bundles/support-bundle-fixed.tar.gz"
        return SupportBundle(where, 42_000, ("support-bundle-fixed/versions.txt",))

    async def onboarding_step(self, action: OnboardingAction) -> OnboardingStatus:
        self.onboarding_calls.append(action.value)
        progress = self.facts.progress
        if action is OnboardingAction.ACKNOWLEDGE_WELCOME:
            progress = replace(progress, welcome_acknowledged_at=NOW)
        elif action is OnboardingAction.CHECK:
            return self.set_onboarding(self.facts)
        elif action is OnboardingAction.START_GATEWAY:
            return self.set_onboarding(replace(self.facts, gateway_problem="cannot find 'palyrad'"))
        elif action is OnboardingAction.SKIP_DISCORD:
            progress = replace(progress, discord_skipped_at=NOW)
        elif action is OnboardingAction.SKIP_DASHBOARD:
            progress = replace(progress, dashboard_handoff_skipped_at=NOW)
        elif action is OnboardingAction.DASHBOARD_OPENED:
            progress = replace(progress, dashboard_handoff_at=NOW)
        elif action is OnboardingAction.COMPLETE:
            status = self.set_onboarding(self.facts)
            if status.current is not StepKey.COMPLETION:
                step = status.current_step
                raise OnboardingRefused(f"{step.title} is not done yet: {step.detail}")
            return status
        return self._progress(record_event(progress, action.value, "", NOW))

    async def confirm_state_root(self, runtime_root: str = "") -> OnboardingStatus:
        self.onboarding_calls.append(f"state_root:{runtime_root}")
        if runtime_root and not runtime_root.startswith("/srv/palyra/tui/"):
            message = "the daemons' directory must stay within /srv/palyra/tui"
            self._progress(record_failure(self.facts.progress, "state_root", message, NOW))
            raise OnboardingRefused(message)
        progress = replace(self.facts.progress, state_root_confirmed_at=NOW, last_failure=None)
        return self._progress(progress)

    async def connect_openai(self, api_key: str) -> OnboardingStatus:
        self.onboarding_calls.append("connect_openai")
        self.keys_received += 1
        if api_key != FIXED_KEY:
            message = "The gateway did not take the key: OpenAI credential is invalid."
            self._progress(record_failure(self.facts.progress, "openai_connect", message, NOW))
            raise OnboardingRefused(message)
        profile = "openai-01jq7p4nq2t7k5xg0c9m3e8ggg"
        progress = replace(self.facts.progress, openai_profile_id=profile, last_failure=None)
        return self.set_onboarding(
            replace(
                self.facts, progress=progress, openai=OpenAiReadiness(True, profile, (profile,))
            )
        )

    async def switch_profile(self, name: str, confirmation: str = "") -> str:
        if name == self._view.profile.name:
            return f"already using the profile {name!r}"
        try:
            target = check_switch(self.catalog, self._view.profile.name, name, confirmation)
        except SwitchRefused as refused:
            raise ProfileRefused(str(refused)) from None
        self.switches.append(target.name)
        self.set_catalog(self.catalog, target.name)
        return f"switched to the profile {target.name!r}"


def fixed_app(*, attached: bool = False, onboarding: bool = False) -> PalyraApp:
    """The app over fixed data, with a clock that never moves; ``attached`` as to a host;
    ``onboarding``: onboarding not begun yet, and shown at start."""
    clock = ManualClock(NOW)
    runtime = FixedRuntime(clock)
    if onboarding:
        runtime.set_onboarding(onboarding_facts(completed=False))
    return PalyraApp(
        runtime,
        owns_services=False,
        attached=attached,
        notifications=False,
        clock=clock,
        onboarding_at_start=onboarding,
    )


def fixed_runtime(app: PalyraApp) -> FixedRuntime:
    """The fixed runtime under ``app``."""
    assert isinstance(app.runtime, FixedRuntime)
    return app.runtime


def _implements_the_api(runtime: FixedRuntime) -> RuntimeApi:
    return runtime
