"""The gateway's devices and open pairings, as the Health screen shows them (key ``d``).

Every name and warning comes from the gateway, so each goes through the
sanitizer and is never read as markup.  A device's state is said in words
(``trusted``, ``offline``) next to its glyph, so colour is never the only sign.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll

from palyra_tui.errors import PalyraError
from palyra_tui.models.device_states import Presence, TrustState
from palyra_tui.ui.safe import plain
from palyra_tui.ui.widgets.steady import SteadyStatic

if TYPE_CHECKING:
    from palyra_tui.models.devices import Device, Inventory, PairingRequest
    from palyra_tui.ui.app import PalyraApp

ASK_EVERY = 5.0
"""Seconds between two questions about the devices while they are in sight."""

_PRESENCE_STYLES = {
    Presence.OK: "green",
    Presence.STALE: "yellow",
    Presence.DEGRADED: "yellow",
    Presence.OFFLINE: "red",
}
_TRUST_STYLES = {
    TrustState.TRUSTED: "green",
    TrustState.PENDING: "yellow",
    TrustState.REVOKED: "bold red",
    TrustState.REMOVED: "red",
    TrustState.LEGACY: "yellow",
    TrustState.UNKNOWN: "dim",
}


class DevicesPanel(VerticalScroll):
    """The last answer about the gateway's devices, or why there is none.

    It asks the runtime when it is opened and then every :data:`ASK_EVERY`
    seconds of the app's clock, but only while its screen has it in sight
    (:meth:`tick`): never while hidden.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.inventory: Inventory | None = None
        """The gateway's last answer (kept while a later question is refused)."""
        self.refusal = ""
        """Why the gateway could not be asked the last time ("" when it answered)."""
        self.answered_at = 0.0
        """When the last answer came (wall clock)."""
        self._asked_at = float("-inf")
        self._asking = False

    @property
    def control(self) -> PalyraApp:
        """The app, typed."""
        return cast("PalyraApp", self.app)

    def compose(self) -> ComposeResult:
        yield SteadyStatic(id="devices-text")

    def open(self) -> None:
        """Put the panel on show and ask the gateway at once."""
        self.display = True
        self.redraw()
        self.ask()

    def tick(self) -> None:
        """The panel is in sight: redraw (last seen is relative) and ask again when due."""
        self.redraw()
        if self.control.clock.monotonic() - self._asked_at >= ASK_EVERY:
            self.ask()

    def ask(self) -> None:
        """Ask the runtime for the devices, unless a question is on its way."""
        if self._asking:
            return
        self._asking = True
        self._asked_at = self.control.clock.monotonic()

        async def ask() -> None:
            try:
                inventory = await self.control.runtime.devices()
            except PalyraError as error:
                self.refusal = str(error)
            else:
                self.inventory = inventory
                self.refusal = ""
                self.answered_at = self.control.clock.time()
            finally:
                self._asking = False
            self.redraw()

        self.run_worker(ask(), group="devices", exit_on_error=False)

    @property
    def asking(self) -> bool:
        """A question is on its way."""
        return self._asking

    def redraw(self) -> None:
        """Draw the last answer as of now."""
        self.query_one("#devices-text", SteadyStatic).update(
            describe_inventory(
                self.inventory, self.refusal, self.control.clock.time(), self.answered_at
            )
        )


def describe_inventory(
    inventory: Inventory | None, refusal: str, now: float, answered_at: float = 0.0
) -> Text:
    """The devices and pending pairings, one device to a few lines, newest facts first."""
    text = Text()
    text.append("Devices", style="bold")
    text.append("  d hides · PgUp PgDn scroll · refreshed every few seconds\n", style="dim")
    if refusal:
        text.append_text(plain(f"✖ the gateway cannot be asked: {refusal}", "bold red"))
        text.append("\n")
    if inventory is None:
        if not refusal:
            text.append("asking the gateway for its devices…", style="dim")
        return text
    if refusal:
        clock = time.strftime("%H:%M:%S", time.localtime(answered_at))
        text.append(f"as the gateway last answered, at {clock}:\n", style="dim")
    text.append_text(_summary(inventory))
    text.append("\n")
    now_ms = now * 1000
    for device in inventory.devices:
        text.append_text(describe_device(device, now_ms))
    if inventory.truncated:
        text.append(
            f"… {inventory.truncated} more device{'s' if inventory.truncated != 1 else ''} "
            "not listed\n",
            style="bold",
        )
    if not inventory.devices and not inventory.truncated:
        text.append(
            "the gateway knows no devices: press e on the node host row to enrol this "
            "machine's node host\n",
            style="dim",
        )
    if inventory.pending_pairings:
        text.append("\nPending pairings", style="bold")
        text.append(" (decide them in Approvals, 4 or F4)\n", style="dim")
        for request in inventory.pending_pairings:
            text.append_text(_describe_pairing(request, now_ms))
    return text


def _summary(inventory: Inventory) -> Text:
    listed = len(inventory.devices) + inventory.truncated
    text = Text(f"{listed} device{'s' if listed != 1 else ''}, {inventory.trusted_devices} trusted")
    pending = len(inventory.pending_pairings)
    if pending:
        text.append(f", {pending} pairing{'s' if pending != 1 else ''} pending", style="yellow")
    return text


def describe_device(device: Device, now_ms: float) -> Text:
    """One device: its id, kind, trust, presence and last contact; its capabilities; its
    warnings, each on a line of its own."""
    text = Text()
    glyph, style = _tone(device)
    text.append(f"{glyph} ", style=style)
    text.append_text(plain(device.device_id or "(no id)", "bold"))
    text.append("  ")
    text.append_text(plain(device.client_kind or "unknown kind"))
    text.append("  ")
    text.append(device.trust.value, style=_TRUST_STYLES[device.trust])
    text.append("  ")
    text.append(device.presence.value, style=_PRESENCE_STYLES[device.presence])
    text.append("  ")
    if device.last_seen_at_ms:
        text.append(f"seen {ago(now_ms - device.last_seen_at_ms)}")
    else:
        text.append("never seen", style="dim")
    if device.platform:
        text.append("  ")
        text.append_text(plain(device.platform, "dim"))
    text.append("\n")
    capabilities = device.capabilities
    if capabilities:
        available = sum(1 for c in capabilities if c.available)
        text.append(f"  capabilities {available} of {len(capabilities)} available: ", style="dim")
        for index, capability in enumerate(capabilities):
            if index:
                text.append(", ", style="dim")
            text.append_text(plain(capability.name))
            if not capability.available:
                text.append(" (unavailable)", style="yellow")
        text.append("\n")
    else:
        text.append("  no capabilities\n", style="dim")
    if device.pending_pairings:
        count = device.pending_pairings
        text.append(f"  {count} pairing request{'s' if count != 1 else ''} open\n", style="yellow")
    for warning in device.warnings:
        text.append("  ▲ warning: ", style="bold yellow")
        text.append_text(plain(warning, "yellow"))
        text.append("\n")
    return text


def _describe_pairing(request: PairingRequest, now_ms: float) -> Text:
    text = Text("  ◆ ", style="yellow")
    text.append_text(plain(request.device_id or "(no device id)", "bold"))
    facts = [request.client_kind or "unknown kind"]
    if request.method:
        facts.append(f"method {request.method}")
    if request.requested_at_ms:
        facts.append(f"asked {ago(now_ms - request.requested_at_ms)}")
    if request.expires_at_ms:
        left = request.expires_at_ms - now_ms
        facts.append(f"expires in {span(left)}" if left > 0 else "expired")
    text.append("  ")
    text.append_text(plain(" · ".join(facts), "dim"))
    text.append("\n")
    return text


def _tone(device: Device) -> tuple[str, str]:
    """Trusted and heard from: fine; revoked, removed or offline: bad; anything else: watch."""
    if device.trust is TrustState.TRUSTED and device.presence is Presence.OK:
        return "●", "green"
    if device.trust in (TrustState.REVOKED, TrustState.REMOVED) or (
        device.presence is Presence.OFFLINE
    ):
        return "✖", "red"
    return "▲", "yellow"


def span(milliseconds: float) -> str:
    """A stretch of time in the unit a person reads it in: 12 s, 5 min, 3 h, 2 d."""
    seconds = max(0, int(milliseconds // 1000))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} d"


def ago(milliseconds: float) -> str:
    """How long ago, in words: ``just now`` under 5 s, else ``12 s ago``."""
    if milliseconds < 5000:
        return "just now"
    return f"{span(milliseconds)} ago"
