"""Configuration: where it lives, what it may say, and its validated form."""

from palyra_tui.config.load import (
    CONFIG_ENV,
    config_path,
    default_state_root,
    load_config,
    parse_config,
)
from palyra_tui.config.schema import (
    BUILTIN_NAMES,
    DEFAULT_DEVICE_ID,
    DEFAULT_PRINCIPAL,
    BundleConfig,
    Config,
    RuntimeConfig,
    ServiceConfig,
)

__all__ = [
    "BUILTIN_NAMES",
    "CONFIG_ENV",
    "DEFAULT_DEVICE_ID",
    "DEFAULT_PRINCIPAL",
    "BundleConfig",
    "Config",
    "RuntimeConfig",
    "ServiceConfig",
    "config_path",
    "default_state_root",
    "load_config",
    "parse_config",
]
