"""RunStream client rules: when it half-closes, when it gives up, what a failed write says."""

from __future__ import annotations

import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from palyra_tui.client.errors import DeadlineExceeded, RunLoopDisabled
from palyra_tui.client.grpc import GatewayClient
from palyra_tui.models.gateway import ApprovalAnswer
from palyra_tui.models.ids import new_ulid
from palyra_tui.models.run_events import (
    ApprovalRequestEvent,
    ApprovalResponseEvent,
    RunEvent,
    StatusEvent,
    TokenEvent,
)
from tests.protocol.conftest import Launch
from tests.protocol.test_grpc_client import collect, kinds, new_session

Clients = Callable[..., Awaitable[GatewayClient]]


async def test_a_turn_that_ends_at_a_tool_result_completes_without_waiting(
    sim: Launch, clients: Clients
) -> None:
    # The model says nothing after the tool, so the gateway's turn ends at the
    # tool result and it waits for the client's half-close before DONE.
    gateway = sim("--no-tool-followup")
    client = await clients(gateway)
    run = client.run(await new_session(client), "run date")
    events = await collect(run, ApprovalAnswer.allow_once(), timeout=20)
    assert kinds(events)[-3:] == ["ToolResultEvent", "ToolAttestationEvent", "status:done"]
    assert run.half_closed


async def test_the_request_side_closes_at_the_first_final_token(
    sim: Launch, clients: Clients
) -> None:
    # A second turn on the same stream is impossible once the client closed, so
    # the gateway ends the run right after the first answer.
    gateway = sim()
    client = await clients(gateway)
    run = client.run(await new_session(client), "alpha beta gamma")
    events = await collect(run, timeout=20)
    assert kinds(events) == ["status:accepted", "status:in_progress", "token:final", "status:done"]


async def test_a_hung_gateway_gives_no_first_event_and_the_run_gives_up(
    sim: Launch, clients: Clients
) -> None:
    gateway = sim()
    client = await clients(gateway)
    session_id = await new_session(client)
    os.kill(gateway.process.pid, signal.SIGSTOP)
    try:
        run = client.run(session_id, "hello", first_event_timeout=0.5)
        with pytest.raises(DeadlineExceeded, match=r"sent nothing back within 0\.5 s"):
            await collect(run, timeout=20)
        assert run.received == 0
    finally:
        os.kill(gateway.process.pid, signal.SIGCONT)


async def test_a_gateway_that_falls_silent_mid_run_fails_the_run(
    sim: Launch, clients: Clients
) -> None:
    gateway = sim("--token-delay-ms", "30000")
    client = await clients(gateway)
    run = client.run(await new_session(client), "one two three", idle_timeout=0.5)
    events: list[RunEvent] = []
    with pytest.raises(DeadlineExceeded, match=r"sent nothing for 0\.5 s"):
        async for event in run:
            events.append(event)
    assert kinds(events) == ["status:accepted", "status:in_progress"]
    assert run.received == 2


async def test_the_idle_timeout_waits_while_an_approval_is_open(
    sim: Launch, clients: Clients
) -> None:
    # Nobody answers: the gateway's own approval timeout (1 s) ends the wait,
    # not the client's idle timeout (0.2 s).
    gateway = sim("--approval-timeout-ms", "1000")
    client = await clients(gateway)
    run = client.run(await new_session(client), "run uptime", idle_timeout=0.2)
    events = await collect(run, timeout=20)
    response = next(e for e in events if isinstance(e, ApprovalResponseEvent))
    assert not response.approved and response.reason == "approval_response_timeout"
    last = events[-1]
    assert isinstance(last, StatusEvent) and last.message == "completed"
    assert any(isinstance(e, ApprovalRequestEvent) for e in events)
    assert any(isinstance(e, TokenEvent) for e in events)


class _LateCall:
    """A real call whose writes wait until the gateway has ended it.

    That is what a loaded machine does to a call the gateway refuses at once:
    the refusal arrives before the first write.
    """

    def __init__(self, call: Any) -> None:
        self._call = call

    def __getattr__(self, name: str) -> Any:
        return getattr(self._call, name)

    async def write(self, message: Any) -> None:
        await self._call.code()
        await self._call.write(message)


async def test_a_write_after_the_gateway_ended_the_call_reports_its_status(
    sim: Launch, clients: Clients
) -> None:
    gateway = sim(env={"PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED": "false"})
    client = await clients(gateway)
    real = client._run_stream

    def late(**kwargs: Any) -> _LateCall:
        return _LateCall(real(**kwargs))

    client._run_stream = late  # type: ignore[assignment]
    with pytest.raises(RunLoopDisabled):
        await collect(client.run(new_ulid(), "hello"))
