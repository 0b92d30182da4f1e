"""The validated configuration, as frozen values.

The TOML file is described in ``docs/configuration.md``; :mod:`palyra_tui.config.load`
turns it into these objects or raises a :class:`~palyra_tui.errors.ConfigError`.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path

from palyra_tui.models import RestartPolicy, ServiceKind
from palyra_tui.models.browser import BrowserEngine

DEFAULT_PRINCIPAL = "admin:local"
DEFAULT_DEVICE_ID = "01JQ7P4NQ2T7K5XG0C9M3E8VWR"
DEFAULT_LOG_LINES = 10_000
DEFAULT_LOG_MIB = 64
DEFAULT_LOG_TOTAL_MIB = 256
DEFAULT_BUNDLE_LOG_MINUTES = 15
MAX_BUNDLE_LOG_MINUTES = 1440
BUILTIN_NAMES: dict[str, ServiceKind] = {
    "gateway": ServiceKind.GATEWAY,
    "browserd": ServiceKind.BROWSERD,
    "node_host": ServiceKind.NODE_HOST,
}


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    """How the built-in Palyra daemons are launched and reached."""

    principal: str = DEFAULT_PRINCIPAL
    device_id: str = DEFAULT_DEVICE_ID
    admin_port: int = 7142
    grpc_port: int = 7443
    quic_port: int = 7444
    browserd_port: int = 7143
    browserd_grpc_port: int = 7543
    browser_service: bool = True
    browser_engine: BrowserEngine = BrowserEngine.CHROMIUM
    """browserd's engine mode, given to it as ``PALYRA_BROWSERD_ENGINE_MODE``."""
    browser_chromium_path: str | None = None
    """The Chromium browserd launches (``PALYRA_BROWSERD_CHROMIUM_PATH``); None leaves
    the choice to browserd's own search of ``PATH``."""


@dataclass(frozen=True, slots=True)
class BundleConfig:
    """What a support bundle holds (``[bundle]``)."""

    log_minutes: int = DEFAULT_BUNDLE_LOG_MINUTES
    """The last minutes of every service's logs a bundle takes."""


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """One ``[services.NAME]`` table after validation.

    ``enabled`` is None when the file does not say, so that built-ins can apply
    their own default (the browser service follows ``runtime.browser_service``,
    the node host runs only once it is enrolled).  ``command`` is None for a
    built-in whose binary is resolved and whose arguments are the defaults.
    """

    name: str
    kind: ServiceKind
    enabled: bool | None = None
    command: tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()
    cwd: str | None = None
    health_url: str | None = None
    restart: RestartPolicy = RestartPolicy.ALWAYS
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 5.0
    max_restarts: int = 0
    health_interval: float = 0.5
    health_timeout: float = 2.0
    start_grace: float = 1.0


@dataclass(frozen=True, slots=True)
class Config:
    """Everything palyra-tui reads from its config file and environment."""

    path: Path | None
    state_root: Path
    log_lines: int = DEFAULT_LOG_LINES
    log_mib: int = DEFAULT_LOG_MIB
    log_total_mib: int = DEFAULT_LOG_TOTAL_MIB
    runtime: RuntimeConfig = RuntimeConfig()
    services: tuple[ServiceConfig, ...] = field(default=())
    bundle: BundleConfig = BundleConfig()
    runtime_override: Path | None = None
    """The daemons' directory the operator chose during onboarding (None: the default)."""
    profile_runtime_root: Path | None = None
    """The active profile's default directory for the daemons (None: the built-in
    profile's, ``<state_root>/tui/runtime``)."""
    profile_env: tuple[tuple[str, str], ...] = ()
    """What every service's environment says of the active catalog profile
    (``PALYRA_CLI_PROFILE``, and ``PALYRA_CONFIG`` when it names a config file)."""

    @property
    def state_dir(self) -> Path:
        """palyra-tui's own directory inside the state root (lock file, runtime)."""
        return self.state_root / "tui"

    @property
    def runtime_root(self) -> Path:
        """``PALYRA_STATE_ROOT`` for the daemons palyra-tui starts."""
        return self.runtime_override or self.default_runtime_root

    @property
    def default_runtime_root(self) -> Path:
        """The daemons' directory unless the operator chose another one."""
        return self.profile_runtime_root or self.state_dir / "runtime"

    def service(self, name: str) -> ServiceConfig | None:
        """The service called ``name``, if configured."""
        for service in self.services:
            if service.name == name:
                return service
        return None
