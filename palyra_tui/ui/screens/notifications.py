"""The notifications the runtime kept (the newest 40), newest first, to read and mark read.

They are the runtime's, so every attached view shows the same list and marks
the same ones read; the notices this view showed in its key line are one key
away (``n``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from palyra_tui.ui.safe import plain

if TYPE_CHECKING:
    from palyra_tui.state.persisted import Notification
    from palyra_tui.ui.app import PalyraApp


class NotificationsScreen(ModalScreen[None]):
    """Lists the runtime's notifications; marks one or all read."""

    BINDINGS = [
        Binding("escape,q,f5", "close", "Close"),
        Binding("r,enter", "mark_read", "Mark read"),
        Binding("a", "mark_all_read", "Mark all read"),
        Binding("n", "show_notices", "This view's notices"),
    ]

    @property
    def control(self) -> PalyraApp:
        """The app, typed."""
        return cast("PalyraApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static(plain(" Notifications", "bold reverse"), classes="pager-title")
        yield OptionList(id="notifications")
        yield Static(
            Text(
                " ↑ ↓ choose · r or Enter marks read · a marks all read · "
                "n this view's notices · Esc closes",
                style="dim",
            ),
            classes="pager-keys",
        )

    def on_mount(self) -> None:
        self.watch(self.app, "notifications", self._show)
        self.query_one(OptionList).focus()

    def _show(self, notifications: tuple[Notification, ...]) -> None:
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        chosen = options.get_option_at_index(highlighted).id if highlighted is not None else None
        newest_first = tuple(reversed(notifications))
        options.clear_options()
        if not newest_first:
            options.add_option(Option(Text("no notifications yet", style="dim"), disabled=True))
            return
        options.add_options([Option(_line(n), id=n.notification_id) for n in newest_first])
        ids = [n.notification_id for n in newest_first]
        options.highlighted = ids.index(chosen) if chosen in ids else 0

    def action_mark_read(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return
        chosen = options.get_option_at_index(options.highlighted).id
        if chosen is not None:
            self._mark((chosen,))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a notification (the list takes Enter before the screen's binding)."""
        event.stop()
        if event.option.id is not None:
            self._mark((event.option.id,))

    def action_mark_all_read(self) -> None:
        self._mark(None)

    def _mark(self, ids: tuple[str, ...] | None) -> None:
        self.control.run_worker(
            self.control.runtime.mark_read(ids), group="notifications", exit_on_error=False
        )

    def action_show_notices(self) -> None:
        self.control.action_show_notices()

    def action_close(self) -> None:
        self.dismiss(None)


def _line(notification: Notification) -> Text:
    """``● 12:03  Approvals waiting  2 approvals now need review.`` (never markup)."""
    stamp = time.strftime("%H:%M", time.localtime(notification.created_at))
    text = Text(no_wrap=True, overflow="ellipsis")
    if notification.read:
        text.append("  ○ ", style="dim")
        text.append(f"{stamp}  ", style="dim")
        text.append_text(plain(notification.title, "dim"))
    else:
        text.append("  ● ", style="bold yellow")
        text.append(f"{stamp}  ")
        text.append_text(plain(notification.title, "bold"))
    text.append("  ")
    text.append_text(plain(notification.detail, "dim" if notification.read else ""))
    return text
