"""The dashboard handoff dialog: a one-time link that opens palyrad's web console, signed in.

On the gateway's own machine the link opens in the local graphical browser.
Over SSH it only works through a tunnel: the dialog shows the link (an OSC 8
hyperlink), copies it with OSC 52, counts down its 60 seconds, and gives the
exact ``ssh -L`` line that makes the same URL reach the gateway from the
operator's laptop.  The link lives in this dialog only: never in a notice, a
log or a file, and it is not shown once it has expired.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from palyra_tui.errors import PalyraError
from palyra_tui.models.handoff import Handoff, HandoffScope, check_openable
from palyra_tui.state.handoff import NOT_HEALTHY
from palyra_tui.state.ssh_tunnel import SshSession, ssh_session, tunnel_command
from palyra_tui.text import sanitize_line
from palyra_tui.ui.safe import plain
from palyra_tui.ui.widgets.steady import SteadyStatic

if TYPE_CHECKING:
    from collections.abc import Callable

    from palyra_tui.ui.app import PalyraApp
    from palyra_tui.ui.browser import Browser

TICK = 0.25
"""Seconds between two looks at the countdown (it is redrawn only when it changes)."""
HURRY = 15
"""Seconds left from which the countdown is shown in warning colours."""


def offer_dashboard(app: PalyraApp, scope: HandoffScope) -> None:
    """Open the handoff dialog for ``scope``, or say why the dashboard cannot open now."""
    snapshot = app.snapshot
    if snapshot is None or snapshot.gateway_health is None:
        app.notify(NOT_HEALTHY, severity="warning", markup=False)
        return
    app.push_screen(HandoffScreen(scope))


def _detect(
    environ: Mapping[str, str], finder: Callable[[], Browser | None] | None
) -> tuple[SshSession | None, Browser | None]:
    """Where the operator is (blocking: may read the password database or run
    ``xdg-settings``): in an SSH session, or at this machine with a browser or not."""
    session = ssh_session(environ)
    if session is not None:
        return session, None
    if finder is None:
        from palyra_tui.ui.browser import local_browser

        finder = local_browser
    return None, finder()


class HandoffScreen(ModalScreen[None]):
    """Asks the runtime for a handoff link and helps the operator open it."""

    DEFAULT_CSS = """
    HandoffScreen {
        align: center middle;
    }
    HandoffScreen .dialog {
        width: 84;
        max-width: 96%;
        height: auto;
        padding: 1 2;
        border: thick $accent;
        background: $surface;
    }
    HandoffScreen #handoff-link {
        margin-top: 1;
    }
    HandoffScreen #handoff-ssh {
        margin-top: 1;
    }
    HandoffScreen .hint {
        color: $text-muted;
        margin-top: 1;
    }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("c", "copy_link", "Copy link"),
        Binding("s", "copy_ssh", "Copy ssh line"),
        Binding("r", "renew", "New link"),
        Binding("o", "open_browser", "Open in browser"),
    ]

    def __init__(self, scope: HandoffScope) -> None:
        super().__init__()
        self.scope = scope
        self.handoff: Handoff | None = None
        """The link on show (None while asking, after a failure, or once expired)."""
        self.session: SshSession | None = None
        self.browser: Browser | None = None
        self._detected = False
        self._asking = False
        self._error = ""
        self._browser_note = ""
        self._seconds: int | None = None

    @property
    def control(self) -> PalyraApp:
        """The app, typed."""
        return cast("PalyraApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(plain(f"Dashboard · {self.scope.describe()}", "bold"), id="handoff-title")
            yield SteadyStatic(id="handoff-status")
            yield Static(id="handoff-link")
            yield SteadyStatic(id="handoff-countdown")
            yield SteadyStatic(id="handoff-ssh")
            yield SteadyStatic(classes="hint", id="handoff-keys")

    def on_mount(self) -> None:
        self.set_interval(TICK, self._tick)
        self.action_renew()

    # Asking ------------------------------------------------------------------

    def action_renew(self) -> None:
        """Ask for a new link (the old one, if any, is forgotten at once)."""
        self.handoff = None
        self._asking = True
        self._error = ""
        self._browser_note = ""
        self._show()
        self.run_worker(self._ask(), group="handoff", exclusive=True, exit_on_error=False)

    async def _ask(self) -> None:
        if not self._detected:
            environ, finder = self.control.environ, self.control.browser_finder
            self.session, self.browser = await asyncio.to_thread(_detect, environ, finder)
            self._detected = True
        try:
            handoff = await self.control.runtime.dashboard_handoff(self.scope)
            check_openable(handoff.url)
        except (PalyraError, ValueError) as error:
            self._asking = False
            self._error = sanitize_line(str(error)) or type(error).__name__
            self._show()
            return
        self._asking = False
        self.handoff = handoff
        self._show()
        if self.session is None and self.browser is not None:
            await self._open(handoff)

    async def _open(self, handoff: Handoff) -> None:
        browser = self.browser
        if browser is None:
            return
        self._browser_note = f"opening it in {browser.name}…"
        self._show()
        opened = await browser.open(check_openable(handoff.url))
        if handoff is not self.handoff:
            return
        self._browser_note = (
            f"opened in {browser.name}: the dashboard is signed in there"
            if opened
            else f"{browser.name} did not take the link: open it yourself (c copies it)"
        )
        self._show()

    # Keys ------------------------------------------------------------------------

    def action_close(self) -> None:
        self.handoff = None
        self.dismiss(None)

    def action_copy_link(self) -> None:
        handoff = self._live()
        if handoff is None:
            self.app.notify("no link to copy: r asks for a new one", severity="warning")
            return
        self.app.copy_to_clipboard(handoff.url)
        copied = f"copied the dashboard link ({len(handoff.url)} characters, OSC 52)"
        if not handoff.one_time:
            self.app.notify(copied)
            return
        left = math.ceil(handoff.remaining(self.control.clock.time()))
        self.app.notify(f"{copied}: it works once, for {left} s more")

    def action_copy_ssh(self) -> None:
        line = self._tunnel_line()
        if not line:
            why = (
                "the remote dashboard needs no tunnel: open its address where it is reachable"
                if self._remote
                else "not in an SSH session: the link opens in a browser on this machine"
            )
            self.app.notify(why)
            return
        self.app.copy_to_clipboard(line)
        self.app.notify("copied the ssh line (OSC 52): run it on your laptop")

    def action_open_browser(self) -> None:
        handoff = self._live()
        if self.session is not None or self.browser is None:
            self.app.notify("no browser here to open it in: copy the link with c")
            return
        if handoff is None:
            self.app.notify("no link to open: r asks for a new one", severity="warning")
            return
        self.run_worker(self._open(handoff), group="handoff-open", exit_on_error=False)

    # Showing -----------------------------------------------------------------

    def _live(self) -> Handoff | None:
        """The link on show while it has time left; an expired one is forgotten."""
        handoff = self.handoff
        if handoff is not None and handoff.remaining(self.control.clock.time()) <= 0:
            self.handoff = None
            self._browser_note = ""
            self._show()
            return None
        return handoff

    def _tick(self) -> None:
        handoff = self._live()
        if handoff is None:
            return
        seconds = math.ceil(handoff.remaining(self.control.clock.time()))
        if seconds != self._seconds:
            self._show()

    def _tunnel_line(self) -> str:
        """The ``ssh -L`` line for the gateway's port ("" outside SSH, before a link, or for
        a remote profile's dashboard, which is not on this machine's loopback)."""
        if self.session is None or self._port is None or self._remote:
            return ""
        return tunnel_command(self.session, self._port)

    @property
    def _remote(self) -> bool:
        """The link on show is a remote profile's dashboard, without a token."""
        return self.handoff is not None and not self.handoff.one_time

    @property
    def _port(self) -> int | None:
        """The gateway's port, from the link on show or the runtime's console address."""
        for url in (self.handoff.url if self.handoff else "", self.control.dashboard_url):
            try:
                port = urlsplit(url).port
            except ValueError:
                continue
            if port:
                return port
        return None

    def _show(self) -> None:
        """Redraw every part from the dialog's state."""
        if not self.is_mounted:
            return
        now = self.control.clock.time()
        handoff = self.handoff
        self.query_one("#handoff-status", SteadyStatic).update(self._status())
        link = self.query_one("#handoff-link", Static)
        countdown = self.query_one("#handoff-countdown", SteadyStatic)
        if handoff is not None:
            url = check_openable(handoff.url)
            link.update(Text(url, style=Style(link=url, underline=True), overflow="fold"))
            self._seconds = math.ceil(handoff.remaining(now))
            style = "bold yellow" if self._seconds <= HURRY else "bold"
            countdown.update(
                Text(f"expires in {self._seconds} s · works once", style=style, no_wrap=True)
                if handoff.one_time
                else Text("no sign-in token: the dashboard asks you to sign in", style="dim")
            )
        else:
            self._seconds = None
            expired = not self._asking and not self._error
            link.update(Text("(link expired)", style="dim strike") if expired else "")
            countdown.update(
                Text("expired: r asks for a new link", style="bold red") if expired else ""
            )
        self.query_one("#handoff-ssh", SteadyStatic).update(self._ssh_help())
        self.query_one("#handoff-keys", SteadyStatic).update(self._keys())

    def _status(self) -> Text:
        if self._asking:
            return Text("asking the gateway for a one-time sign-in link…", style="dim")
        if self._error:
            text = plain(self._error, "bold red")
            text.append("\nr tries again", style="dim")
            return text
        if self._remote:
            where = "" if self.session is None or self.browser is None else " on your laptop"
            return Text(
                "The remote profile's dashboard is not on this machine, so no sign-in link "
                f"can be made for it: open its address in a browser{where} that reaches it."
            )
        if self.session is not None:
            return Text(
                "This link signs a browser in to the dashboard. It works only in a browser on "
                "the gateway's machine (127.0.0.1): from your laptop, through the tunnel below."
            )
        if self.browser is None:
            return Text(
                "No graphical browser found on this machine: open this link in a browser here."
            )
        note = self._browser_note or f"opening it in {self.browser.name}…"
        text = plain(note, "bold")
        text.append("\nIf no browser window appeared, open this link on this machine:")
        return text

    def _ssh_help(self) -> Text:
        line = self._tunnel_line()
        if not line or self.session is None:
            return Text("")
        port = self._port
        text = Text("On your laptop, run:\n", style="bold")
        text.append_text(plain(f"  {line}", "bold cyan"))
        text.append(
            "\nthen open the link in the laptop's browser: the tunnel takes the same URL to "
            "this gateway.",
        )
        text.append(
            f"\n(Or add -L {port}:127.0.0.1:{port} to the ssh command you reach this server with.)",
            style="dim",
        )
        return text

    def _keys(self) -> Text:
        keys = ["c copy link (OSC 52)"]
        if self.session is not None and not self._remote:
            keys.append("s copy ssh line")
        elif self.browser is not None:
            keys.append("o open in browser")
        keys += ["r new link", "Esc close"]
        return Text(" · ".join(keys), no_wrap=True, overflow="ellipsis")
