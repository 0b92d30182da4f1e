"""Starting the control center: supervisor first, then the app; stopping in reverse.

Anything that goes wrong before the app can draw (a bad config file, a second
instance, a state root that is a file, read-only or full) is shown inside the
app as a readable state, never as a traceback.  Only when not even the idle
supervisor behind that screen can open does the sentence go to stderr.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from palyra_tui.client.identity import ClientIdentity
from palyra_tui.config import Config, parse_config
from palyra_tui.errors import ConfigError, InstanceLocked, PalyraError, SupervisorError
from palyra_tui.models import SupervisorSnapshot
from palyra_tui.models.clock import Clock, SystemClock
from palyra_tui.models.preflight import Preflight
from palyra_tui.secrets import RuntimeSecrets
from palyra_tui.state.local_runtime import LocalRuntime
from palyra_tui.supervisor import Supervisor
from palyra_tui.ui.app import PalyraApp


def _idle_config() -> Config:
    """A config that starts nothing, in a throw-away root, for showing a startup error."""
    root = Path(tempfile.mkdtemp(prefix="palyra-tui-error-"))
    services = {name: {"enabled": False} for name in ("gateway", "browserd", "node_host")}
    return parse_config({"state_root": str(root), "services": services}, None, {})


def startup_reason(error: PalyraError) -> str:
    """One sentence that says why the runtime could not be opened."""
    if isinstance(error, ConfigError):
        return f"the config file is invalid: {error}"
    if isinstance(error, InstanceLocked):
        return f"{error}; quit that palyra-tui or use another state root"
    return f"the runtime could not be opened: {error}"


def build_app(
    config: Config | None,
    *,
    startup_error: str = "",
    environ: Mapping[str, str] | None = None,
    interval: float = 1.0,
    clock: Clock | None = None,
    start_services: bool = False,
    tokens: RuntimeSecrets | None = None,
) -> tuple[PalyraApp, Supervisor]:
    """Open a supervisor for ``config`` (or an idle one) and the app over it; ``tokens``
    are the state root's stored ones unless given (the demo's live in memory only)."""
    error = startup_error
    supervisor: Supervisor | None = None
    if config is not None and not error:
        try:
            supervisor = Supervisor(config, environ=environ, tokens=tokens).open()
        except PalyraError as failure:
            error = startup_reason(failure)
    if supervisor is None:
        config = None
        tokens = RuntimeSecrets.generate()
        try:
            config = _idle_config()
            supervisor = Supervisor(config, tokens=tokens).open()
        except (OSError, PalyraError) as failure:
            if config is not None:
                shutil.rmtree(config.state_root, ignore_errors=True)
            reason = f"{error}; " if error else ""
            raise SupervisorError(f"{reason}the control center cannot open: {failure}") from None
    assert config is not None
    identity = ClientIdentity(
        admin_token=supervisor.tokens.admin_token,
        principal=config.runtime.principal,
        device_id=config.runtime.device_id,
    )
    clock = clock if clock is not None else SystemClock()
    checked = config
    environment = dict(os.environ if environ is None else environ)

    in_memory = tokens

    async def preflight(services: SupervisorSnapshot, dashboard_url: str) -> Preflight:
        """The onboarding's checks, loaded when first asked for (not before the first frame);
        tokens held in memory (the demo's) are checked as such, never in a keyring."""
        from palyra_tui.host.preflight import preflight_in_host

        run = preflight_in_host(checked, environment, secrets=in_memory)
        return await run(services, dashboard_url)

    runtime = LocalRuntime(
        supervisor,
        identity,
        config.runtime,
        clock=clock,
        interval=interval,
        preflight=preflight,
        catalog=False,
    )
    app = PalyraApp(
        runtime,
        startup_error=error,
        clock=clock,
        start_services=start_services and not error,
    )
    return app, supervisor


def run_tui(
    config: Config | None,
    *,
    startup_error: str = "",
    environ: Mapping[str, str] | None = None,
    tokens: RuntimeSecrets | None = None,
) -> int:
    """Run the control center until the operator quits; returns the exit code."""
    app, supervisor = build_app(
        config, startup_error=startup_error, environ=environ, start_services=True, tokens=tokens
    )
    try:
        app.run()
    finally:
        supervisor.close()
        if app.startup_error:
            shutil.rmtree(supervisor.config.state_root, ignore_errors=True)
    return 0
