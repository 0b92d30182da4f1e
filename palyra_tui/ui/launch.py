"""Starting the control center: supervisor first, then the app; stopping in reverse.

Anything that goes wrong before the app can draw (a bad config file, a second
instance) is shown inside the app as a readable state, never as a traceback.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from palyra_tui.client.identity import ClientIdentity
from palyra_tui.config import Config, parse_config
from palyra_tui.errors import PalyraError
from palyra_tui.supervisor import Supervisor
from palyra_tui.ui.app import PalyraApp


def _idle_config() -> Config:
    """A config that starts nothing, for showing a startup error."""
    root = Path(tempfile.mkdtemp(prefix="palyra-tui-error-"))
    services = {name: {"enabled": False} for name in ("gateway", "browserd", "node_host")}
    return parse_config({"state_root": str(root), "services": services}, None, {})


def build_app(
    config: Config | None,
    *,
    startup_error: str = "",
    environ: Mapping[str, str] | None = None,
    interval: float = 1.0,
) -> tuple[PalyraApp, Supervisor]:
    """Open a supervisor for ``config`` (or an idle one) and the app over it."""
    error = startup_error
    supervisor: Supervisor | None = None
    if config is not None and not error:
        try:
            supervisor = Supervisor(config, environ=environ).open()
        except PalyraError as failure:
            error = str(failure)
    if supervisor is None:
        config = _idle_config()
        supervisor = Supervisor(config).open()
    assert config is not None
    identity = ClientIdentity(
        admin_token=supervisor.tokens.admin_token,
        principal=config.runtime.principal,
        device_id=config.runtime.device_id,
    )
    app = PalyraApp(supervisor, identity, config.runtime, startup_error=error, interval=interval)
    return app, supervisor


def run_tui(
    config: Config | None,
    *,
    startup_error: str = "",
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run the control center until the operator quits; returns the exit code."""
    app, supervisor = build_app(config, startup_error=startup_error, environ=environ)
    try:
        if not app.startup_error:
            _start_all(supervisor)
        app.run()
    finally:
        supervisor.close()
    return 0


def _start_all(supervisor: Supervisor) -> None:
    import asyncio

    asyncio.run(supervisor.start_all())
