"""Screen 4: the approval inbox, with the full tool input and safe keys.

``y`` allows once, ``n`` denies, ``e`` denies with a reason, ``s`` allows for the
session after a confirmation.  A decision key counts only when:

- the selected prompt has been on screen for :data:`ARMING_DELAY` seconds, so
  keys typed before it appeared never answer it;
- it stands alone: no printable key just before it, and none during the
  moment it waits before it is sent (:meth:`ControlPane.settle`), so a word
  typed on this screen is never a decision;
- for ``y`` and ``s``, the operator has seen the whole input: scrolled the
  detail to its end, or viewed it whole (``v``), so a tail such as
  ``; rm -rf ~`` cannot be allowed unseen.

A device's request to pair is no tool call: the detail names the device (id,
kind, method, fingerprint) instead of a tool and its input, and it is allowed
once or denied; there is no session to allow it for, so ``s`` does nothing
there and the key line says so.  The same rules apply to its keys.
"""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable

from palyra_tui.client.errors import ClientError
from palyra_tui.models.gateway import ApprovalAnswer, RiskLevel
from palyra_tui.models.handoff import HandoffScope
from palyra_tui.state.inbox import InboxEntry, PairingDetails, Route
from palyra_tui.state.runtime_api import DecisionError, DecisionRefused
from palyra_tui.ui.safe import plain, pretty_json, reviewable
from palyra_tui.ui.screens.base import ControlPane, switch_keys
from palyra_tui.ui.screens.confirm import ConfirmScreen, ReasonScreen
from palyra_tui.ui.screens.handoff import offer_dashboard
from palyra_tui.ui.screens.pager import PagerScreen
from palyra_tui.ui.widgets.steady import SteadyStatic

ARMING_DELAY = 0.6
_RISK_STYLES = {
    RiskLevel.CRITICAL: "bold reverse red",
    RiskLevel.HIGH: "bold red",
    RiskLevel.MEDIUM: "yellow",
    RiskLevel.LOW: "green",
    RiskLevel.UNSPECIFIED: "dim",
}
_ALLOWING = frozenset({"once", "session"})


class ApprovalsPane(ControlPane):
    """Review and decide pending approvals."""

    TITLE = "Approvals"
    BINDINGS = [
        *switch_keys(),
        Binding("y", "decide('once')", "Allow once", priority=True),
        Binding("n", "decide('deny')", "Deny", priority=True),
        Binding("e", "decide('reason')", "Deny with reason", priority=True),
        Binding("s", "decide('session')", "Allow for session", priority=True),
        Binding("v", "view_whole", "View whole"),
        Binding("r", "view_raw", "Raw request", show=False),
        Binding("o", "dashboard", "Open in dashboard", show=False, priority=True),
        Binding("pagedown,space", "scroll_detail(1)", "Scroll", show=False, priority=True),
        Binding("pageup", "scroll_detail(-1)", show=False, priority=True),
        Binding("end", "scroll_detail(0)", show=False, priority=True),
    ]

    def compose(self) -> ComposeResult:
        with Horizontal(id="approvals-body"):
            yield DataTable(id="inbox", cursor_type="row", zebra_stripes=True)
            with Vertical(id="approval-side"):
                with VerticalScroll(id="approval-detail"):
                    yield SteadyStatic(id="approval-text")
                yield SteadyStatic(id="approval-more")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._armed_at = 0.0
        self._selected = ""
        self._laid_out = ""
        """The entry whose text the detail's layout (and scroll position) is about."""
        self._read: set[str] = set()
        """Approvals whose whole input the operator has had on screen."""

    def on_mount(self) -> None:
        table = next(iter(self.query("#inbox").results(DataTable)), None)
        detail = next(iter(self.query("#approval-detail").results(VerticalScroll)), None)
        if table is None or detail is None or self.control.exiting:
            return  # the app is closing and takes the pane's widgets one by one
        for key, label in (("risk", "Risk"), ("tool", "Request"), ("wait", "Time left")):
            table.add_column(label, key=key)
        self._arm()
        self.watch(detail, "scroll_y", self._detail_scrolled, init=False)
        self.set_interval(1.0, self._tick)

    def focus_first(self) -> None:
        self.query_one("#inbox", DataTable).focus()

    def on_shown(self) -> None:
        self._arm()

    # Inbox -------------------------------------------------------------------

    def show_inbox(self) -> None:
        table = self.query_one("#inbox", DataTable)
        entries = {entry.approval_id: entry for entry in self.control.inbox}
        for row_key in list(table.rows):
            if row_key.value not in entries:
                table.remove_row(row_key)
        now = self.control.clock.time()
        for approval_id, entry in entries.items():
            cells = _cells(entry, now)
            if approval_id in table.rows:
                for column, cell in zip(("risk", "tool", "wait"), cells, strict=True):
                    if table.get_cell(approval_id, column) != cell:
                        table.update_cell(approval_id, column, cell)
            else:
                table.add_row(*cells, key=approval_id)
        self._read &= set(entries)
        self._show_detail()
        self.refresh_keys()

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail()
        self.refresh_keys()

    def hidden_actions(self) -> frozenset[str]:
        entry = self.selected() if self.is_mounted else None
        if entry is not None and not entry.session_scope:
            return frozenset({"decide('session')"})
        return frozenset()

    def key_notes(self) -> dict[str, str]:
        return {"decide('session')": "a pairing: allow once or deny only"}

    def _tick(self) -> None:
        if not self.shown:
            return
        table = self.query_one("#inbox", DataTable)
        now = self.control.clock.time()
        for entry in self.control.inbox:
            wait = _cells(entry, now)[2]
            if (
                entry.approval_id in table.rows
                and table.get_cell(entry.approval_id, "wait") != wait
            ):
                table.update_cell(entry.approval_id, "wait", wait)
        self._show_detail()

    def selected(self) -> InboxEntry | None:
        """The entry under the cursor."""
        table = self.query_one("#inbox", DataTable)
        if not table.rows:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return next((e for e in self.control.inbox if e.approval_id == row_key.value), None)

    def _show_detail(self) -> None:
        entry = self.selected()
        detail = self.query_one("#approval-text", SteadyStatic)
        if entry is None:
            self._selected = self._laid_out = ""
            detail.update(Text("No approvals waiting.", style="dim"))
            self._show_more()
            return
        if entry.approval_id != self._selected:
            self._selected = entry.approval_id
            self._laid_out = ""
            self._arm()
            box = self.query_one("#approval-detail", VerticalScroll)
            box.scroll_home(animate=False, immediate=True)
            self.call_after_refresh(self._now_laid_out, entry.approval_id)
        detail.update(describe(entry, self.control.clock.time(), self.armed))
        self.call_after_refresh(self._show_more)

    def _now_laid_out(self, approval_id: str) -> None:
        """From now on the detail's scroll position is about ``approval_id``'s text."""
        if approval_id == self._selected:
            self._laid_out = approval_id
            self._show_more()

    # Reading the whole input -------------------------------------------------

    def _detail_scrolled(self) -> None:
        """Scrolling to the end reads the input; a scroll while another entry's text was
        still laid out (the position clamped to the new text) reads nothing."""
        detail = self.query_one("#approval-detail", VerticalScroll)
        shown = self._laid_out
        if shown and shown == self._selected and 0 < detail.max_scroll_y <= detail.scroll_y:
            self._read.add(shown)
        self._show_more()

    def read_whole(self, entry: InboxEntry) -> bool:
        """True once the entry's whole review has been on screen."""
        if entry.approval_id in self._read:
            return True
        detail = self.query_one("#approval-detail", VerticalScroll)
        return entry.approval_id == self._laid_out and detail.max_scroll_y == 0

    def _show_more(self) -> None:
        more = self.query_one("#approval-more", SteadyStatic)
        entry = self.selected()
        if entry is None or self.read_whole(entry):
            more.update("")
            more.display = False
            return
        more.display = True
        allowing = "y and s count" if entry.session_scope else "y counts"
        more.update(
            Text(
                "▼ more below: read to the end (PgDn, Space, End) or view it whole (v); "
                f"{allowing} after that",
                style="bold reverse yellow",
            )
        )

    def action_scroll_detail(self, pages: int) -> None:
        detail = self.query_one("#approval-detail", VerticalScroll)
        if pages == 0:
            detail.scroll_end(animate=False)
        elif pages > 0:
            detail.scroll_page_down(animate=False)
        else:
            detail.scroll_page_up(animate=False)

    def action_view_whole(self) -> None:
        entry = self.selected()
        if entry is None:
            self.app.notify("no approval selected")
            return
        title = (
            f"{entry.what}: complete request"
            if entry.is_pairing
            else (f"{entry.tool_name}: complete input")
        )
        self.app.push_screen(
            PagerScreen(title, review_text(entry)), partial(self._viewed, entry.approval_id)
        )

    def action_view_raw(self) -> None:
        """The request summary exactly as the gateway sent it (it is often JSON)."""
        entry = self.selected()
        if entry is None:
            self.app.notify("no approval selected")
            return
        raw = entry.raw_summary or entry.summary
        self.app.push_screen(
            PagerScreen(f"{entry.what}: request as the gateway sent it", reviewable(raw))
        )

    def _viewed(self, approval_id: str, reached_end: bool | None) -> None:
        if reached_end:
            self._read.add(approval_id)
        self._show_more()

    def action_dashboard(self) -> None:
        """Open the selected approval in the web dashboard (a key that stands alone)."""
        entry = self.selected()
        scope = HandoffScope.approval(entry.approval_id) if entry else HandoffScope.approvals()
        self.settle(lambda: offer_dashboard(self.control, scope))

    # Deciding ------------------------------------------------------------------

    def _arm(self) -> None:
        self._armed_at = self.control.clock.monotonic() + ARMING_DELAY

    @property
    def armed(self) -> bool:
        """True once the selected prompt has been visible long enough to answer."""
        return self.control.clock.monotonic() >= self._armed_at

    def action_decide(self, choice: str) -> None:
        entry = self.selected()
        if entry is None:
            return
        if not self.armed:
            self.app.bell()
            self.app.notify("read the request first: keys count after a short pause")
            return
        if choice == "session" and not entry.session_scope:
            self.app.bell()
            self.app.notify(
                "a device pairing is allowed once or denied: there is no session to allow it for",
                severity="warning",
            )
            return
        if choice in _ALLOWING and not self.read_whole(entry):
            self.app.bell()
            self.app.notify(
                "read the whole input first: scroll the detail to its end (End) "
                "or view it whole (v)",
                severity="warning",
            )
            return
        self.settle(partial(self._decided, entry, choice))

    def _decided(self, entry: InboxEntry, choice: str) -> None:
        if choice == "once":
            self._send(entry, ApprovalAnswer.allow_once())
        elif choice == "deny":
            self._send(entry, ApprovalAnswer.deny("denied by operator"))
        elif choice == "reason":
            self.app.push_screen(
                ReasonScreen(f"Deny {entry.what}: why?"),
                lambda reason: (
                    self._send(entry, ApprovalAnswer.deny(reason or "denied"))
                    if reason is not None
                    else None
                ),
            )
        elif choice == "session":
            self.app.push_screen(
                ConfirmScreen(
                    f"Allow {entry.tool_name} for the rest of this session?\n"
                    "Later calls of this tool in the session will not ask again.",
                    clock=self.control.clock,
                    confirm="Allow for session",
                ),
                lambda ok: self._send(entry, ApprovalAnswer.allow_session()) if ok else None,
            )

    def _send(self, entry: InboxEntry, answer: ApprovalAnswer) -> None:
        async def send() -> None:
            try:
                await self.control.runtime.decide(entry.approval_id, answer)
            except DecisionRefused as error:
                self.app.notify(str(error), severity="error", markup=False)
                return
            except (ClientError, DecisionError) as error:
                self.app.notify(f"decision not sent: {error}", severity="error", markup=False)
                return
            verb = "allowed" if answer.approved else "denied"
            self.app.notify(f"{entry.what} {verb}", markup=False)
            self.control.request_refresh()

        self.run_worker(send(), group="approval-decisions", exit_on_error=False)


def _cells(entry: InboxEntry, now: float) -> tuple[Text, ...]:
    deadline = entry.deadline
    left = f"{max(0, deadline - now):.0f}s" if deadline else "-"
    return (
        plain(entry.risk.value, _RISK_STYLES[entry.risk]),
        _request_cell(entry),
        plain(left, "bold red" if deadline and deadline - now < 15 else ""),
    )


def _request_cell(entry: InboxEntry) -> Text:
    """The tool, or ``pairing`` and the start of the device id (the detail has it whole)."""
    if entry.pairing is None:
        return plain(entry.tool_name, "bold")
    device = entry.pairing.device_id
    short = device if len(device) <= 13 else f"{device[:12]}…"
    return plain(f"pairing {short}", "bold magenta")


def review_text(entry: InboxEntry) -> Text:
    """What is to be approved, whole, with every invisible character shown: the tool
    input, or the device that asks to pair."""
    if entry.pairing is not None:
        return pairing_text(entry.pairing)
    return reviewable(pretty_json(entry.input_json))


def pairing_text(pairing: PairingDetails) -> Text:
    """The device of a pairing request, one field a line."""
    text = Text()
    for label, value in (
        ("device id", pairing.device_id),
        ("client kind", pairing.client_kind),
        ("method", pairing.method),
        ("fingerprint", pairing.identity_fingerprint),
        ("transcript hash", pairing.transcript_hash),
    ):
        text.append(f"{label:<16}", style="dim")
        text.append_text(reviewable(value) if value else Text("(not given)", style="dim"))
        text.append("\n")
    text.rstrip()
    return text


def describe(entry: InboxEntry, now: float, armed: bool) -> Text:
    """The full, untruncated review of one approval."""
    text = Text()
    text.append_text(plain(entry.title, "bold"))
    text.append("\n")
    text.append("risk ", style="dim")
    text.append(entry.risk.value.upper(), style=_RISK_STYLES[entry.risk])
    deadline = entry.deadline
    if deadline:
        text.append(f"   time left {max(0, deadline - now):.0f} s", style="bold")
    if entry.is_pairing:
        text.append("   asked by a device that wants to pair\n", style="dim")
        return _describe_pairing(text, entry, armed)
    route = "asked on palyra-tui's own run" if entry.route is Route.STREAM else "asked elsewhere"
    text.append(f"   {route}\n", style="dim")
    if entry.route is Route.CONSOLE:
        text.append(
            "another client's run: palyrad records this decision, but forwards it only to runs "
            "started from its console; a run owned by another client keeps waiting.\n",
            style="yellow",
        )
    if entry.refusal:
        text.append_text(plain(f"palyrad will refuse any decision: {entry.refusal}", "bold red"))
        text.append("\n")
    text.append_text(plain(f"summary: {entry.summary}"))
    text.append("\n")
    if entry.reason:
        text.append_text(plain(f"why: {entry.reason}", "dim"))
        text.append("\n")
    text.append_text(plain(f"session {entry.session_id} · run {entry.run_id}", "dim"))
    text.append("\n\ninput (complete):\n", style="bold")
    text.append_text(review_text(entry))
    text.append("\n\n")
    if armed:
        text.append(
            "y allow once · n deny · e deny with reason · s allow for session · "
            "v view whole · r raw request",
            style="bold",
        )
    else:
        text.append("read the request — keys are enabled in a moment", style="bold yellow")
    return text


def _describe_pairing(text: Text, entry: InboxEntry, armed: bool) -> Text:
    """The rest of a pairing's review: the device, what approving it does, the keys."""
    text.append("\nDevice pairing", style="bold magenta")
    text.append(" (not a tool call)\n", style="dim")
    text.append_text(review_text(entry))
    text.append("\n\n")
    text.append(
        "Allowing it issues this device a certificate: it can then connect to the gateway's "
        "node RPC and offer its capabilities. Allow only a device you are setting up.\n",
        style="yellow",
    )
    text.append_text(plain(f"summary: {entry.summary}"))
    text.append("\n")
    if entry.reason:
        text.append_text(plain(f"why: {entry.reason}", "dim"))
        text.append("\n")
    text.append_text(plain(f"pairing session {entry.session_id}", "dim"))
    text.append("\n\n")
    if armed:
        text.append(
            "y allow once · n deny · e deny with reason · v view whole · r raw request\n"
            "no allow for session: a pairing is decided once",
            style="bold",
        )
    else:
        text.append("read the request — keys are enabled in a moment", style="bold yellow")
    return text
