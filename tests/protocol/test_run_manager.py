"""The state layer's RunManager against the reference gateway: sending, drafts, abort, decisions."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from palyra_tui.client.grpc import GatewayClient
from palyra_tui.config import RuntimeConfig
from palyra_tui.models.gateway import ApprovalAnswer, ApprovalDecision, SessionSummary
from palyra_tui.state.chat import REFUSED, AnswerItem, StatusItem, ToolItem, UserItem
from palyra_tui.state.gateway_link import GatewayLink
from palyra_tui.state.runs import ABORT_DENIAL, RunManager
from palyra_tui.state.runtime_api import DecisionRefused, MessageNotSent
from tests.conftest import eventually
from tests.protocol.conftest import Launch, SimGateway, identity


@dataclass
class Harness:
    """A RunManager on a real GatewayLink, and what its callbacks reported."""

    manager: RunManager
    gateway: SimGateway
    changes: list[str] = field(default_factory=list)
    inbox_changes: int = 0
    session_changes: int = 0

    @property
    def target(self) -> str:
        return self.gateway.grpc_addr

    async def client(self) -> GatewayClient:
        return await self.manager.link.grpc(self.target)

    async def session(self) -> str:
        return (await self.manager.new_session(self.target)).session_id

    def kinds(self, session_id: str) -> list[str]:
        return [type(item).__name__ for item in self.manager.transcript(session_id).items]

    def statuses(self, session_id: str) -> list[str]:
        items = self.manager.transcript(session_id).items
        return [item.text for item in items if isinstance(item, StatusItem)]


Make = Callable[..., Harness]


@pytest.fixture
async def harness(sim: Launch) -> AsyncIterator[Make]:
    made: list[Harness] = []

    def make(*flags: str, env: dict[str, str] | None = None, **kwargs: float) -> Harness:
        gateway = sim(*flags, env=env)
        holder: list[Harness] = []

        def inbox() -> None:
            holder[0].inbox_changes += 1

        def renamed(_session_id: str, _session: SessionSummary | None) -> None:
            holder[0].session_changes += 1

        manager = RunManager(
            GatewayLink(identity(), RuntimeConfig()),
            on_change=lambda session_id: holder[0].changes.append(session_id),
            on_inbox=inbox,
            on_renamed=renamed,
            **kwargs,  # type: ignore[arg-type]
        )
        holder.append(Harness(manager, gateway))
        made.append(holder[0])
        return holder[0]

    yield make
    for item in made:
        await item.manager.link.close()


async def send(h: Harness, session_id: str, text: str) -> asyncio.Task[None]:
    task = asyncio.create_task(h.manager.send(h.target, session_id, text))
    assert await eventually(lambda: h.manager.session_busy(session_id) or task.done())
    return task


# Abort ---------------------------------------------------------------------------


async def test_abort_while_an_approval_waits_denies_it_and_ends_the_run(harness: Make) -> None:
    h = harness()
    session_id = await h.session()
    task = await send(h, session_id, "run date")
    assert await eventually(lambda: bool(h.manager.stream_entries()))
    entry = h.manager.stream_entries()[0]
    inbox_before = h.inbox_changes
    abort = asyncio.create_task(h.manager.abort(session_id))
    await asyncio.sleep(0)
    assert h.statuses(session_id) == ["abort requested"], "shown before the gateway answers"
    assert h.manager.stream_entries() == () and h.inbox_changes > inbox_before
    assert entry.approval_id in h.manager.decided
    assert await abort
    await asyncio.wait_for(task, 20)
    assert h.statuses(session_id) == ["abort requested", "run aborted"]
    record = await (await h.client()).get_approval(entry.approval_id)
    assert record.decision is ApprovalDecision.DENY and record.decision_reason == ABORT_DENIAL


async def test_abort_before_a_hung_gateway_answered_keeps_the_message(harness: Make) -> None:
    h = harness(first_event_timeout=60.0)
    session_id = await h.session()
    os.kill(h.gateway.process.pid, signal.SIGSTOP)
    try:
        task = await send(h, session_id, "are you there?")
        assert await h.manager.abort(session_id)
        await asyncio.wait_for(task, 20)
    finally:
        os.kill(h.gateway.process.pid, signal.SIGCONT)
    assert h.kinds(session_id) == []
    (draft,) = h.manager.drafts.for_session(session_id)
    assert draft.text == "are you there?"
    assert draft.reason == "you aborted it before the gateway took it"


# Messages that were never sent ---------------------------------------------------


async def test_a_hung_gateway_turns_the_message_into_a_draft(harness: Make) -> None:
    h = harness(first_event_timeout=0.5)
    session_id = await h.session()
    os.kill(h.gateway.process.pid, signal.SIGSTOP)
    try:
        await asyncio.wait_for(h.manager.send(h.target, session_id, "hello?"), 20)
    finally:
        os.kill(h.gateway.process.pid, signal.SIGCONT)
    assert h.kinds(session_id) == [], "a message the gateway never took must not look sent"
    (draft,) = h.manager.drafts.for_session(session_id)
    assert draft.text == "hello?" and "sent nothing back within 0.5 s" in draft.reason
    assert not h.manager.session_busy(session_id)


async def test_a_refused_send_does_not_look_sent(harness: Make) -> None:
    h = harness(env={"PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED": "false"})
    session_id = (await (await h.client()).new_session("x")).session.session_id
    await asyncio.wait_for(h.manager.send(h.target, session_id, "lost?"), 20)
    assert h.kinds(session_id) == [], "a message the gateway refused must not look sent"
    (draft,) = h.manager.drafts.for_session(session_id)
    assert draft.text == "lost?" and "PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED=true" in draft.reason


async def test_the_same_message_refused_twice_is_one_draft(harness: Make) -> None:
    h = harness(env={"PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED": "false"})
    session_id = (await (await h.client()).new_session("x")).session.session_id
    await asyncio.wait_for(h.manager.send(h.target, session_id, "lost?"), 20)
    (first,) = h.manager.drafts.all()
    await asyncio.wait_for(h.manager.send(h.target, session_id, "lost?"), 20)
    (again,) = h.manager.drafts.all()
    assert again.draft_id == first.draft_id and again.text == "lost?"


async def test_with_offline_drafts_off_a_refused_send_is_an_error(harness: Make) -> None:
    h = harness(env={"PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED": "false"})
    h.manager.drafts_enabled = False
    session_id = (await (await h.client()).new_session("x")).session.session_id
    with pytest.raises(MessageNotSent) as raised:
        await asyncio.wait_for(h.manager.send(h.target, session_id, "lost?"), 20)
    assert str(raised.value).startswith("the message was not sent and offline drafts are off: ")
    assert "PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED=true" in str(raised.value)
    assert h.manager.drafts.all() == () and h.kinds(session_id) == []
    with pytest.raises(MessageNotSent, match="the gateway is not running"):
        await h.manager.send("", session_id, "nowhere")
    assert h.manager.drafts.all() == ()


async def test_on_taken_hears_when_the_gateway_took_the_message(harness: Make) -> None:
    h = harness()
    session_id = await h.session()
    taken: list[int] = []
    await asyncio.wait_for(
        h.manager.send(h.target, session_id, "hi", on_taken=lambda: taken.append(1)), 20
    )
    assert taken == [1]


async def test_a_draft_resent_to_a_gateway_that_takes_it_is_removed(harness: Make) -> None:
    h = harness()
    session_id = await h.session()
    h.manager.drafts.add(session_id, "alpha beta", "the gateway was down")
    (draft,) = h.manager.drafts.all()
    await asyncio.wait_for(h.manager.resend(h.target, draft), 20)
    assert h.manager.drafts.all() == ()
    assert h.kinds(session_id) == ["UserItem", "AnswerItem", "StatusItem"]


async def test_a_run_that_falls_silent_fails_but_stays_sent(harness: Make) -> None:
    h = harness("--token-delay-ms", "30000", idle_timeout=0.5)
    session_id = await h.session()
    await asyncio.wait_for(h.manager.send(h.target, session_id, "one two"), 20)
    assert h.kinds(session_id) == ["UserItem", "StatusItem"]
    (status,) = h.manager.transcript(session_id).items[1:]
    assert isinstance(status, StatusItem) and status.failed
    assert "sent nothing for 0.5 s" in status.text
    assert h.manager.drafts.all() == ()


# Decisions palyrad refuses ---------------------------------------------------------


async def test_a_provider_call_id_is_refused_and_said_so(harness: Make) -> None:
    h = harness()
    session_id = await h.session()
    task = await send(h, session_id, "run date, with a provider call id")
    assert await eventually(lambda: bool(h.manager.stream_entries()))
    entry = h.manager.stream_entries()[0]
    assert entry.proposal_id == "call_1" and "'call_1'" in entry.refusal
    with pytest.raises(DecisionRefused, match="refused the decision and denied the call"):
        await h.manager.decide(entry, ApprovalAnswer.allow_once(), "")
    await asyncio.wait_for(task, 20)
    tool = next(i for i in h.manager.transcript(session_id).items if isinstance(i, ToolItem))
    assert tool.decision == REFUSED
    assert tool.reason.startswith("palyrad refused the decision and denied the call")
    assert "'call_1'" in tool.reason and "canonical ULID" in tool.reason
    assert h.statuses(session_id) == ["run completed"]


# Sessions ----------------------------------------------------------------------------


async def test_a_new_session_is_named_by_time_then_by_its_first_message(harness: Make) -> None:
    h = harness()
    summary = await h.manager.new_session(h.target)
    assert summary.display_title.startswith("chat ") and len(summary.display_title) == 10
    created = summary.last_activity_ms
    await asyncio.wait_for(
        h.manager.send(
            h.target, summary.session_id, "please check the disk usage on the build host"
        ),
        20,
    )
    assert await eventually(lambda: h.session_changes == 1)
    client = await h.client()
    (listed,) = (await client.list_sessions()).sessions
    assert listed.display_title == "please check the disk usage on …"
    assert h.manager.session_name(listed) == listed.display_title
    assert listed.last_activity_ms >= created
    await asyncio.wait_for(h.manager.send(h.target, summary.session_id, "and the logs"), 20)
    (again,) = (await client.list_sessions()).sessions
    assert again.display_title == listed.display_title, "only the first message names it"


async def test_history_rebuilds_a_transcript_from_the_gateway(harness: Make) -> None:
    h = harness("--approval-timeout-ms", "5000")
    session_id = await h.session()
    await asyncio.wait_for(h.manager.send(h.target, session_id, "alpha beta gamma"), 20)
    task = await send(h, session_id, "run date")
    assert await eventually(lambda: bool(h.manager.stream_entries()))
    await h.manager.decide(h.manager.stream_entries()[0], ApprovalAnswer.deny("not now"), "")
    await asyncio.wait_for(task, 20)
    live = list(h.manager.transcript(session_id).items)

    assert await h.manager.load_history(h.gateway.http_url, session_id)
    assert h.manager.transcript(session_id).items == live

    other = harness()
    other.manager.link = h.manager.link
    assert await other.manager.load_history(h.gateway.http_url, session_id)
    items = other.manager.transcript(session_id).items
    assert not any(isinstance(item, UserItem) for item in items), "palyrad keeps no message text"
    answers = [item.text for item in items if isinstance(item, AnswerItem)]
    assert answers[0] == "alpha beta gamma"
    tool = next(item for item in items if isinstance(item, ToolItem))
    assert tool.tool_name == "palyra.process.run" and '"command": "date"' in tool.input_json
    assert tool.decision == "denied" and tool.success is False and not tool.approval_pending
    assert [i.text for i in items if isinstance(i, StatusItem)] == ["run completed"] * 2


async def test_a_bug_in_a_run_keeps_the_message_as_a_draft(
    harness: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness()
    session_id = await h.session()
    from palyra_tui.client.grpc import run_stream

    async def broken(_self: object) -> object:
        raise RuntimeError("a bug in the client")

    monkeypatch.setattr(run_stream.RunConversation, "__anext__", broken)
    await h.manager.send(h.target, session_id, "keep me")
    (draft,) = h.manager.drafts.for_session(session_id)
    assert draft.text == "keep me" and "failed unexpectedly" in draft.reason
    assert not any(isinstance(i, UserItem) for i in h.manager.transcript(session_id).items)


async def test_history_never_overwrites_a_transcript_that_changed_meanwhile(
    harness: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness()
    session_id = await h.session()
    http_base = h.gateway.http_url
    http = await h.manager.link.http(http_base)
    fetch = type(http).transcript

    async def slow(self: object, wanted: str) -> object:
        result = await fetch(self, wanted)  # type: ignore[arg-type]
        h.manager.transcript(wanted).add_status("r", "arrived meanwhile")
        return result

    monkeypatch.setattr(type(http), "transcript", slow)
    assert await h.manager.load_history(http_base, session_id) is False
    assert h.statuses(session_id) == ["arrived meanwhile"]
