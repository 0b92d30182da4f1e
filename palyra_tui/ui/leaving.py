"""Leaving the control center: detach, quit, or stop everything, asking first where
something would be lost.

Attached to a runtime host, quitting detaches at once and the services go on;
in-process, the services this program started stop with it.  Composer text
lives only in the view, so a detach that would lose it asks first.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from palyra_tui.errors import PalyraError
from palyra_tui.models import ServiceState
from palyra_tui.ui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from palyra_tui.ui.app import PalyraApp

HOST_STOP_WAIT = 300.0
"""Seconds F10 waits for the runtime host to stop every service and exit."""
DETACHED = (
    "palyra-tui detached: the services keep running in the runtime host. "
    "`palyra-tui` attaches again; `palyra-tui down` stops them."
)
STOPPED = "palyra-tui stopped the runtime host and every service."
HOST_LOST = "the runtime host is gone, and its services with it: `palyra-tui` starts a new one."


class Leaving:
    """How one app ends."""

    def __init__(self, app: PalyraApp) -> None:
        self.app = app

    def quit(self) -> None:
        """Attached to a runtime host, quitting detaches at once and the services go on.
        In-process, the services this program started stop with it, after a question."""
        app = self.app
        if app.attached:
            self._detach()
            return
        running = [
            s.name
            for s in app.runtime.services().services
            if s.state.is_up or s.state is ServiceState.BACKOFF
        ]
        stopping = running if app.owns_services else []
        unsent = self.unsent_messages()
        if not stopping and not unsent:
            app.exiting = True
            app.exit()
            return
        question = f"Stop {', '.join(stopping)} and quit?" if stopping else "Quit?"
        if unsent:
            question += (
                f"\n{unsent} unsent message{'s' if unsent != 1 else ''} (offline drafts and "
                "composer text) will be lost."
            )
        app.push_screen(
            ConfirmScreen(
                question, clock=app.clock, confirm="Stop and quit" if stopping else "Quit"
            ),
            self._quit_confirmed,
        )

    def _detach(self) -> None:
        """Leave at once; composer text lives only in this view, so losing it asks first."""
        app = self.app
        chat = app.main.mounted_pane("chat")
        typed = chat.unsent_texts() if chat is not None else 0
        if typed:
            app.push_screen(
                ConfirmScreen(
                    f"Detach?\n{typed} session{'s' if typed != 1 else ''} with text typed in "
                    "the composer: it is not sent, and it is lost when this view ends.",
                    clock=app.clock,
                    confirm="Detach",
                ),
                self._detach_confirmed,
            )
            return
        self._detach_confirmed(True)

    def _detach_confirmed(self, confirmed: bool | None) -> None:
        app = self.app
        if confirmed:
            app.exiting = True
            app.outcome = HOST_LOST if app.link_lost else DETACHED
            app.exit()

    def stop_runtime(self) -> None:
        """Stop every service and the runtime host, then quit (asks first)."""
        app = self.app
        if not app.attached:
            self.quit()
            return
        app.push_screen(
            ConfirmScreen(
                "Stop every service and the runtime host, then quit?\n"
                "Runs in flight end; pending approvals are left to time out.",
                clock=app.clock,
                confirm="Stop everything",
            ),
            self._quit_confirmed,
        )

    def unsent_messages(self) -> int:
        """Offline drafts plus the sessions with text typed in the composer."""
        app = self.app
        chat = app.main.mounted_pane("chat")
        typed = chat.unsent_texts() if chat is not None else 0
        return len(app.chat.drafts) + typed

    def _quit_confirmed(self, confirmed: bool | None) -> None:
        app = self.app
        if confirmed:
            app.notify("stopping services…")
            app.stop_and_exit()

    async def stop_everything(self) -> None:
        """Stop every service cleanly (and a runtime host with them), then leave."""
        app = self.app
        app.exiting = True
        if app.attached:
            app.host_gone = asyncio.Event()
            try:
                await app.runtime.shutdown()
                async with asyncio.timeout(HOST_STOP_WAIT):
                    await app.host_gone.wait()
            except (PalyraError, TimeoutError) as error:
                app.exiting = False
                app.host_gone = None
                reason = str(error) or f"it did not stop within {HOST_STOP_WAIT:g} s"
                app.notify(f"the runtime host was not stopped: {reason}", severity="error")
                return
            app.outcome = STOPPED
        elif app.owns_services:
            await app.runtime.stop_all("stopped: palyra-tui quit")
        app.exit()
