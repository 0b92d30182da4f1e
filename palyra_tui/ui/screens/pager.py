"""A full-screen view of one long text, such as a tool input under review."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from palyra_tui.ui.safe import plain


class PagerScreen(ModalScreen[bool]):
    """Shows ``body`` whole; dismisses with True when the operator reached its end."""

    BINDINGS = [
        Binding("escape,q,v", "close", "Close"),
        Binding("space", "page_down", show=False),
    ]

    def __init__(self, title: str, body: Text) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._reached_end = False

    def compose(self) -> ComposeResult:
        yield Static(plain(f" {self._title}", "bold reverse"), classes="pager-title")
        with VerticalScroll(id="pager-body"):
            yield Static(self._body)
        yield Static(
            Text(" ↑ ↓ PgUp PgDn Space Home End scroll · Esc, q or v closes", style="dim"),
            classes="pager-keys",
        )

    def on_mount(self) -> None:
        body = self.query_one("#pager-body", VerticalScroll)
        body.focus()
        self.watch(body, "scroll_y", self._scrolled, init=False)

    def _scrolled(self) -> None:
        """Remember that the end was on screen (checked when the layout is current)."""
        body = self.query_one("#pager-body", VerticalScroll)
        if body.scroll_y >= body.max_scroll_y:
            self._reached_end = True

    def action_page_down(self) -> None:
        self.query_one("#pager-body", VerticalScroll).scroll_page_down(animate=False)

    def action_close(self) -> None:
        self._scrolled()
        self.dismiss(self._reached_end)
