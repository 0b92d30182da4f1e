"""Keys never act by accident, and typed text is never lost (fixed data, manual clock)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.widgets import OptionList, Static

from palyra_tui.cli.demo import demo_config, demo_environ
from palyra_tui.config import load_config
from palyra_tui.errors import ConfigError
from palyra_tui.models.clock import ManualClock
from palyra_tui.models.gateway import ApprovalAnswer, ApprovalPrompt, RiskLevel
from palyra_tui.models.run_events import ApprovalRequestEvent, TokenEvent
from palyra_tui.state.chat import Transcript
from palyra_tui.state.inbox import from_stream
from palyra_tui.supervisor import Supervisor
from palyra_tui.ui.app import PalyraApp
from palyra_tui.ui.launch import build_app, startup_reason
from palyra_tui.ui.screens.approvals import ApprovalsPane
from palyra_tui.ui.screens.chat import ChatPane, Composer, render_item
from palyra_tui.ui.screens.confirm import ConfirmScreen, ReasonScreen
from palyra_tui.ui.screens.health import HealthPane
from palyra_tui.ui.screens.pager import PagerScreen
from palyra_tui.ui.widgets.process_table import ProcessTable
from palyra_tui.ui.widgets.transcript_view import TranscriptView
from tests.snapshots.fixed import (
    NOW,
    RUN,
    SESSION,
    FixedRuntime,
    fixed_app,
    fixed_runtime,
    transcript_items,
)
from tests.ui.conftest import HUMAN_PAUSE, advance, notices, until

SIZE = (100, 30)


def recording_app() -> tuple[PalyraApp, FixedRuntime]:
    app = fixed_app()
    return app, fixed_runtime(app)


def record_decisions(app: PalyraApp) -> list[tuple[str, ApprovalAnswer]]:
    return fixed_runtime(app).decisions


async def open_chat(app: PalyraApp, pilot: Any) -> ChatPane:
    """Show the Chat pane and wait until it has opened the fixed session."""
    await pilot.press("f3")
    chat = app.pane
    assert isinstance(chat, ChatPane)
    await until(pilot, lambda: chat.session_id == SESSION)
    return chat


async def type_burst(app: PalyraApp, keys: str | list[str]) -> None:
    """Deliver keys the way one terminal read does: all queued before any is handled."""
    for key in keys:
        character = key if len(key) == 1 else ("\r" if key == "enter" else None)
        name = {" ": "space"}.get(key, key)
        app.post_message(events.Key(name, character))


async def test_a_sentence_typed_on_health_neither_switches_nor_holds() -> None:
    app, supervisor = recording_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        app.screen.query_one(ProcessTable).move_cursor(row=0)
        await pilot.press(*"see 1 then check")
        await pilot.press(*"fix x")
        await pilot.pause()
        assert isinstance(app.pane, HealthPane)
        assert supervisor.calls == []
        assert "looks like typed text" in notices(app)
        advance(app, HUMAN_PAUSE)
        await pilot.press("h")
        await until(pilot, lambda: supervisor.calls == [("hold", "gateway", "True")])


async def test_h_toggles_from_what_the_card_shows() -> None:
    app, supervisor = recording_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        app.screen.query_one(ProcessTable).move_cursor(row=0)
        await pilot.press("h")
        await until(pilot, lambda: len(supervisor.calls) == 1)
        detail = str(app.screen.query_one("#detail", Static).render())
        assert "restarts held" in detail, "the card shows the hold at once"
        advance(app, HUMAN_PAUSE)
        await pilot.press("h")
        await until(pilot, lambda: len(supervisor.calls) == 2)
        assert supervisor.calls == [("hold", "gateway", "True"), ("hold", "gateway", "False")]
        app.notice_history.clear()
        advance(app, HUMAN_PAUSE)
        await pilot.press("h", "h")
        await until(pilot, lambda: "cancelled: more keys followed" in notices(app))
        assert "keys ignored" in notices(app)
        assert len(supervisor.calls) == 2, "a double tap is not two decisions"


async def test_a_service_key_acts_on_the_service_selected_when_it_was_pressed() -> None:
    app, supervisor = recording_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        table = app.screen.query_one(ProcessTable)
        table.move_cursor(row=0)
        await pilot.press("s", "down")
        await until(pilot, lambda: supervisor.calls == [("start", "gateway")])
        advance(app, HUMAN_PAUSE)
        await pilot.press("x", "f3")
        await until(pilot, lambda: "the screen changed before it acted" in notices(app))
        assert not isinstance(app.screen, ConfirmScreen)


async def test_hold_reads_the_state_when_it_acts_not_when_the_key_came() -> None:
    from dataclasses import replace

    app, supervisor = recording_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        app.screen.query_one(ProcessTable).move_cursor(row=0)
        await pilot.press("h")
        await until(pilot, lambda: supervisor.calls == [("hold", "gateway", "True")])
        advance(app, HUMAN_PAUSE)
        await pilot.press("h")
        snapshot = app.snapshot
        assert snapshot is not None
        services = tuple(
            replace(s, held=True) if s.name == "gateway" else s
            for s in snapshot.supervisor.services
        )
        app.snapshot = replace(snapshot, supervisor=replace(snapshot.supervisor, services=services))
        await until(pilot, lambda: len(supervisor.calls) == 2)
        assert supervisor.calls[1] == ("hold", "gateway", "False")


async def test_a_hold_that_fails_leaves_the_card_as_it_was() -> None:
    app, supervisor = recording_app()
    supervisor.refuse = True
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        app.screen.query_one(ProcessTable).move_cursor(row=0)
        await pilot.press("h")
        await until(pilot, lambda: "holding gateway failed" in notices(app))
        detail = app.screen.query_one("#detail", Static)
        await until(pilot, lambda: "restarts held" not in str(detail.render()))


async def test_quitting_with_unsent_text_says_it_will_be_lost() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await pilot.press(*"not sent yet")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = str(app.screen.query_one(".question", Static).render())
        assert "1 unsent message" in question
        await pilot.press("escape")


async def test_each_new_approval_is_announced() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "Approval needed" in notices(app))
        second = _script_request("01JQ7P4NQ2T7K5XG0C9M3E8FFB", "01JQ7P4NQ2T7K5XG0C9M3E8EEB", 1)
        runtime = fixed_runtime(app)
        entry = from_stream(second, "01JQ7P4NQ2T7K5XG0C9M3E8ZZZ", NOW)
        runtime.set_inbox(*runtime.view().inbox, entry)
        await until(pilot, lambda: notices(app).count("Approval needed") == 2)


async def test_on_chat_every_printable_key_goes_to_the_composer() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        chat = app.pane
        assert isinstance(chat, ChatPane)
        composer = chat.query_one(Composer)
        await pilot.press("escape")
        assert app.focused is chat.query_one(OptionList)
        await pilot.press(*"see 1 then 4 check x")
        assert isinstance(app.pane, ChatPane)
        assert composer.text == "see 1 then 4 check x"
        assert composer.has_focus
        tabs = str(app.screen.query_one(".tabs", Static).render())
        assert "alt+4 Approvals" in tabs and " 4 Approvals" not in tabs.replace("alt+4", "")
        await pilot.press("alt+4")
        assert isinstance(app.pane, ApprovalsPane)
        await pilot.press("f3")
        assert isinstance(app.pane, ChatPane)


async def test_ctrl_x_and_ctrl_d_never_destroy_composer_text() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(app, pilot)
        composer = chat.query_one(Composer)
        composer.focus()
        await pilot.press(*"keep me")
        composer.select_all()
        await pilot.press("ctrl+x")
        await pilot.press("home", "ctrl+d")
        await pilot.pause()
        assert composer.text == "keep me"
        assert "no run in flight" in notices(app)
        assert "no draft to discard" in notices(app)


async def test_discarding_a_draft_asks_and_quotes_it() -> None:
    app = fixed_app()
    fixed_runtime(app).add_draft(SESSION, "the words I typed", "the gateway is not running")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        await until(pilot, lambda: getattr(app.pane, "session_id", "") == SESSION)
        await pilot.press("ctrl+d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = str(app.screen.query_one(".question", Static).render())
        assert "the words I typed" in question
        await pilot.press("n")
        assert len(app.chat.drafts) == 1


async def test_enter_in_a_burst_sends_exactly_what_came_before_it() -> None:
    app = fixed_app()
    sent = fixed_runtime(app).sent
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(app, pilot)
        composer = chat.query_one(Composer)
        composer.focus()
        await pilot.pause()
        await type_burst(app, [*"first message", "enter", *"after"])
        await until(pilot, lambda: sent == ["first message"] and composer.text == "after")
        await type_burst(app, ["enter"])
        await until(pilot, lambda: sent == ["first message", "after"] and composer.text == "")


async def test_each_session_keeps_its_own_composer_text() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(app, pilot)
        composer = chat.query_one(Composer)
        composer.focus()
        await pilot.press(*"for the first")
        chat._open("01JQ7P4NQ2T7K5XG0C9M3E8ZZZ")
        assert composer.text == ""
        await pilot.press(*"for the second")
        chat._open(SESSION)
        assert composer.text == "for the first"
        chat._open("01JQ7P4NQ2T7K5XG0C9M3E8ZZZ")
        assert composer.text == "for the second"


def test_an_ended_answer_loses_its_streaming_cursor() -> None:
    transcript = Transcript(SESSION)
    transcript.apply(TokenEvent(RUN, "half an answ", False))
    answer = transcript.items[-1]
    assert "▌" in render_item(answer, frozenset({RUN})).plain
    assert "▌" not in render_item(answer, frozenset()).plain


async def test_ctrl_c_says_how_to_quit() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+c")
        await until(pilot, lambda: "Ctrl+Q quits" in notices(app))


# Approvals --------------------------------------------------------------------


def _approval_app(request: ApprovalRequestEvent) -> PalyraApp:
    app = fixed_app()
    fixed_runtime(app).set_inbox(from_stream(request, SESSION, NOW))
    return app


async def test_palyrad_json_summaries_read_as_sentences_with_the_raw_form_on_r() -> None:
    raw = json.dumps(
        {
            "tool_name": "custom.noop",
            "skill_id": None,
            "skill_version": None,
            "input_json": {"text": "hello"},
        }
    )
    request = ApprovalRequestEvent(
        RUN,
        "call_1",
        "01JQ7P4NQ2T7K5XG0C9M3E8GGG",
        "",
        "",
        raw,
        ApprovalPrompt(title="", risk=RiskLevel.HIGH, policy_explanation="needs approval"),
    )
    app = _approval_app(request)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _on_approvals(app, pilot)
        detail = str(screen.query_one("#approval-text", Static).render())
        assert "custom.noop" in detail and '"text": "hello"' in detail
        assert '{"tool_name"' not in detail
        assert "palyrad will refuse any decision" in detail and "call_1" in detail
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, PagerScreen))
        body = str(app.screen.query_one("#pager-body Static", Static).render())
        assert '"skill_id": null' in body


def _long_input_app(lines: int = 600) -> PalyraApp:
    app = fixed_app()
    payload = {"script": "\n".join(f"echo step {n}" for n in range(lines)) + "; rm -rf ~"}
    request = ApprovalRequestEvent(
        RUN,
        "01JQ7P4NQ2T7K5XG0C9M3E8EEE",
        "01JQ7P4NQ2T7K5XG0C9M3E8FFF",
        "palyra.process.run",
        json.dumps(payload),
        "run a long script",
        ApprovalPrompt(title="Approve palyra.process.run", risk=RiskLevel.HIGH),
    )
    fixed_runtime(app).set_inbox(from_stream(request, SESSION, NOW))
    return app


async def _on_approvals(app: PalyraApp, pilot: Any) -> ApprovalsPane:
    await until(pilot, lambda: bool(app.inbox))
    await pilot.press("f4")
    screen = app.pane
    assert isinstance(screen, ApprovalsPane)
    await until(pilot, lambda: screen.selected() is not None)
    await pilot.pause()
    advance(app, HUMAN_PAUSE)
    return screen


async def test_a_long_input_is_allowed_only_after_reading_it_to_the_end() -> None:
    app = _long_input_app()
    decisions = record_decisions(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _on_approvals(app, pilot)
        more = screen.query_one("#approval-more", Static)
        await until(pilot, lambda: more.display and "more below" in str(more.render()))
        await pilot.press("y")
        await until(pilot, lambda: "read the whole input first" in notices(app))
        app.notice_history.clear()
        advance(app, HUMAN_PAUSE)
        await pilot.press("s")
        await until(pilot, lambda: "read the whole input first" in notices(app))
        assert decisions == [] and isinstance(app.pane, ApprovalsPane)
        await pilot.press("end")
        await until(pilot, lambda: not more.display)
        advance(app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(pilot, lambda: len(decisions) == 1)
        assert decisions[0][1].approved


async def test_viewing_a_long_input_whole_counts_as_reading_it() -> None:
    app = _long_input_app()
    decisions = record_decisions(app)
    async with app.run_test(size=SIZE) as pilot:
        await _on_approvals(app, pilot)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, PagerScreen))
        body = str(app.screen.query_one("#pager-body Static", Static).render())
        assert "rm -rf ~" in body
        advance(app, HUMAN_PAUSE)
        await pilot.press("escape")
        advance(app, HUMAN_PAUSE)
        app.notice_history.clear()
        await pilot.press("y")
        await until(pilot, lambda: "read the whole input first" in notices(app))
        assert decisions == [], "closing the pager before its end reads nothing"
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, PagerScreen))
        await pilot.press("end")
        advance(app, HUMAN_PAUSE)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.pane, ApprovalsPane))
        advance(app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(pilot, lambda: len(decisions) == 1)


def _script_request(approval_id: str, proposal_id: str, lines: int) -> ApprovalRequestEvent:
    payload = {"script": "\n".join(f"echo step {n}" for n in range(lines)) + "; rm -rf ~"}
    return ApprovalRequestEvent(
        RUN,
        proposal_id,
        approval_id,
        "palyra.process.run",
        json.dumps(payload),
        "run a long script",
        ApprovalPrompt(title="Approve palyra.process.run", risk=RiskLevel.HIGH),
    )


async def test_reading_one_long_input_does_not_read_the_next() -> None:
    app = fixed_app()
    first = _script_request("01JQ7P4NQ2T7K5XG0C9M3E8FFA", "01JQ7P4NQ2T7K5XG0C9M3E8EEA", 600)
    second = _script_request("01JQ7P4NQ2T7K5XG0C9M3E8FFB", "01JQ7P4NQ2T7K5XG0C9M3E8EEB", 100)
    fixed_runtime(app).set_inbox(
        from_stream(first, SESSION, NOW - 1), from_stream(second, SESSION, NOW)
    )
    decisions = record_decisions(app)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.inbox) == 2)
        screen = await _on_approvals(app, pilot)
        selected = screen.selected()
        assert selected is not None and selected.approval_id == first.approval_id
        await pilot.press("end")
        await until(pilot, lambda: screen.read_whole(selected))
        await pilot.press("down")
        now = screen.selected()
        assert now is not None and now.approval_id == second.approval_id
        more = screen.query_one("#approval-more", Static)
        await until(pilot, lambda: more.display and "more below" in str(more.render()))
        assert not screen.read_whole(now)
        advance(app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(pilot, lambda: "read the whole input first" in notices(app))
        assert decisions == []


async def test_a_message_taken_back_leaves_the_transcript_on_screen() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(app, pilot)
        items = transcript_items()
        view = chat.query_one(TranscriptView)
        await until(pilot, lambda: view.item_count == len(items) > 1)
        fixed_runtime(app).set_transcript(SESSION, items[:1])
        await until(pilot, lambda: view.item_count == 1)


async def test_a_word_typed_on_approvals_is_never_a_decision() -> None:
    app = fixed_app()
    decisions = record_decisions(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _on_approvals(app, pilot)
        await pilot.press(*"yes")
        await until(pilot, lambda: "cancelled: more keys followed" in notices(app))
        app.notice_history.clear()
        advance(app, HUMAN_PAUSE)
        await pilot.press(*"seen")
        await until(pilot, lambda: "cancelled: more keys followed" in notices(app))
        advance(app, HUMAN_PAUSE)
        typed = app.keys.printable
        await pilot.press(*"deny this")
        await until(pilot, lambda: app.keys.printable == typed + len("deny this"))
        assert decisions == [] and app.pane is screen
        assert not isinstance(app.screen, ReasonScreen)
        advance(app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(pilot, lambda: len(decisions) == 1)


async def test_a_key_that_follows_a_decision_cancels_it() -> None:
    app = fixed_app()
    decisions = record_decisions(app)
    async with app.run_test(size=SIZE) as pilot:
        await _on_approvals(app, pilot)
        await pilot.press("n")
        advance(app, HUMAN_PAUSE)
        await pilot.press("k")
        await until(pilot, lambda: "cancelled: more keys followed" in notices(app))
        assert decisions == []


async def test_the_detail_says_how_the_decision_travels() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _on_approvals(app, pilot)
        detail = str(screen.query_one("#approval-text", Static).render())
        assert "asked on palyra-tui's own run" in detail and "via answered" not in detail


# Startup errors -----------------------------------------------------------------


async def test_after_a_startup_error_no_service_action_starts_anything(tmp_path: Path) -> None:
    config = demo_config(tmp_path / "state")
    holder = Supervisor(config, environ=demo_environ()).open()
    app, supervisor = build_app(config, environ=demo_environ(), clock=ManualClock())
    idle_root = supervisor.config.state_root
    try:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.snapshot is not None)
            assert app.screen.query_one(ProcessTable).row_count == 0
            facts = str(app.screen.query_one("#facts", Static).render())
            assert f"(pid {os.getpid()})" in facts and str(tmp_path / "state") in facts
            assert "disabled" not in facts
            keys = str(app.screen.query_one(".keys", Static).render())
            assert "Start" not in keys and "Stop" not in keys
            for key in ("s", "A", "r", "x", "R"):
                app.notice_history.clear()
                advance(app, HUMAN_PAUSE)
                await pilot.press(key)
                await until(pilot, lambda: "no service can be started" in notices(app))
            assert not isinstance(app.screen, ConfirmScreen)
            assert all(not s.state.is_up for s in supervisor.snapshot().services)
            assert all(not s.state.is_up for s in holder.snapshot().services)
    finally:
        await supervisor.aclose()
        await holder.aclose()
    assert idle_root != tmp_path / "state"


async def test_an_invalid_config_is_named_as_such(tmp_path: Path) -> None:
    bad = tmp_path / "tui.toml"
    bad.write_text("bogus = 1\n")
    with pytest.raises(ConfigError) as raised:
        load_config(bad)
    reason = startup_reason(raised.value)
    assert reason.startswith("the config file is invalid: ") and str(bad) in reason


async def test_every_pane_fills_the_body_and_hidden_panes_take_no_room() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        panes = app.screen.query_one("#panes")
        await until(pilot, lambda: len(panes.children) == 4)
        for key in ("f2", "f3", "f4", "f1"):
            await pilot.press(key)
            await pilot.pause()
            shown = app.pane
            assert shown is not None and shown.size.height == panes.size.height
            assert [child for child in panes.children if child.display] == [shown]


# Sessions -----------------------------------------------------------------------


async def test_the_session_list_marks_the_open_one_and_keeps_states_current() -> None:
    from dataclasses import replace

    from palyra_tui.models.gateway import SessionSummary

    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(app, pilot)
        options = chat.query_one(OptionList)

        def labels() -> list[str]:
            return [
                str(getattr(options.get_option_at_index(i).prompt, "plain", ""))
                for i in range(options.option_count)
            ]

        other = SessionSummary(
            "01JQ7P4NQ2T7K5XG0C9M3E8ZZZ",
            title="release notes",
            last_run_state="done",
            updated_at_ms=int((NOW - 300) * 1000),
        )
        snapshot = app.snapshot
        assert snapshot is not None
        app.snapshot = replace(snapshot, sessions=(*snapshot.sessions, other))
        await until(pilot, lambda: len(labels()) == 2)
        assert labels()[0].startswith("▸ ") and not labels()[1].startswith("▸")
        assert "release notes · done · 5 min ago" in labels()[1]
        running = replace(other, last_run_state="in_progress")
        app.snapshot = replace(snapshot, sessions=(*snapshot.sessions, running))
        await until(pilot, lambda: "release notes · in_progress" in labels()[1])


async def test_quitting_while_the_hidden_panes_mount_is_clean() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        main = app.main
        main._panes.pop("approvals", None)
        await pilot.press("ctrl+q")
    await main.mount_panes()
    await main.show_pane("approvals")
    assert "approvals" not in main._panes


async def test_quitting_before_the_chat_pane_has_composed_is_clean() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        main = app.main
        await until(pilot, lambda: main.mounted_pane("chat") is not None)
        main._panes["chat"] = ChatPane(id="chat")
        assert app.leaving.unsent_messages() == 0
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running)
