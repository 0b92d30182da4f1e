"""The bottom status line: connection, approvals, runs, drafts and the latest error."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from palyra_tui.state.snapshot import ConnectionState, OverallStatus
from palyra_tui.ui.safe import plain
from palyra_tui.ui.widgets.steady import OneLine

_CONNECTION_STYLES = {
    ConnectionState.CONNECTED: "bold green",
    ConnectionState.RECONNECTING: "bold yellow",
    ConnectionState.OFFLINE: "bold red",
}
_OVERALL_STYLES = {
    OverallStatus.HEALTHY: "green",
    OverallStatus.DEGRADED: "yellow",
    OverallStatus.DOWN: "red",
}


@dataclass(frozen=True, slots=True)
class StatusFacts:
    """What the status bar says."""

    connection: ConnectionState
    overall: OverallStatus
    approvals: int
    active_runs: int
    drafts: int
    error: str = ""
    clients: int = 0
    """Clients attached to the runtime host (0: the runtime runs in this process)."""
    unread: int = 0
    """Notifications not read yet (F5 lists them)."""

    def title(self) -> str:
        """The same facts for the terminal title."""
        parts = [f"Palyra · {self.connection.value}"]
        if self.approvals:
            parts.append(f"{self.approvals} approval{'s' if self.approvals != 1 else ''}")
        if self.active_runs:
            parts.append(f"{self.active_runs} run{'s' if self.active_runs != 1 else ''}")
        if self.drafts:
            parts.append(f"{self.drafts} draft{'s' if self.drafts != 1 else ''}")
        return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class Notice:
    """A short-lived message for the operator (already sanitized)."""

    text: str
    severity: str = "information"


_NOTICE_STYLES = {"information": "bold", "warning": "bold yellow", "error": "bold red"}


def notice_text(notice: Notice) -> Text:
    """A notice on one line, in place of the key hints."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(" ● ", style=f"reverse {_NOTICE_STYLES.get(notice.severity, 'bold')}")
    text.append(" ")
    text.append(notice.text, style=_NOTICE_STYLES.get(notice.severity, ""))
    return text


class StatusBar(OneLine):
    """Renders :class:`StatusFacts` (plain text, never markup)."""

    def show(self, facts: StatusFacts) -> None:
        """Replace what the bar says."""
        self.update(status_text(facts))


def status_text(facts: StatusFacts) -> Text:
    """The bar's one line; the error comes from outside and is drawn inert."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f" {facts.connection.value} ", style=_CONNECTION_STYLES[facts.connection])
    text.append(" │ ")
    text.append(facts.overall.value, style=_OVERALL_STYLES[facts.overall])
    text.append(" │ ")
    text.append(
        f"approvals {facts.approvals}", style="bold reverse yellow" if facts.approvals else ""
    )
    text.append(f" │ runs {facts.active_runs} │ drafts {facts.drafts}")
    if facts.clients:
        text.append(f" │ host · {facts.clients} client{'s' if facts.clients != 1 else ''}")
    if facts.unread:
        text.append(" │ ")
        text.append(f"{facts.unread} unread", style="bold")
    if facts.error:
        text.append(" │ ")
        text.append_text(plain(facts.error, "red"))
    return text
