"""Enrolling the node host from the keyboard, against the reference gateway and node."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from palyra_tui.models import ServiceState
from palyra_tui.models.devices import TrustState
from palyra_tui.ui.app import PalyraApp
from palyra_tui.ui.screens.confirm import ConfirmScreen
from palyra_tui.ui.screens.health import HealthPane
from palyra_tui.ui.widgets.devices_panel import DevicesPanel
from palyra_tui.ui.widgets.process_table import ProcessTable
from tests.ui.conftest import HUMAN_PAUSE, advance, gateway_ready, notices, until

SIZE = (100, 30)


async def test_e_enrols_the_node_host_and_d_shows_it_trusted(demo_app: PalyraApp) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: gateway_ready(demo_app), timeout=60)
        pane = demo_app.pane
        assert isinstance(pane, HealthPane)
        table = pane.query_one(ProcessTable)
        table.move_cursor(row=2)
        await until(pilot, lambda: table.selected_service == "node_host")
        advance(demo_app, HUMAN_PAUSE)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(demo_app.screen, ConfirmScreen))
        advance(demo_app, HUMAN_PAUSE)
        await pilot.press("y")
        await until(pilot, lambda: "node host enrolled and started" in notices(demo_app), 90)
        assert "the gateway was restarted twice" in notices(demo_app)

        def node_running() -> bool:
            node = demo_app.runtime.services().get("node_host")
            return node is not None and node.enabled and node.state is ServiceState.RUNNING

        await until(pilot, node_running, timeout=60)
        await pilot.press("d")
        panel = pane.query_one(DevicesPanel)

        def trusted() -> bool:
            inventory = panel.inventory
            if inventory is not None and any(
                d.trust is TrustState.TRUSTED for d in inventory.devices
            ):
                return True
            if not panel.asking:
                advance(demo_app, 5)  # the panel asks again at its next tick
            return False

        await until(pilot, trusted, timeout=60)
        rendered = pane.query_one("#devices-text").render()
        assert isinstance(rendered, Content | Text)
        assert " trusted " in rendered.plain
