"""Find, read and validate the TOML configuration.

Validation is strict: an unknown key or a value of the wrong type is an error
that names the file and the dotted key, never a silent default.  ``true`` is
not accepted where a number is expected, even though Python would let it pass.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from palyra_tui.config.document import MAX_CONFIG_BYTES, parse_toml, shown, shown_key
from palyra_tui.config.schema import (
    BUILTIN_NAMES,
    DEFAULT_LOG_LINES,
    DEFAULT_LOG_MIB,
    DEFAULT_LOG_TOTAL_MIB,
    MAX_BUNDLE_LOG_MINUTES,
    BundleConfig,
    Config,
    RuntimeConfig,
    ServiceConfig,
)
from palyra_tui.errors import ConfigError
from palyra_tui.models import RestartPolicy, ServiceKind
from palyra_tui.models.browser import BrowserEngine
from palyra_tui.models.ids import is_ulid
from palyra_tui.text import visible

CONFIG_ENV = "PALYRA_TUI_CONFIG"
STATE_ROOT_ENV = "PALYRA_STATE_ROOT"

_SERVICE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")
_BUILTIN_DEFAULT_SIGNAL = signal.SIGINT


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$PALYRA_TUI_CONFIG``, else ``$XDG_CONFIG_HOME/palyra/tui.toml``."""
    env = os.environ if environ is None else environ
    explicit = env.get(CONFIG_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = env.get("XDG_CONFIG_HOME", "").strip()
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".config"
    return base / "palyra" / "tui.toml"


def default_state_root(environ: Mapping[str, str] | None = None) -> Path:
    """``$PALYRA_STATE_ROOT`` (absolute), else ``$XDG_STATE_HOME/palyra``."""
    env = os.environ if environ is None else environ
    explicit = env.get(STATE_ROOT_ENV, "").strip()
    if explicit:
        root = Path(explicit)
        if not root.is_absolute():
            raise ConfigError(f"{STATE_ROOT_ENV} must be an absolute path, got {shown(explicit)}")
        return root
    xdg = env.get("XDG_STATE_HOME", "").strip()
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "state"
    return base / "palyra"


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read the config file (a missing file means all defaults) and validate it."""
    env = os.environ if environ is None else environ
    explicit = path is not None or bool(env.get(CONFIG_ENV, "").strip())
    target = path if path is not None else config_path(env)
    source = visible(str(target))
    try:
        with open(target, "rb") as file:
            raw = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{source}: config file does not exist") from None
        return parse_config({}, None, env)
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read config file: {exc.strerror}") from None
    document = parse_toml(raw, source)
    return parse_config(document, target, env)


def parse_config(
    document: Mapping[str, Any], path: Path | None, environ: Mapping[str, str]
) -> Config:
    """Validate a parsed TOML document into a :class:`Config`."""
    reader = _Reader(path)
    reader.reject_unknown(
        document,
        "",
        {"state_root", "log_lines", "log_mib", "log_total_mib", "runtime", "services", "bundle"},
    )
    state_root_text = reader.optional(document, "", "state_root", str)
    if state_root_text is not None:
        state_root = _expand(reader, "state_root", state_root_text)
        if not state_root.is_absolute():
            raise reader.error("state_root", "must be an absolute path")
    else:
        try:
            state_root = default_state_root(environ)
        except ConfigError as exc:
            raise ConfigError(f"{reader.source}: {exc}") from None
    log_lines = reader.optional(document, "", "log_lines", int)
    if log_lines is not None and not 100 <= log_lines <= 1_000_000:
        raise reader.error("log_lines", "must be between 100 and 1000000")
    log_mib = _mebibytes(reader, document, "log_mib", DEFAULT_LOG_MIB, 1, 4096)
    log_total_mib = _mebibytes(reader, document, "log_total_mib", DEFAULT_LOG_TOTAL_MIB, 1, 65536)
    runtime = _parse_runtime(reader, reader.table(document, "", "runtime"))
    bundle = _parse_bundle(reader, reader.table(document, "", "bundle"))
    services_table = reader.table(document, "", "services")
    services: list[ServiceConfig] = []
    for name in BUILTIN_NAMES:
        services.append(
            _parse_service(reader, name, reader.table(services_table, "services", name))
        )
    for name in services_table:
        if name in BUILTIN_NAMES:
            continue
        if not _SERVICE_NAME.match(name):
            raise reader.error(
                f"services.{name}",
                "service names start with a letter and use letters, digits, '-' and '_'",
            )
        services.append(
            _parse_service(reader, name, reader.table(services_table, "services", name))
        )
    return Config(
        path=path,
        state_root=state_root,
        log_lines=log_lines if log_lines is not None else DEFAULT_LOG_LINES,
        log_mib=log_mib,
        log_total_mib=log_total_mib,
        runtime=runtime,
        services=tuple(services),
        bundle=bundle,
    )


def _parse_bundle(reader: _Reader, table: Mapping[str, Any]) -> BundleConfig:
    reader.reject_unknown(table, "bundle", {"log_minutes"})
    minutes = reader.optional(table, "bundle", "log_minutes", int)
    if minutes is None:
        return BundleConfig()
    if not 1 <= minutes <= MAX_BUNDLE_LOG_MINUTES:
        raise reader.error(
            "bundle.log_minutes", f"must be between 1 and {MAX_BUNDLE_LOG_MINUTES} (minutes)"
        )
    return BundleConfig(log_minutes=minutes)


def _parse_runtime(reader: _Reader, table: Mapping[str, Any]) -> RuntimeConfig:
    known = {f.name for f in fields(RuntimeConfig)}
    reader.reject_unknown(table, "runtime", known)
    values: dict[str, Any] = {}
    for name in ("admin_port", "grpc_port", "quic_port", "browserd_port", "browserd_grpc_port"):
        port = reader.optional(table, "runtime", name, int)
        if port is not None:
            if not 0 <= port <= 65535:
                raise reader.error(f"runtime.{name}", "must be a port number from 0 to 65535")
            values[name] = port
    principal = reader.optional(table, "runtime", "principal", str)
    if principal is not None:
        if not principal.startswith("admin:") or len(principal) <= len("admin:"):
            raise reader.error("runtime.principal", "must look like 'admin:<name>'")
        values["principal"] = principal
    device_id = reader.optional(table, "runtime", "device_id", str)
    if device_id is not None:
        if not is_ulid(device_id):
            raise reader.error("runtime.device_id", "must be a 26-character uppercase ULID")
        values["device_id"] = device_id
    browser = reader.optional(table, "runtime", "browser_service", bool)
    if browser is not None:
        values["browser_service"] = browser
    engine = reader.optional(table, "runtime", "browser_engine", str)
    if engine is not None:
        try:
            values["browser_engine"] = BrowserEngine(engine)
        except ValueError:
            choices = ", ".join(mode.value for mode in BrowserEngine)
            raise reader.error(
                "runtime.browser_engine", f"must be one of {choices}, got {shown(engine)}"
            ) from None
    chromium = reader.optional(table, "runtime", "browser_chromium_path", str)
    if chromium is not None:
        key = "runtime.browser_chromium_path"
        if "\0" in chromium:
            raise reader.error(key, "must not contain a NUL character")
        chromium_path = _expand(reader, key, chromium)
        if not chromium_path.is_absolute():
            raise reader.error(key, f"must be an absolute path, got {shown(chromium)}")
        values["browser_chromium_path"] = str(chromium_path)
    return RuntimeConfig(**values)


_SERVICE_KEYS = {
    "enabled",
    "command",
    "env",
    "cwd",
    "health_url",
    "restart",
    "stop_signal",
    "stop_timeout",
    "max_restarts",
    "health_interval",
    "health_timeout",
    "start_grace",
}


def _parse_service(reader: _Reader, name: str, table: Mapping[str, Any]) -> ServiceConfig:
    where = f"services.{name}"
    kind = BUILTIN_NAMES.get(name, ServiceKind.CUSTOM)
    reader.reject_unknown(table, where, _SERVICE_KEYS)
    command = reader.optional(table, where, "command", list)
    if command is not None:
        if not command or not all(isinstance(part, str) and part for part in command):
            raise reader.error(f"{where}.command", "must be a non-empty list of non-empty strings")
        if any("\0" in part for part in command):
            raise reader.error(f"{where}.command", "must not contain a NUL character")
    elif kind is ServiceKind.CUSTOM:
        raise reader.error(f"{where}.command", "is required for a service that is not built in")
    env_table = reader.optional(table, where, "env", dict)
    env: list[tuple[str, str]] = []
    for key, value in (env_table or {}).items():
        if not isinstance(value, str):
            raise reader.error(f"{where}.env.{key}", f"must be a string, got {_type_name(value)}")
        if not key or "=" in key or "\0" in key:
            raise reader.error(f"{where}.env.{key}", "is not a valid environment variable name")
        if "\0" in value:
            raise reader.error(f"{where}.env.{key}", "must not contain a NUL character")
        env.append((str(key), value))
    cwd = reader.optional(table, where, "cwd", str)
    cwd_path = _expand(reader, f"{where}.cwd", cwd) if cwd is not None else None
    if cwd_path is not None and not cwd_path.is_absolute():
        raise reader.error(f"{where}.cwd", "must be an absolute path")
    health_url = reader.optional(table, where, "health_url", str)
    if health_url is not None:
        _check_url(reader, f"{where}.health_url", health_url)
    restart_text = reader.optional(table, where, "restart", str)
    restart = RestartPolicy.ALWAYS
    if restart_text is not None:
        try:
            restart = RestartPolicy(restart_text)
        except ValueError:
            choices = ", ".join(policy.value for policy in RestartPolicy)
            raise reader.error(
                f"{where}.restart", f"must be one of {choices}, got {shown(restart_text)}"
            ) from None
    stop_signal = _parse_signal(reader, f"{where}.stop_signal", table.get("stop_signal"))
    if stop_signal is None:
        stop_signal = _BUILTIN_DEFAULT_SIGNAL if kind is not ServiceKind.CUSTOM else signal.SIGTERM
    max_restarts = reader.optional(table, where, "max_restarts", int)
    if max_restarts is not None and max_restarts < 0:
        raise reader.error(f"{where}.max_restarts", "must be 0 (never give up) or more")
    return ServiceConfig(
        name=name,
        kind=kind,
        enabled=reader.optional(table, where, "enabled", bool),
        command=tuple(command) if command is not None else None,
        env=tuple(env),
        cwd=str(cwd_path) if cwd_path is not None else None,
        health_url=health_url,
        restart=restart,
        stop_signal=stop_signal,
        stop_timeout=_seconds(reader, table, where, "stop_timeout", 5.0, 0.0, 3600.0),
        max_restarts=max_restarts or 0,
        health_interval=_seconds(reader, table, where, "health_interval", 0.5, 0.1, 3600.0),
        health_timeout=_seconds(reader, table, where, "health_timeout", 2.0, 0.05, 60.0),
        start_grace=_seconds(reader, table, where, "start_grace", 1.0, 0.0, 600.0),
    )


def _parse_signal(reader: _Reader, key: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise reader.error(key, f"must be a signal name such as 'SIGTERM', got {_type_name(value)}")
    if isinstance(value, int):
        try:
            return int(signal.Signals(value))
        except ValueError:
            raise reader.error(key, f"{shown(value)} is not a signal number") from None
    if isinstance(value, str):
        name = value.strip().upper()
        if not name.startswith("SIG"):
            name = "SIG" + name
        try:
            return int(signal.Signals[name])
        except KeyError:
            raise reader.error(key, f"{shown(value)} is not a signal name") from None
    raise reader.error(key, f"must be a signal name such as 'SIGTERM', got {_type_name(value)}")


def _seconds(
    reader: _Reader,
    table: Mapping[str, Any],
    where: str,
    key: str,
    default: float,
    low: float,
    high: float,
) -> float:
    value: float | None = reader.optional(table, where, key, float)
    if value is None:
        return default
    if not low <= value <= high:
        raise reader.error(f"{where}.{key}", f"must be between {low:g} and {high:g} seconds")
    return value


def _mebibytes(
    reader: _Reader, table: Mapping[str, Any], key: str, default: int, low: int, high: int
) -> int:
    value: int | None = reader.optional(table, "", key, int)
    if value is None:
        return default
    if not low <= value <= high:
        raise reader.error(key, f"must be between {low} and {high} (MiB)")
    return value


def _expand(reader: _Reader, key: str, text: str) -> Path:
    try:
        return Path(text).expanduser()
    except RuntimeError:
        raise reader.error(key, f"cannot expand '~' in {shown(text)}") from None


def _check_url(reader: _Reader, key: str, url: str) -> None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise reader.error(key, f"is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise reader.error(key, "must be an http:// or https:// URL")
    if port == 0:
        raise reader.error(key, "needs a port from 1 to 65535")


def _type_name(value: object) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }
    return names.get(type(value), type(value).__name__)


class _Reader:
    """Typed access to TOML tables, with errors that name the file and key."""

    def __init__(self, path: Path | None) -> None:
        self.source = visible(str(path)) if path is not None else "configuration"

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: {shown_key(key)}: {message}")

    def reject_unknown(self, table: Mapping[str, Any], where: str, known: set[str]) -> None:
        for key in table:
            if key not in known:
                dotted = f"{where}.{key}" if where else key
                raise self.error(dotted, "unknown key")

    def table(self, parent: Mapping[str, Any], where: str, key: str) -> Mapping[str, Any]:
        value = parent.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            dotted = f"{where}.{key}" if where else key
            raise self.error(dotted, f"must be a table, got {_type_name(value)}")
        return value

    def optional(self, table: Mapping[str, Any], where: str, key: str, kind: type) -> Any:
        value = table.get(key)
        if value is None:
            return None
        dotted = f"{where}.{key}" if where else key
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, bool) and kind is not bool:
            raise self.error(dotted, f"must be {_type_name(kind())}, got a boolean")
        if not isinstance(value, kind):
            raise self.error(dotted, f"must be {_type_name(kind())}, got {_type_name(value)}")
        return value
