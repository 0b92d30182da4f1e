"""The dashboard handoff dialog: a local browser, or over SSH the link, its countdown,
an OSC 52 copy and the ``ssh -L`` line (fixed runtime, manual clock)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from rich.style import Style
from rich.text import Text
from textual.command import CommandList
from textual.geometry import Region
from textual.widgets import Static

from palyra_tui.client.errors import ClientError, GatewayUnreachable
from palyra_tui.models.clock import ManualClock
from palyra_tui.models.handoff import Handoff, HandoffScope
from palyra_tui.state.chat_view import RunInfo
from palyra_tui.state.handoff import NOT_HEALTHY
from palyra_tui.state.runtime_api import SnapshotChanged
from palyra_tui.ui.app import PalyraApp
from palyra_tui.ui.browser import Browser
from palyra_tui.ui.screens.handoff import HandoffScreen
from tests.snapshots.fixed import HANDOFF_BASE, NOW, RUN, SESSION, FixedRuntime, app_snapshot
from tests.ui.conftest import HUMAN_PAUSE, advance, gateway_ready, notices, until

SIZE = (100, 40)
SSH_IPV4 = {"SSH_CONNECTION": "198.51.100.7 52114 203.0.113.5 22", "USER": "alice"}
SSH_IPV6 = {"SSH_CONNECTION": "2001:db8::7 52114 2001:db8::5 2222", "USER": "alice"}


class FakeBrowser:
    """A graphical browser that records what it was asked to open."""

    def __init__(self, takes: bool = True) -> None:
        self.opened: list[str] = []
        self.takes = takes

    @property
    def name(self) -> str:
        return "firefox"

    async def open(self, url: str) -> bool:
        self.opened.append(url)
        return self.takes


def no_browser_lookup() -> Browser | None:
    raise AssertionError("over SSH no browser is looked for")


def handoff_app(
    environ: Mapping[str, str], browser: Browser | None = None
) -> tuple[PalyraApp, FixedRuntime]:
    clock = ManualClock(NOW)
    runtime = FixedRuntime(clock)
    app = PalyraApp(runtime, owns_services=False, notifications=False, clock=clock, environ=environ)
    app.browser_finder = (
        (lambda: browser) if "SSH_CONNECTION" not in environ else (no_browser_lookup)
    )
    return app, runtime


def part(app: PalyraApp, name: str) -> Text:
    content = app.screen.query_one(f"#handoff-{name}", Static).content
    return content if isinstance(content, Text) else Text(str(content))


def token(number: int) -> str:
    return f"fixed-token-{number}"


async def open_dialog(app: PalyraApp, pilot: Any) -> HandoffScreen:
    await until(pilot, lambda: app.snapshot is not None)
    await pilot.press("o")
    await until(pilot, lambda: isinstance(app.screen, HandoffScreen))
    screen = app.screen
    assert isinstance(screen, HandoffScreen)
    await until(pilot, lambda: screen.handoff is not None or bool(screen._error))
    return screen


def record_writes(app: PalyraApp, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the app writes to the terminal from now on."""
    written: list[str] = []
    driver = app._driver
    assert driver is not None
    original = driver.write

    def write(data: str) -> None:
        written.append(data)
        original(data)

    monkeypatch.setattr(driver, "write", write)
    return written


async def test_locally_the_dashboard_opens_in_the_browser_with_the_link_as_fallback() -> None:
    browser = FakeBrowser()
    app, runtime = handoff_app({}, browser)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_dialog(app, pilot)
        url = HANDOFF_BASE + token(1)
        await until(pilot, lambda: browser.opened == [url])
        await until(pilot, lambda: "opened in firefox" in part(app, "status").plain)
        link = part(app, "link")
        assert link.plain == url and isinstance(link.style, Style) and link.style.link == url
        assert "ssh" not in part(app, "ssh").plain
        assert runtime.handoffs == [HandoffScope.overview()]
        assert screen.session is None
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HandoffScreen))
    assert token(1) not in notices(app)


async def test_the_link_is_an_osc8_hyperlink_on_the_terminal() -> None:
    app, _ = handoff_app(SSH_IPV4)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(app, pilot)
        link = app.screen.query_one("#handoff-link", Static)
        await until(pilot, lambda: link.size.height > 0)
        strips = link.render_lines(Region(0, 0, link.size.width, link.size.height))
        drawn = "".join(strip.render(app.console) for strip in strips)
        url = HANDOFF_BASE + token(1)
        assert f";{url}\x1b\\" in drawn and "\x1b]8;id=" in drawn


async def test_a_browser_that_does_not_take_the_link_is_reported() -> None:
    browser = FakeBrowser(takes=False)
    app, _ = handoff_app({}, browser)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(app, pilot)
        await until(pilot, lambda: "did not take the link" in part(app, "status").plain)


async def test_without_a_graphical_browser_the_link_is_shown_for_this_machine() -> None:
    app, _ = handoff_app({}, None)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(app, pilot)
        assert "No graphical browser" in part(app, "status").plain
        assert part(app, "link").plain == HANDOFF_BASE + token(1)
        assert part(app, "ssh").plain == ""


@pytest.mark.parametrize(
    ("environ", "line"),
    [
        (SSH_IPV4, "ssh -L 7142:127.0.0.1:7142 alice@203.0.113.5"),
        (SSH_IPV6, "ssh -L 7142:127.0.0.1:7142 -p 2222 alice@2001:db8::5"),
    ],
)
async def test_over_ssh_the_dialog_gives_the_link_and_the_exact_tunnel(
    environ: dict[str, str], line: str
) -> None:
    app, runtime = handoff_app(environ)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_dialog(app, pilot)
        assert screen.browser is None
        url = HANDOFF_BASE + token(1)
        link = part(app, "link")
        assert link.plain == url and isinstance(link.style, Style) and link.style.link == url
        assert part(app, "countdown").plain.startswith("expires in 60 s")
        ssh = part(app, "ssh").plain
        assert f"  {line}\n" in ssh
        assert "laptop's browser" in ssh and "same URL" in ssh
        assert "127.0.0.1" in part(app, "status").plain
        assert "s copy ssh line" in part(app, "keys").plain
        assert runtime.handoffs == [HandoffScope.overview()]


async def test_a_remote_profiles_dashboard_is_its_address_without_token_or_tunnel() -> None:
    """palyrad names 127.0.0.1 in every sign-in link, so a remote profile's dashboard is
    opened as it is: no countdown, no ssh line, and it does not expire."""
    app, runtime = handoff_app(SSH_IPV4)
    runtime.remote_dashboard = "https://gw.example.net:7142"
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_dialog(app, pilot)
        url = "https://gw.example.net:7142/#/control/overview"
        assert part(app, "link").plain == url
        assert part(app, "countdown").plain.startswith("no sign-in token")
        assert part(app, "ssh").plain == ""
        assert "remote profile's dashboard" in part(app, "status").plain
        assert "s copy ssh line" not in part(app, "keys").plain
        advance(app, 600)
        await pilot.pause()
        assert screen._live() is not None
        assert part(app, "link").plain == url


async def test_the_countdown_runs_on_the_app_clock_and_an_expired_link_is_renewed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, runtime = handoff_app(SSH_IPV4)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_dialog(app, pilot)
        advance(app, 44.5)
        await until(pilot, lambda: part(app, "countdown").plain.startswith("expires in 16 s"))
        advance(app, 2)
        await until(pilot, lambda: part(app, "countdown").plain.startswith("expires in 14 s"))
        assert part(app, "countdown").style == "bold yellow"
        advance(app, 14)
        await until(pilot, lambda: "expired" in part(app, "countdown").plain)
        assert screen.handoff is None
        link = part(app, "link")
        assert link.plain == "(link expired)" and token(1) not in link.plain
        written = record_writes(app, monkeypatch)
        await pilot.press("c")
        await until(pilot, lambda: "no link to copy" in notices(app))
        assert not any("\x1b]52;" in data for data in written)
        await pilot.press("r")
        await until(pilot, lambda: screen.handoff is not None)
        assert part(app, "link").plain == HANDOFF_BASE + token(2)
        assert part(app, "countdown").plain.startswith("expires in 60 s")
        assert runtime.handoffs == [HandoffScope.overview(), HandoffScope.overview()]


async def test_c_copies_the_link_and_s_the_ssh_line_with_osc52(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, _ = handoff_app(SSH_IPV6)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(app, pilot)
        written = record_writes(app, monkeypatch)
        url = HANDOFF_BASE + token(1)
        await pilot.press("c")
        encoded = base64.b64encode(url.encode()).decode()
        await until(pilot, lambda: f"\x1b]52;c;{encoded}\a" in written)
        assert app.clipboard == url
        assert f"copied the dashboard link ({len(url)} characters, OSC 52)" in notices(app)
        line = "ssh -L 7142:127.0.0.1:7142 -p 2222 alice@2001:db8::5"
        advance(app, HUMAN_PAUSE)
        await pilot.press("s")
        encoded_line = base64.b64encode(line.encode()).decode()
        await until(pilot, lambda: f"\x1b]52;c;{encoded_line}\a" in written)
    assert token(1) not in notices(app)


async def test_approvals_and_chat_open_their_subject() -> None:
    app, runtime = handoff_app(SSH_IPV4)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("4")
        await until(pilot, lambda: app.showing("approvals"))
        advance(app, HUMAN_PAUSE)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, HandoffScreen))
        await until(pilot, lambda: len(runtime.handoffs) == 1)
        approval_id = app.inbox[0].approval_id
        assert runtime.handoffs == [HandoffScope.approval(approval_id)]
        await pilot.press("escape")
        await pilot.press("3")
        await until(pilot, lambda: app.showing("chat"))
        chat_pane = app.pane
        await until(pilot, lambda: getattr(chat_pane, "session_id", "") == SESSION)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, HandoffScreen))
        await until(pilot, lambda: len(runtime.handoffs) == 2)
        assert runtime.handoffs[1] == HandoffScope.chat(SESSION)
        screen = app.screen
        assert isinstance(screen, HandoffScreen)
        await until(pilot, lambda: screen.handoff is not None)
        await pilot.press("c")
        await until(pilot, lambda: "copied the dashboard link" in notices(app))
        assert app.clipboard == HANDOFF_BASE + token(2)
        await pilot.press("escape")
        runtime._set_chat(replace(app.chat, active=(RunInfo(RUN, SESSION),)))
        await until(pilot, lambda: bool(app.chat.active))
        await pilot.press("ctrl+t")
        await until(pilot, lambda: len(runtime.handoffs) == 3)
        assert runtime.handoffs[2] == HandoffScope.run(SESSION, RUN)


async def test_the_command_palette_entry_opens_the_dialog() -> None:
    """The name typed to find the entry is a search, not text aimed at the screen: the
    entry acts although its key must stand alone."""
    app, runtime = handoff_app(SSH_IPV4)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        await pilot.press("ctrl+p")
        for character in "Dashboard":
            advance(app, 0.15)
            await pilot.press(character)

        def first_is_dashboard() -> bool:
            options = app.screen.query(CommandList)
            if not options or options.first().option_count == 0:
                return False
            first = options.first().get_option_at_index(0).prompt
            return str(getattr(first, "plain", first)).startswith("Dashboard")

        await until(pilot, first_is_dashboard)
        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(app.screen, HandoffScreen))
        await until(pilot, lambda: runtime.handoffs == [HandoffScope.overview()])
    assert "typed text" not in notices(app)


async def test_an_unhealthy_gateway_says_so_instead_of_opening() -> None:
    app, runtime = handoff_app({}, FakeBrowser())
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.snapshot is not None)
        down = replace(app_snapshot(), gateway_health=None)
        runtime.push(SnapshotChanged(down, "http://127.0.0.1:7142"))
        await until(pilot, lambda: app.snapshot is not None and app.snapshot.gateway_health is None)
        await pilot.press("o")
        await until(pilot, lambda: NOT_HEALTHY in notices(app))
        assert not isinstance(app.screen, HandoffScreen) and runtime.handoffs == []


async def test_a_refusal_is_shown_as_text_and_r_tries_again() -> None:
    browser = FakeBrowser()
    app, runtime = handoff_app({}, browser)
    runtime.handoff_failure = ClientError("[@click=app.quit]boom[/] \x1b]52;c;ZXZpbA==\x07 done")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_dialog(app, pilot)
        status = part(app, "status")
        assert "[@click=app.quit]boom[/]" in status.plain and "\x1b" not in status.plain
        assert status.spans == [] or all("click" not in str(span.style) for span in status.spans)
        assert browser.opened == []
        runtime.handoff_failure = GatewayUnreachable(NOT_HEALTHY)
        await pilot.press("r")
        await until(pilot, lambda: NOT_HEALTHY in part(app, "status").plain)
        runtime.handoff_failure = None
        await pilot.press("r")
        await until(pilot, lambda: screen.handoff is not None)
        await until(pilot, lambda: browser.opened == [HANDOFF_BASE + token(1)])


class HostileRuntime(FixedRuntime):
    """A runtime whose handoff URL no browser may be sent to."""

    async def dashboard_handoff(self, scope: HandoffScope) -> Handoff:
        handoff = await super().dashboard_handoff(scope)
        return replace(handoff, url="file:///etc/passwd?token=x")


async def test_a_url_that_is_not_http_is_never_opened_nor_shown() -> None:
    browser = FakeBrowser()
    clock = ManualClock(NOW)
    app = PalyraApp(HostileRuntime(clock), owns_services=False, clock=clock, environ={})
    app.browser_finder = lambda: browser
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(app, pilot)
        assert "only supports http" in part(app, "status").plain
        assert "passwd" not in part(app, "link").plain
        assert browser.opened == []


async def test_in_process_the_token_reaches_no_log_notice_or_file(
    demo_app: PalyraApp, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    demo_app.environ = SSH_IPV4
    async with demo_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: gateway_ready(demo_app) and bool(demo_app.dashboard_url))
        screen = await open_dialog(demo_app, pilot)
        assert screen.handoff is not None, part(demo_app, "status").plain
        url = screen.handoff.url
        secret = parse_qs(urlsplit(url).query)["token"][0]
        port = urlsplit(demo_app.dashboard_url).port
        assert urlsplit(url).port == port
        assert f"ssh -L {port}:127.0.0.1:{port} alice@203.0.113.5" in part(demo_app, "ssh").plain
        written = record_writes(demo_app, monkeypatch)
        await pilot.press("c")
        await until(pilot, lambda: any("\x1b]52;c;" in data for data in written))
        lines = await demo_app.runtime.tail("gateway", 10_000)
        await pilot.press("escape")
    state_root = Path(demo_app.runtime.view().state_dir).parent
    assert secret not in caplog.text
    assert secret not in notices(demo_app)
    assert not [line for line in lines if secret in line.text]
    files = [path for path in state_root.rglob("*") if path.is_file()]
    assert files and not [path for path in files if secret.encode() in path.read_bytes()]
