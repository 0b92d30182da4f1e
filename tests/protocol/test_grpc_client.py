"""The gRPC client against the reference gateway, over real loopback sockets."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

import grpc
import pytest

from palyra_tui.client.errors import (
    AlreadyExists,
    AuthRejected,
    ClientError,
    DeadlineExceeded,
    GatewayUnreachable,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RunLoopDisabled,
)
from palyra_tui.client.grpc import GatewayClient, RunConversation
from palyra_tui.models.gateway import (
    ApprovalAnswer,
    ApprovalDecision,
    DecisionScope,
    GatewayHealth,
    RiskLevel,
    RunStatus,
)
from palyra_tui.models.ids import is_ulid, new_ulid
from palyra_tui.models.run_events import (
    ApprovalRequestEvent,
    ApprovalResponseEvent,
    RunEvent,
    StatusEvent,
    TokenEvent,
    ToolAttestationEvent,
    ToolDecisionEvent,
    ToolProposalEvent,
    ToolResultEvent,
)
from tests.conftest import eventually
from tests.protocol.conftest import Launch, identity

Clients = Callable[..., Awaitable[GatewayClient]]


async def collect(
    run: RunConversation, answer: ApprovalAnswer | None = None, timeout: float = 20
) -> list[RunEvent]:
    """Every event of a run, answering each approval request with ``answer``."""
    events: list[RunEvent] = []

    async def go() -> None:
        async for event in run:
            events.append(event)
            if isinstance(event, ApprovalRequestEvent) and answer is not None:
                await run.answer(event, answer)

    await asyncio.wait_for(go(), timeout)
    return events


def kinds(events: list[RunEvent]) -> list[str]:
    names = []
    for event in events:
        if isinstance(event, StatusEvent):
            names.append(f"status:{event.status.value}")
        elif isinstance(event, TokenEvent):
            names.append("token:final" if event.is_final else "token")
        else:
            names.append(type(event).__name__)
    return names


async def new_session(client: GatewayClient) -> str:
    return (await client.new_session("test")).session.session_id


async def test_health_needs_no_credentials(sim: Launch, clients: Clients) -> None:
    gateway = sim()
    client = await clients(gateway, token="wrong-token")
    health = await client.get_health()
    assert (health.service, health.status) == ("palyra-tui-sim", "ok")


async def test_golden_alpha_beta_gamma_run(sim: Launch, clients: Clients) -> None:
    gateway = sim()
    client = await clients(gateway)
    session_id = await new_session(client)
    run = client.run(session_id, "alpha beta gamma")
    events = await collect(run)
    assert kinds(events) == ["status:accepted", "status:in_progress", "token:final", "status:done"]
    accepted, progress, token, done = events
    assert isinstance(accepted, StatusEvent)
    assert accepted.message == f"accepted session={session_id} principal=admin:local"
    assert isinstance(progress, StatusEvent) and progress.message == "streaming"
    assert isinstance(token, TokenEvent) and token.text == "alpha beta gamma"
    assert isinstance(done, StatusEvent) and done.message == "completed"
    assert all(event.run_id == run.run_id for event in events)
    assert run.half_closed


async def test_tokens_stream_in_chunks_of_sixteen_words(sim: Launch, clients: Clients) -> None:
    gateway = sim()
    client = await clients(gateway)
    text = "  ".join(f"word{index}" for index in range(40)) + "\n"
    events = await collect(client.run(await new_session(client), text))
    tokens = [event for event in events if isinstance(event, TokenEvent)]
    assert len(tokens) == 3
    assert [len(t.text.split()) for t in tokens] == [16, 16, 8]
    assert [t.is_final for t in tokens] == [False, False, True]
    assert "".join(t.text for t in tokens) == text


async def test_approval_answered_in_stream(sim: Launch, clients: Clients) -> None:
    gateway = sim()
    client = await clients(gateway)
    run = client.run(await new_session(client), "please run `ls -la /tmp`")
    events = await collect(run, ApprovalAnswer.allow_once())
    assert kinds(events) == [
        "status:accepted",
        "status:in_progress",
        "ToolProposalEvent",
        "ApprovalRequestEvent",
        "ApprovalResponseEvent",
        "ToolDecisionEvent",
        "ToolResultEvent",
        "ToolAttestationEvent",
        "token:final",
        "status:done",
    ]
    proposal = next(e for e in events if isinstance(e, ToolProposalEvent))
    request = next(e for e in events if isinstance(e, ApprovalRequestEvent))
    response = next(e for e in events if isinstance(e, ApprovalResponseEvent))
    decision = next(e for e in events if isinstance(e, ToolDecisionEvent))
    result = next(e for e in events if isinstance(e, ToolResultEvent))
    attestation = next(e for e in events if isinstance(e, ToolAttestationEvent))
    assert proposal.tool_name == "palyra.process.run" and proposal.approval_required
    assert '"command": "ls -la /tmp"' in proposal.input_json
    assert request.proposal_id == proposal.proposal_id and is_ulid(request.approval_id)
    assert request.prompt.title == "Approve palyra.process.run"
    assert request.prompt.subject_id == "tool:palyra.process.run"
    assert request.prompt.timeout_seconds == 60
    assert request.prompt.risk is RiskLevel.HIGH
    assert [o.option_id for o in request.prompt.options] == [
        "allow_once",
        "allow_session",
        "deny_once",
    ]
    assert '"input_json":{"command":"ls -la /tmp"' in request.prompt.details_json
    assert request.request_summary.startswith('{"tool_name":"palyra.process.run","skill_id":null')
    assert request.prompt.summary == "Tool `palyra.process.run` requested explicit approval"
    assert response.approved and response.approval_id == request.approval_id
    assert response.scope is DecisionScope.ONCE and response.reason == "approved_by_client"
    assert decision.allowed
    assert result.success and "ls -la /tmp" in result.output_json
    assert (
        attestation.proposal_id == proposal.proposal_id and len(attestation.execution_sha256) == 64
    )
    record = await client.get_approval(request.approval_id)
    assert record.decision is ApprovalDecision.ALLOW and record.scope is DecisionScope.ONCE
    assert not record.pending and record.run_id == run.run_id


async def test_deny_with_a_reason(sim: Launch, clients: Clients) -> None:
    gateway = sim()
    client = await clients(gateway)
    run = client.run(await new_session(client), "write notes.txt hello")
    events = await collect(run, ApprovalAnswer.deny("not on a Friday"))
    decision = next(e for e in events if isinstance(e, ToolDecisionEvent))
    result = next(e for e in events if isinstance(e, ToolResultEvent))
    assert not decision.allowed and decision.reason == "not on a Friday"
    assert not result.success and "not on a Friday" in result.error
    assert isinstance(events[-1], StatusEvent) and events[-1].status is RunStatus.DONE
    request = next(e for e in events if isinstance(e, ApprovalRequestEvent))
    record = await client.get_approval(request.approval_id)
    assert record.decision is ApprovalDecision.DENY and record.decision_reason == "not on a Friday"


@pytest.mark.parametrize(
    "answer", [ApprovalAnswer.allow_session(), ApprovalAnswer.allow_for(60_000)]
)
async def test_session_and_timeboxed_grants_are_cached(
    sim: Launch, clients: Clients, answer: ApprovalAnswer
) -> None:
    gateway = sim()
    client = await clients(gateway)
    session_id = await new_session(client)
    first = await collect(client.run(session_id, "run date"), answer)
    response = next(e for e in first if isinstance(e, ApprovalResponseEvent))
    assert response.scope is answer.scope and response.scope_ttl_ms == answer.ttl_ms
    second = await collect(client.run(session_id, "run date"))
    assert not any(isinstance(e, ApprovalRequestEvent) for e in second)
    cached = next(e for e in second if isinstance(e, ApprovalResponseEvent))
    assert cached.approved
    other = await collect(
        client.run(await new_session(client), "run date"),
        ApprovalAnswer.deny(),
    )
    assert any(isinstance(e, ApprovalRequestEvent) for e in other)


def test_a_timeboxed_answer_needs_a_duration() -> None:
    with pytest.raises(ValueError, match="positive duration"):
        ApprovalAnswer.allow_for(0)


async def test_an_unanswered_approval_times_out_as_a_denial(sim: Launch, clients: Clients) -> None:
    gateway = sim("--approval-timeout-ms", "300")
    client = await clients(gateway)
    events = await collect(client.run(await new_session(client), "run uptime"))
    response = next(e for e in events if isinstance(e, ApprovalResponseEvent))
    assert not response.approved and response.reason == "approval_response_timeout"
    request = next(e for e in events if isinstance(e, ApprovalRequestEvent))
    record = await client.get_approval(request.approval_id)
    assert record.decision is ApprovalDecision.TIMEOUT


async def test_an_approval_is_answered_once(sim: Launch, clients: Clients) -> None:
    gateway = sim()
    client = await clients(gateway)
    run = client.run(await new_session(client), "run id")
    async for event in run:
        if isinstance(event, ApprovalRequestEvent):
            assert run.pending_approvals == (event,)
            await run.answer(event, ApprovalAnswer.allow_once())
            with pytest.raises(InvalidRequest, match="already answered"):
                await run.answer(event, ApprovalAnswer.deny())
        if isinstance(event, ApprovalResponseEvent):
            assert run.pending_approvals == ()


async def test_abort_ends_the_run_with_cancelled(sim: Launch, clients: Clients) -> None:
    gateway = sim("--token-delay-ms", "150")
    client = await clients(gateway)
    text = " ".join(f"w{index}" for index in range(2000))
    run = client.run(await new_session(client), text)
    events: list[RunEvent] = []
    abort_result = None
    async for event in run:
        events.append(event)
        if isinstance(event, TokenEvent) and abort_result is None:
            abort_result = await run.abort("operator pressed abort")
    assert abort_result is not None and abort_result.cancel_requested
    assert abort_result.reason == "operator pressed abort"
    last = events[-1]
    assert isinstance(last, StatusEvent) and last.cancelled
    assert sum(isinstance(e, TokenEvent) for e in events) < 125


async def test_abort_of_an_unknown_run_is_not_found(sim: Launch, clients: Clients) -> None:
    gateway = sim()
    client = await clients(gateway)
    with pytest.raises(NotFound, match="orchestrator run not found"):
        await client.abort_run(new_ulid())


async def test_failed_status_then_rpc_error_is_one_failure(sim: Launch, clients: Clients) -> None:
    gateway = sim()
    client = await clients(gateway)
    events = await collect(
        client.run(await new_session(client), "please simulate provider failure now")
    )
    assert kinds(events) == ["status:accepted", "status:in_progress", "status:failed"]
    failed = events[-1]
    assert isinstance(failed, StatusEvent) and "simulated outage" in failed.message
    assert not failed.cancelled


async def test_a_gateway_killed_mid_stream_is_a_retryable_error(
    sim: Launch, clients: Clients
) -> None:
    gateway = sim("--token-delay-ms", "300")
    client = await clients(gateway)
    run = client.run(await new_session(client), " ".join(["x"] * 200))
    with pytest.raises(ClientError) as caught:
        async for event in run:
            if isinstance(event, TokenEvent):
                gateway.stop(signal.SIGKILL)
    assert caught.value.retryable


class AttemptCounter:
    """A stand-in for a gateway that is still down: accepts each connection and drops it."""

    def __init__(self) -> None:
        self.attempts = 0
        self.server: asyncio.Server | None = None

    async def listen(self, port: int = 0) -> int:
        self.server = await asyncio.start_server(self._drop, "127.0.0.1", port)
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _drop(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.attempts += 1
        writer.close()


async def test_a_restarted_gateway_is_retried_without_the_default_backoff(sim: Launch) -> None:
    """Reconnect attempts stay frequent while the gateway is down, then reach it.

    gRPC's default backoff (1 s, growing 1.6 times per attempt) makes ten
    attempts take over a minute and a half.  A channel with default options
    runs beside ours under the same load, so the comparison needs no clock:
    ours must make ten attempts before the default one makes its fifth.
    """
    first = sim()
    _, port = first.grpc_addr.rsplit(":", 1)
    ours = GatewayClient(first.grpc_addr, identity(), deadline=120)
    ours_down, default_down = AttemptCounter(), AttemptCounter()
    default_port = await default_down.listen()
    default = GatewayClient(
        f"127.0.0.1:{default_port}",
        identity(),
        deadline=120,
        channel=grpc.aio.insecure_channel(f"127.0.0.1:{default_port}"),
    )
    waits: list[asyncio.Task[object]] = []
    try:
        await ours.get_health()
        first.stop(signal.SIGKILL)
        with pytest.raises(GatewayUnreachable):
            await ours.get_health()
        await ours_down.listen(int(port))
        waits = [
            asyncio.create_task(client.get_health(wait_for_ready=True))
            for client in (ours, default)
        ]
        assert await eventually(
            lambda: ours_down.attempts >= 10 or default_down.attempts >= 5, timeout=120
        )
        assert 1 <= default_down.attempts <= 4 <= 10 <= ours_down.attempts, (
            f"{ours_down.attempts} attempts of ours, {default_down.attempts} of the default"
        )
        await ours_down.close()
        second = sim("--grpc-port", port)
        health = await asyncio.wait_for(waits[0], 60)
        assert isinstance(health, GatewayHealth) and health.status == "ok"
        assert second.process.poll() is None
    finally:
        for task in waits:
            task.cancel()
        await ours_down.close()
        await default_down.close()
        await ours.close()
        await default.close()


async def test_wrong_token_and_wrong_principal_are_rejected(sim: Launch, clients: Clients) -> None:
    gateway = sim()
    with pytest.raises(AuthRejected, match="admin token rejected"):
        await (await clients(gateway, token="wrong-token")).list_sessions()
    with pytest.raises(AuthRejected):
        await (await clients(gateway, principal="admin:someone-else")).list_sessions()
    assert await eventually(lambda: "gateway rpc authorization denied" in gateway.messages())


async def test_approvals_need_an_admin_principal(sim: Launch, clients: Clients) -> None:
    gateway = sim(env={"PALYRA_ADMIN_REQUIRE_AUTH": "false", "PALYRA_ADMIN_BOUND_PRINCIPAL": ""})
    client = await clients(gateway, principal="user:local")
    await client.list_sessions()
    with pytest.raises(PermissionDenied, match="admin: or system: principal"):
        await client.list_approvals()


async def test_run_loop_disabled_says_how_to_fix_it(sim: Launch, clients: Clients) -> None:
    gateway = sim(env={"PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED": "false"})
    client = await clients(gateway)
    with pytest.raises(RunLoopDisabled) as caught:
        await collect(client.run(new_ulid(), "hello"))
    assert str(caught.value) == (
        "run loop disabled in palyrad: set PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED=true"
    )


async def test_a_run_refused_at_once_reports_the_gateways_reason_every_time(
    sim: Launch, clients: Clients
) -> None:
    """The refusal races the first write; grpcio would report ``INTERNAL`` for the loser."""
    disabled = await clients(sim(env={"PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED": "false"}))
    wrong_token = await clients(sim(), token="wrong-token")
    for _ in range(40):
        with pytest.raises(RunLoopDisabled):
            await collect(disabled.run(new_ulid(), "hello"))
        with pytest.raises(AuthRejected):
            await collect(wrong_token.run(new_ulid(), "hello"))


async def test_unreachable_gateway_names_the_address() -> None:
    client = GatewayClient("127.0.0.1:9", identity())
    try:
        with pytest.raises(GatewayUnreachable, match=r"gateway unreachable at 127\.0\.0\.1:9"):
            await client.list_sessions()
    finally:
        await client.close()


async def test_a_hung_gateway_hits_the_deadline(sim: Launch) -> None:
    gateway = sim("--hang-after", "0.3")
    assert await eventually(lambda: "simulated hang (fault switch)" in gateway.messages())
    client = GatewayClient(gateway.grpc_addr, identity(), deadline=0.5)
    try:
        with pytest.raises(DeadlineExceeded, match="did not answer in time"):
            await client.list_sessions()
    finally:
        await client.close()


async def test_reused_run_id_is_already_exists(sim: Launch, clients: Clients) -> None:
    gateway = sim()
    client = await clients(gateway)
    session_id = await new_session(client)
    run = client.run(session_id, "one")
    await collect(run)
    with pytest.raises(AlreadyExists):
        await collect(client.run(session_id, "two", run_id=run.run_id))


async def test_sessions_resolve_list_and_cleanup(sim: Launch, clients: Clients) -> None:
    gateway = sim()
    client = await clients(gateway)
    session_id = new_ulid()
    created = await client.resolve_session(session_id=session_id, session_label="ops")
    assert created.created and created.session.session_id == session_id
    assert created.session.session_key == session_id
    again = await client.resolve_session(session_id=session_id)
    assert not again.created
    with pytest.raises(NotFound):
        await client.resolve_session(session_id=new_ulid(), require_existing=True)
    await collect(client.run(session_id, "hello there"))
    page = await client.list_sessions()
    listed = {s.session_id: s for s in page.sessions}
    assert listed[session_id].last_run_state == "done"
    assert listed[session_id].preview == "hello there"
    other = await clients(gateway, principal="admin:local")
    assert (await other.list_sessions()).sessions
    cleaned = await client.cleanup_session(session_id=session_id)
    assert cleaned.cleaned and cleaned.newly_archived and cleaned.previous_session_key == session_id
    assert cleaned.run_count == 1
    assert session_id not in {s.session_id for s in (await client.list_sessions()).sessions}
    archived = await client.list_sessions(include_archived=True)
    assert session_id in {s.session_id for s in archived.sessions}


async def test_pending_approvals_are_listed(sim: Launch, clients: Clients) -> None:
    gateway = sim()
    client = await clients(gateway)
    run = client.run(await new_session(client), "fetch https://example.test/x")
    async for event in run:
        if isinstance(event, ApprovalRequestEvent):
            pending = await client.pending_approvals()
            assert [a.approval_id for a in pending] == [event.approval_id]
            assert pending[0].prompt.risk is RiskLevel.MEDIUM
            await run.answer(event, ApprovalAnswer.allow_once())
    assert await client.pending_approvals() == ()
    page = await client.list_approvals(decision=ApprovalDecision.ALLOW)
    assert len(page.approvals) == 1
