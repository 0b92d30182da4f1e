"""Screen 1: overall status, quick facts, the services table and a post-mortem of the selection."""

from __future__ import annotations

import time
from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.worker import WorkType

from palyra_tui.errors import PalyraError
from palyra_tui.models import LogStream, ServiceKind, ServiceSnapshot, ServiceState
from palyra_tui.models.device_states import NodeAction
from palyra_tui.state.profiles import not_supervised
from palyra_tui.state.snapshot import AppSnapshot, OverallStatus
from palyra_tui.ui.node_host import NodeHostFlow
from palyra_tui.ui.safe import block, plain
from palyra_tui.ui.screens.base import ControlPane, PaneCommand, switch_keys
from palyra_tui.ui.screens.confirm import ConfirmScreen
from palyra_tui.ui.widgets.devices_panel import DevicesPanel
from palyra_tui.ui.widgets.process_table import ProcessTable, duration
from palyra_tui.ui.widgets.steady import SteadyStatic

_OVERALL = {
    OverallStatus.HEALTHY: ("HEALTHY", "bold green"),
    OverallStatus.DEGRADED: ("DEGRADED", "bold yellow"),
    OverallStatus.DOWN: ("DOWN", "bold red"),
}


class HealthPane(ControlPane):
    """The services and how they are doing."""

    TITLE = "Health"
    BINDINGS = [
        *switch_keys(),
        Binding("s", "settled('start')", "Start", priority=True),
        Binding("x", "settled('stop')", "Stop", priority=True),
        Binding("r", "settled('restart')", "Restart", priority=True),
        Binding("h", "settled('hold')", "Hold restarts", priority=True),
        Binding("e", "enroll_key", "Enrol", priority=True),
        Binding("d", "toggle_devices", "Devices"),
        Binding("o", "dashboard", "Dashboard", priority=True),
        Binding("A", "settled('start_all')", "Start all", show=False, priority=True),
        Binding("X", "settled('stop_all')", "Stop all", show=False, priority=True),
        Binding("R", "settled('restart_all')", "Restart all", show=False, priority=True),
        Binding("pagedown", "page(1)", show=False, priority=True),
        Binding("pageup", "page(-1)", show=False, priority=True),
    ]

    def compose(self) -> ComposeResult:
        yield SteadyStatic(id="facts")
        yield ProcessTable(id="processes")
        with Horizontal(id="below"):
            with VerticalScroll(id="detail-box"):
                yield SteadyStatic(id="detail")
            panel = DevicesPanel(id="devices-box")
            panel.display = False
            yield panel

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)

    def focus_first(self) -> None:
        self.query_one(ProcessTable).focus()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._holding: dict[str, bool] = {}
        """Hold states asked for and not yet seen in a snapshot."""
        self._lines: dict[str, tuple[object, tuple[str, ...]]] = {}
        """The last lines of each service, with the log counters they were fetched at."""
        self._fetching: set[str] = set()
        self.node = NodeHostFlow(self, self._node_done)

    def show_snapshot(self, snapshot: AppSnapshot) -> None:
        for service in snapshot.supervisor.services:
            if self._holding.get(service.name) == service.held:
                del self._holding[service.name]
        # A startup error names a file and a key; the facts grow so it is read whole.
        self.set_class(bool(self.control.startup_error), "-startup-error")
        self.set_class(self.control.profile.remote, "-remote")
        self.query_one("#facts", SteadyStatic).update(self._facts(snapshot))
        self.query_one(ProcessTable).show(self._services(snapshot), self.control.clock.time())
        self._show_detail()
        self.refresh_keys()

    def on_process_table_highlighted(self, _event: ProcessTable.Highlighted) -> None:
        self._show_detail()
        self.refresh_keys()

    def on_shown(self) -> None:
        if self.devices_shown:
            self.tick_devices()

    def _tick(self) -> None:
        snapshot = self.control.snapshot
        if snapshot is not None and self.shown:
            self.query_one(ProcessTable).show(self._services(snapshot), self.control.clock.time())
            if self.node.busy is not None:
                self._show_detail()
        self.tick_devices()

    def _services(self, snapshot: AppSnapshot) -> tuple[ServiceSnapshot, ...]:
        """The rows to show: none when the runtime could not be opened, or its profile is
        remote (nothing runs here for it)."""
        if self.control.startup_error or self.control.profile.remote:
            return ()
        return snapshot.supervisor.services

    # Rendering -------------------------------------------------------------

    def _facts(self, snapshot: AppSnapshot) -> Text:
        label, style = _OVERALL[snapshot.overall]
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {label} ", style=f"reverse {style}")
        text.append(f"  gateway {snapshot.connection.value}")
        health = snapshot.gateway_health
        if health is not None:
            text.append(
                f" · {health.service} {health.version} · up {duration(health.uptime_seconds)}"
            )
        if snapshot.gateway_target:
            text.append(f" · grpc {snapshot.gateway_target}", style="dim")
        if self.control.dashboard_url:
            text.append(
                f" · dashboard {self.control.dashboard_url}/#/control/overview", style="dim"
            )
        if self.control.startup_error:
            text.append("\n")
            text.append_text(block(self.control.startup_error, "bold red"))
        if self.control.profile.remote:
            text.append("\n")
            text.append_text(block(not_supervised(self.control.profile), "bold yellow"))
        return text

    def _selected(self) -> ServiceSnapshot | None:
        snapshot = self.control.snapshot
        name = self.query_one(ProcessTable).selected_service
        if snapshot is None or name is None:
            return None
        return snapshot.supervisor.get(name)

    def _show_detail(self) -> None:
        service = self._selected()
        detail = self.query_one("#detail", SteadyStatic)
        if service is None:
            detail.update("")
            return
        detail.update(
            describe_service(
                service,
                self._last_lines(service.name),
                self.control.clock.time(),
                held=self._holding.get(service.name, service.held),
                note=self.node.note(service),
            )
        )

    @property
    def detail_settled(self) -> bool:
        """The card shows the selected service's last lines as fetched, none on the way."""
        service = self._selected()
        return service is None or (service.name in self._lines and not self._fetching)

    def _last_lines(self, name: str) -> tuple[str, ...]:
        """The last lines of the service as last fetched; a fetch is started when they
        may have changed (its log counters moved), and redraws the card when it lands."""
        service = self._selected()
        counters = service.logs if service is not None else None
        fetched = self._lines.get(name)
        if (fetched is None or fetched[0] != counters) and name not in self._fetching:
            self._fetching.add(name)

            # A callable, not a coroutine: a worker the closing app never starts leaves
            # no coroutine behind that was never awaited.
            async def fetch() -> None:
                await self._fetch_lines(name, counters)

            work: WorkType[None] = fetch
            self.run_worker(work, exit_on_error=False)
        return fetched[1] if fetched is not None else ()

    async def _fetch_lines(self, name: str, counters: object) -> None:
        runtime = self.control.runtime
        try:
            lines = await runtime.tail(name, 8, LogStream.STDERR) or await runtime.tail(name, 8)
        finally:
            self._fetching.discard(name)
        self._lines[name] = (counters, tuple(line.text for line in lines))
        service = self._selected()
        if service is not None and service.name == name:
            self._show_detail()

    # Actions -----------------------------------------------------------------

    def hidden_actions(self) -> frozenset[str]:
        if self.control.startup_error:
            return frozenset({"settled", "enroll_key"})
        service = self._selected()
        if (
            service is None
            or service.kind is not ServiceKind.NODE_HOST
            or service.enabled
            or self.control.profile.remote
        ):
            return frozenset({"enroll_key"})
        return frozenset()

    def palette_commands(self) -> tuple[PaneCommand, ...]:
        return (
            PaneCommand(
                "Enrol node host", "key e on its row · asks first", "node('enroll')", "enroll_key"
            ),
            PaneCommand("Repair node host", "pair it again · asks first", "node('repair')"),
            PaneCommand("Reset node host", "remove its identity · asks first", "node('reset')"),
        )

    def action_dashboard(self) -> None:
        """Open the web dashboard's overview, signed in (a key that stands alone; the
        dialog is imported on first use, not with the first frame)."""
        from palyra_tui.models.handoff import HandoffScope
        from palyra_tui.ui.screens.handoff import offer_dashboard

        self.settle(lambda: offer_dashboard(self.control, HandoffScope.overview()))

    def action_settled(self, action: str) -> None:
        """Every service key acts only when it stands alone, never as part of a word, and
        on the service selected when it was pressed.

        No service action while the runtime could not be opened: it would start daemons
        in a root nobody configured.
        """
        if self.control.startup_error:
            self.app.notify("no service can be started or stopped: the runtime is not open")
            return
        if action.endswith("_all"):
            self.settle(getattr(self, f"_{action}"))
            return
        service = self._selected()
        if service is not None:
            self.settle(partial(getattr(self, f"_{action}"), service.name))

    # The node host ------------------------------------------------------------------

    def action_enroll_key(self) -> None:
        """``e``: enrol the node host from its row; like every key that changes something,
        it acts only when it stands alone, and it asks first."""
        refusal = self.node.refusal(NodeAction.ENROLL)
        service = self._selected()
        if not refusal and (service is None or service.kind is not ServiceKind.NODE_HOST):
            refusal = "e enrols the node host: select its row first (↑ ↓)"
        if refusal:
            self.app.notify(refusal, severity="warning", markup=False)
            return
        self.settle(partial(self.node.ask, NodeAction.ENROLL))

    def action_node(self, name: str) -> None:
        """The palette's Enrol, Repair and Reset node host, whatever row is selected."""
        action = NodeAction(name)
        refusal = self.node.refusal(action)
        if refusal:
            self.app.notify(refusal, severity="warning", markup=False)
            return
        self.settle(partial(self.node.ask, action))

    def _node_done(self) -> None:
        """A node host action began or ended: the card says so, the devices may have
        changed."""
        self._show_detail()
        if self.node.busy is None and self.devices_shown:
            self.query_one(DevicesPanel).ask()

    # The devices ----------------------------------------------------------------------

    @property
    def devices_shown(self) -> bool:
        """The devices panel is on show in place of the service card."""
        return bool(self.query_one(DevicesPanel).display)

    def action_toggle_devices(self) -> None:
        """``d``: the gateway's devices in place of the service card, or the card again."""
        self.show_devices(not self.devices_shown)

    def show_devices(self, shown: bool) -> None:
        """Show the devices panel (it asks the gateway at once), or the card again."""
        self.query_one("#detail-box").display = not shown
        panel = self.query_one(DevicesPanel)
        if shown:
            panel.open()
        else:
            panel.display = False

    def action_page(self, direction: int) -> None:
        """PgUp and PgDn scroll the devices while they are on show, else page the table."""
        if self.devices_shown:
            panel = self.query_one(DevicesPanel)
            if direction > 0:
                panel.scroll_page_down(animate=False)
            else:
                panel.scroll_page_up(animate=False)
        else:
            self.query_one(ProcessTable).action_page(direction)

    def tick_devices(self) -> None:
        """The devices are asked for again only while in sight: on the pane on show, with
        no dialog over it."""
        if self.devices_shown and self.shown and self.app.screen is self.screen:
            self.query_one(DevicesPanel).tick()

    # Services -------------------------------------------------------------------------

    def _start(self, name: str) -> None:
        self._run(self.control.runtime.start(name), f"starting {name}")

    def _stop(self, name: str) -> None:
        self._confirm(f"Stop {name}?", "Stop", self.control.runtime.stop, name)

    def _restart(self, name: str) -> None:
        self._confirm(
            f"Restart {name}? It is stopped first.",
            "Restart",
            self.control.runtime.restart,
            name,
        )

    def _hold(self, name: str) -> None:
        """Toggle from what the card shows now, so a second press undoes the first."""
        snapshot = self.control.snapshot
        service = snapshot.supervisor.get(name) if snapshot is not None else None
        if service is None:
            return
        held = not self._holding.get(name, service.held)
        self._holding[name] = held
        self._show_detail()

        async def hold() -> None:
            try:
                await self.control.runtime.hold(name, held)
            except PalyraError:
                self._holding.pop(name, None)
                self._show_detail()
                raise

        self._run(hold(), f"{'holding' if held else 'releasing'} {name}")

    def _start_all(self) -> None:
        self._run(self.control.runtime.start_all(), "starting every enabled service")

    def _stop_all(self) -> None:
        names = self._running_names()
        if not names:
            self.app.notify("no service is running")
            return
        self.app.push_screen(
            ConfirmScreen(
                f"Stop {names} (the gateway last)?", clock=self.control.clock, confirm="Stop all"
            ),
            lambda ok: self._run(self.control.runtime.stop_all(), "stopping all") if ok else None,
        )

    def _restart_all(self) -> None:
        async def restart_all() -> None:
            await self.control.runtime.stop_all()
            await self.control.runtime.start_all()

        names = self._running_names() or "nothing runs now"
        self.app.push_screen(
            ConfirmScreen(
                f"Restart every enabled service ({names})?",
                clock=self.control.clock,
                confirm="Restart all",
            ),
            lambda ok: self._run(restart_all(), "restarting all") if ok else None,
        )

    def _running_names(self) -> str:
        snapshot = self.control.runtime.services()
        running = [
            s.name
            for s in snapshot.services
            if s.state.is_up or s.state in (ServiceState.BACKOFF, ServiceState.HELD)
        ]
        return ", ".join(running)

    def _confirm(self, question: str, verb: str, action: object, name: str) -> None:
        def done(ok: bool | None) -> None:
            if ok and callable(action):
                self._run(action(name), f"{verb.lower()} {name}")

        self.app.push_screen(ConfirmScreen(question, clock=self.control.clock, confirm=verb), done)

    def _run(self, operation: object, what: str) -> None:
        async def run() -> None:
            try:
                await operation  # type: ignore[misc]
            except PalyraError as error:
                self.app.notify(f"{what} failed: {error}", severity="error", markup=False)
            self.control.request_refresh()

        self.app.notify(what, markup=False)
        self.run_worker(run(), group="service-actions", exit_on_error=False)


def describe_service(
    service: ServiceSnapshot,
    last_lines: tuple[str, ...],
    now: float,
    *,
    held: bool,
    note: Text | None = None,
) -> Text:
    """The post-mortem card of one service (``held`` as last asked for), with a ``note``
    under its name."""
    text = Text()
    text.append(service.name, style="bold")
    text.append(f"  {service.state.value}")
    if held:
        text.append("  restarts held", style="bold magenta")
    text.append("\n")
    if note is not None:
        text.append_text(note)
        text.append("\n")
    if service.reason:
        text.append_text(plain(f"reason: {service.reason}", "yellow"))
        text.append("\n")
    if service.last_exit is not None:
        ended = service.last_exit
        text.append_text(
            plain(
                f"last exit: {ended.description} after {ended.uptime:.1f} s, "
                f"{time.strftime('%H:%M:%S', time.localtime(ended.at))}"
            )
        )
        text.append("\n")
    limit = f" of {service.max_restarts}" if service.max_restarts else ""
    schedule = f"restarts: {service.restarts}; consecutive failures {service.attempt}{limit}"
    wait = service.next_attempt_in(now)
    if wait is not None:
        schedule += f"; next try in {wait:.0f} s"
    text.append(schedule + "; backoff resets after 60 s up\n", style="dim")
    details = [f"binary: {service.binary}"] if service.binary else []
    details += [f"{key}: {value}" for key, value in service.endpoints]
    for detail in details:
        text.append_text(plain(detail, "dim"))
        text.append("\n")
    if last_lines:
        text.append("last lines:\n", style="bold")
        for line in last_lines:
            text.append_text(plain(f"  {line}"))
            text.append("\n")
    return text
