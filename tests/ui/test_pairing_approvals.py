"""A device's request to pair, on Approvals: its device, once or never, the same safe keys."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.content import Content
from textual.widget import Widget
from textual.widgets import DataTable

from palyra_tui.models.gateway import DecisionScope
from palyra_tui.state.inbox import from_record
from palyra_tui.ui.app import PalyraApp
from palyra_tui.ui.screens.approvals import ApprovalsPane
from palyra_tui.ui.screens.confirm import ConfirmScreen, ReasonScreen
from palyra_tui.ui.screens.pager import PagerScreen
from tests.snapshots.fixed import (
    FINGERPRINT,
    PAIRING_DEVICE,
    FixedRuntime,
    fixed_app,
    fixed_runtime,
    pairing_approval,
)
from tests.ui.conftest import HUMAN_PAUSE, advance, notices, until

SIZE = (80, 24)
APPROVAL_ID = pairing_approval().approval_id


def pairing_app() -> tuple[PalyraApp, FixedRuntime]:
    app = fixed_app()
    runtime = fixed_runtime(app)
    runtime.set_inbox(from_record(pairing_approval()))
    return app, runtime


def shown(widget: Widget) -> str:
    rendered = widget.render()
    assert isinstance(rendered, Content | Text)
    return rendered.plain


async def on_approvals(app: PalyraApp, pilot: Any) -> ApprovalsPane:
    await until(pilot, lambda: bool(app.inbox))
    await pilot.press("f4")
    pane = app.pane
    assert isinstance(pane, ApprovalsPane)
    await until(pilot, lambda: pane.selected() is not None)
    await pilot.pause()
    return pane


async def test_a_pairing_shows_its_device_not_a_tool_and_an_input() -> None:
    app, _runtime = pairing_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await on_approvals(app, pilot)
        detail = shown(pane.query_one("#approval-text"))
        assert f"Approve device pairing for {PAIRING_DEVICE}" in detail
        assert "Device pairing (not a tool call)" in detail
        for label, value in (
            ("device id", PAIRING_DEVICE),
            ("client kind", "node"),
            ("method", "pin"),
            ("fingerprint", FINGERPRINT),
        ):
            assert f"{label:<16}{value}" in detail
        assert "input (complete)" not in detail and "run 01J" not in detail
        assert "another client's run" not in detail
        assert "risk HIGH" in detail and "time left" in detail
        cell = pane.query_one("#inbox", DataTable).get_cell(APPROVAL_ID, "tool")
        assert isinstance(cell, Text) and cell.plain == "pairing 01J0NODE0000…"
        advance(app, HUMAN_PAUSE)
        pane.show_inbox()
        await pilot.pause()
        detail = shown(pane.query_one("#approval-text"))
        assert "no allow for session: a pairing is decided once" in detail


async def test_a_pairing_has_no_session_scope_key() -> None:
    app, runtime = pairing_app()
    async with app.run_test(size=SIZE) as pilot:
        await on_approvals(app, pilot)
        app.notice = None
        await pilot.pause()
        keys = shown(app.main.query_one(".keys"))
        assert "Allow for session" not in keys
        assert "a pairing: allow once or deny only" in keys
        advance(app, HUMAN_PAUSE)
        await pilot.press("s")
        await until(pilot, lambda: "no session to allow it for" in notices(app))
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert runtime.decisions == []


async def test_a_tool_approval_keeps_its_session_key() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        await on_approvals(app, pilot)
        app.notice = None
        await pilot.pause()
        keys = shown(app.main.query_one(".keys"))
        assert " s  Allow for session " in keys and "a pairing" not in keys


async def test_a_pairing_is_allowed_once_through_the_same_safe_keys() -> None:
    app, runtime = pairing_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await on_approvals(app, pilot)
        await pilot.press("y")
        await until(pilot, lambda: "read the request first" in notices(app))
        assert runtime.decisions == [], "keys typed before it was readable never answer it"
        advance(app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(pilot, lambda: "read the whole input first" in notices(app))
        more = shown(pane.query_one("#approval-more"))
        assert "y counts after that" in more and " s " not in more
        await pilot.press("end")
        await until(pilot, lambda: not pane.query_one("#approval-more").display)
        advance(app, HUMAN_PAUSE)
        await pilot.press(*"yes")
        await until(pilot, lambda: "cancelled: more keys followed" in notices(app))
        assert runtime.decisions == [], "a typed word is never a decision"
        advance(app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(pilot, lambda: len(runtime.decisions) == 1)
        approval_id, answer = runtime.decisions[0]
        assert approval_id == APPROVAL_ID
        assert answer.approved and answer.scope is DecisionScope.ONCE
        await until(pilot, lambda: f"device pairing for {PAIRING_DEVICE} allowed" in notices(app))


async def test_a_pairing_is_denied_with_a_reason() -> None:
    app, runtime = pairing_app()
    async with app.run_test(size=SIZE) as pilot:
        await on_approvals(app, pilot)
        advance(app, HUMAN_PAUSE)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ReasonScreen))
        assert f"Deny device pairing for {PAIRING_DEVICE}" in shown(
            app.screen.query_one(".question")
        )
        await pilot.press(*"not mine", "enter")
        await until(pilot, lambda: len(runtime.decisions) == 1)
        _, answer = runtime.decisions[0]
        assert not answer.approved and answer.reason == "not mine"


async def test_viewing_a_pairing_whole_shows_the_device() -> None:
    app, _runtime = pairing_app()
    async with app.run_test(size=SIZE) as pilot:
        await on_approvals(app, pilot)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, PagerScreen))
        body = shown(app.screen.query_one("#pager-body Static"))
        assert PAIRING_DEVICE in body and FINGERPRINT in body
