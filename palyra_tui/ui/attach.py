"""``palyra-tui``: attach the control center to the runtime host, starting one if needed.

The services, runs, approvals and drafts live in the host; this process only
shows them.  Quitting detaches and says so; a lost host can be replaced from
the UI, which then attaches to the new one.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from palyra_tui.config import Config
from palyra_tui.errors import HostError, PalyraError
from palyra_tui.host.launcher import ensure_host, host_socket_exists
from palyra_tui.host.protocol import ClientInfo
from palyra_tui.ui.app import RESTART_HOST, PalyraApp

if TYPE_CHECKING:
    from palyra_tui.host.client import HostClient
    from palyra_tui.state.runtime_api import RuntimeApi


def run_attached(config: Config, config_path: Path | None) -> int:
    """Attach until the operator quits; returns the exit code."""
    while True:
        app = asyncio.run(_attach(config, config_path))
        if app.open_error is not None:
            return _show_startup_error(app.open_error)
        if app.return_code == RESTART_HOST:
            continue
        if app.outcome:
            print(app.outcome, file=sys.stderr)
        return 0


async def _attach(config: Config, config_path: Path | None) -> PalyraApp:
    """Run the app on this loop; the link to the host is made once it has drawn.

    The first frame waits neither for a host to start nor for the link's
    modules to load.  With no host socket there is no host to ask, so a new
    one starts at once, on a core of its own, while the UI draws; a running
    host is asked only once the frame is on the terminal.
    """
    hosting = (
        None
        if host_socket_exists(config)
        else asyncio.ensure_future(ensure_host(config, config_path))
    )

    async def started() -> HostClient:
        await (hosting if hosting is not None else ensure_host(config, config_path))
        from palyra_tui.host.client import HostClient

        return HostClient.for_state_root(config.state_root, client=ClientInfo.current("ui"))

    def connect() -> RuntimeApi:
        from palyra_tui.host.remote import SocketRuntime

        return SocketRuntime(prepare=started)

    app = PalyraApp(connect, attached=True, owns_services=False, onboarding_at_start=True)
    try:
        await app.run_async()
    finally:
        if hosting is not None:
            if not hosting.done():
                hosting.cancel()
            await asyncio.wait([hosting])
            if not hosting.cancelled():
                hosting.exception()  # the app has said why, if it asked; nothing to log twice
    return app


def _show_startup_error(error: PalyraError) -> int:
    """The control center over an idle runtime, saying why no host could be reached.

    Imported here: an embedded supervisor is what attaching exists to avoid loading.
    """
    from palyra_tui.ui.launch import run_tui, startup_reason

    if isinstance(error, HostError):
        return run_tui(None, startup_error=f"no runtime host: {error}")
    return run_tui(None, startup_error=startup_reason(error))
