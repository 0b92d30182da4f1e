"""The profile catalog: the Palyra runtimes an operator works with, local or remote.

The file is Palyra's own CLI catalog (``$PALYRA_CLI_PROFILES_PATH``, else
``<state_root>/cli/profiles.toml`` when it exists), so palyra-tui and the
``palyra`` CLI name the same profiles.  Its format::

    version = 1                 # optional; only 1 is known
    default_profile = "staging"

    [profiles.staging]
    daemon_url = "https://gw.example.net:7443"
    strict_mode = true          # switching to it asks for its name
    label = "Staging"           # the rest is optional and derived when absent:
    environment = "production"  #   mode, environment, risk_level, color, label
    risk_level = "high"
    color = "red"

A key the catalog does not know is an error, as in the ``palyra`` CLI: a
typo must not silently drop a safety setting such as ``strict_mode``.  The
built-in profile ``local`` (this machine's runtime) is always there.
"""

from __future__ import annotations

import enum
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from palyra_tui.config.document import parse_toml, shown, shown_key
from palyra_tui.errors import ConfigError
from palyra_tui.text import visible

LOCAL = "local"
"""The built-in profile: the runtime this machine's palyra-tui supervises."""
CATALOG_ENV = "PALYRA_CLI_PROFILES_PATH"
PROFILE_KEYS = frozenset(
    {
        "config_path",
        "state_root",
        "daemon_url",
        "label",
        "environment",
        "color",
        "risk_level",
        "strict_mode",
        "mode",
        "last_used_at_unix_ms",
        # Written by the ``palyra`` CLI; the admin token is never taken from the catalog
        # (palyra-tui keeps it in its secret store: ``palyra-tui profile token NAME``).
        "grpc_url",
        "admin_token",
        "admin_token_env",
        "principal",
        "device_id",
        "channel",
        "created_at_unix_ms",
        "updated_at_unix_ms",
    }
)
TOP_KEYS = frozenset({"version", "default_profile", "profiles"})
MAX_NAME = 64
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_")

E = TypeVar("E", bound=enum.Enum)


class ProfileMode(enum.Enum):
    """Where the profile's gateway runs."""

    LOCAL = "local"
    """On this machine, supervised here."""
    REMOTE = "remote"
    """Elsewhere: reached over the network, never supervised here."""


class RiskLevel(enum.Enum):
    """How careful the operator must be on this profile."""

    LOW = "low"
    MEDIUM = "medium"
    ELEVATED = "elevated"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Profile:
    """One profile, with the derived values filled in."""

    name: str
    label: str
    mode: ProfileMode
    environment: str
    risk_level: RiskLevel
    color: str
    strict_mode: bool = False
    daemon_url: str = ""
    config_path: str = ""
    state_root: str = ""
    grpc_url: str = ""
    """The gateway's gRPC endpoint, when it is not at ``daemon_url``."""
    principal: str = ""
    device_id: str = ""

    @property
    def builtin(self) -> bool:
        """True for the built-in local profile."""
        return self.name == LOCAL


LOCAL_PROFILE = Profile(
    name=LOCAL,
    label="Local",
    mode=ProfileMode.LOCAL,
    environment="local",
    risk_level=RiskLevel.LOW,
    color="emerald",
)


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every profile (the built-in one first) and the catalog's default."""

    profiles: tuple[Profile, ...] = (LOCAL_PROFILE,)
    default_profile: str = ""
    source: str = ""
    """The file the catalog came from ("" when there is none)."""

    def get(self, name: str) -> Profile | None:
        """The profile ``name``, if the catalog has it."""
        return next((p for p in self.profiles if p.name == name), None)

    def active(self, remembered: str) -> Profile:
        """The profile to use: the one remembered if it is still there, else the
        catalog's default, else the built-in one."""
        for name in (remembered, self.default_profile, LOCAL):
            found = self.get(name) if name else None
            if found is not None:
                return found
        return self.profiles[0]


class SwitchRefused(ConfigError):
    """A profile switch that must not happen, with the sentence that says why."""


def catalog_path(state_root: Path, environ: Mapping[str, str] | None = None) -> Path | None:
    """Where the catalog is: the environment's path (blank: none), else the state root's
    file when it exists."""
    env = os.environ if environ is None else environ
    if CATALOG_ENV in env:
        given = env[CATALOG_ENV].strip()
        return Path(given) if given else None
    default = state_root / "cli" / "profiles.toml"
    return default if default.is_file() else None


def load_catalog(state_root: Path, environ: Mapping[str, str] | None = None) -> Catalog:
    """The catalog for ``state_root`` (blocking: reads a file); raises ConfigError with
    one sentence naming the file and the key."""
    path = catalog_path(state_root, environ)
    if path is None:
        return Catalog()
    source = visible(str(path))
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if CATALOG_ENV in (os.environ if environ is None else environ):
            raise ConfigError(f"{source}: the profile catalog does not exist") from None
        return Catalog()
    except OSError as error:
        raise ConfigError(f"{source}: cannot read the profile catalog: {error.strerror}") from None
    return parse_catalog(parse_toml(raw, source), source)


def parse_catalog(document: Mapping[str, Any], source: str) -> Catalog:
    """The catalog a parsed TOML document describes."""
    _known(document, TOP_KEYS, source, "")
    version = document.get("version", 1)
    if version != 1 or isinstance(version, bool):
        raise ConfigError(f"{source}: version must be 1, not {shown(version)}")
    default = _text(document, "default_profile", source, "")
    tables = document.get("profiles", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{source}: profiles must be a table of profiles")
    profiles = [LOCAL_PROFILE]
    for name, table in tables.items():
        where = f"profiles.{shown_key(name)}"
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: {where} must be a table")
        if name == LOCAL:
            raise ConfigError(f"{source}: {where}: the name {LOCAL!r} is the built-in profile")
        profiles.append(_profile(name, table, source, where))
    return Catalog(tuple(profiles), default, source)


def _profile(name: str, table: Mapping[str, Any], source: str, where: str) -> Profile:
    _known(table, PROFILE_KEYS, source, where)
    if not _valid_name(name):
        raise ConfigError(
            f"{source}: {where}: a profile name is 1 to 64 lowercase ASCII letters, digits, "
            "'.', '-' or '_' (not only dots), as the palyra CLI names them"
        )
    daemon_url = _text(table, "daemon_url", source, where)
    strict = table.get("strict_mode", False)
    if not isinstance(strict, bool):
        raise ConfigError(f"{source}: {where}.strict_mode must be true or false")
    local_url = not daemon_url or is_loopback_url(daemon_url)
    mode = _choice(table, "mode", ProfileMode, source, where)
    if mode is None:
        mode = ProfileMode.LOCAL if local_url else ProfileMode.REMOTE
    risk = _choice(table, "risk_level", RiskLevel, source, where)
    if risk is None:
        risk = (
            RiskLevel.HIGH
            if strict
            else RiskLevel.ELEVATED
            if mode is ProfileMode.REMOTE
            else RiskLevel.LOW
        )
    environment = _text(table, "environment", source, where) or (
        "production" if strict or mode is ProfileMode.REMOTE else "local"
    )
    color = _text(table, "color", source, where) or _color(risk)
    return Profile(
        name=name,
        label=_text(table, "label", source, where) or name,
        mode=mode,
        environment=environment,
        risk_level=risk,
        color=color,
        strict_mode=strict,
        daemon_url=daemon_url,
        config_path=_text(table, "config_path", source, where),
        state_root=_text(table, "state_root", source, where),
        grpc_url=_text(table, "grpc_url", source, where),
        principal=_text(table, "principal", source, where),
        device_id=_text(table, "device_id", source, where),
    )


def is_loopback_url(url: str) -> bool:
    """True when ``url``'s host is ``localhost`` or a loopback address.  The host is parsed:
    ``https://127.0.0.1.example.net`` is another machine, whatever its name contains."""
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _valid_name(name: str) -> bool:
    """The palyra CLI's rule, and no name of dots only: a name is also a directory
    (``profiles/<name>/runtime``), which must stay inside the state root."""
    allowed = all(c in _NAME_CHARACTERS for c in name)
    return 0 < len(name) <= MAX_NAME and allowed and name.strip(".") != ""


def _color(risk: RiskLevel) -> str:
    if risk in (RiskLevel.CRITICAL, RiskLevel.HIGH):
        return "red"
    if risk in (RiskLevel.ELEVATED, RiskLevel.MEDIUM):
        return "amber"
    return "emerald"


def _known(table: Mapping[str, Any], known: frozenset[str], source: str, where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        at = f"{where}." if where else ""
        raise ConfigError(f"{source}: unknown key {at}{shown_key(unknown[0])}")


def _text(table: Mapping[str, Any], key: str, source: str, where: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        at = f"{where}." if where else ""
        raise ConfigError(f"{source}: {at}{key} must be text, not {shown(value)}")
    return value.strip()


def _choice(table: Mapping[str, Any], key: str, kind: type[E], source: str, where: str) -> E | None:
    text = _text(table, key, source, where)
    if not text:
        return None
    try:
        return kind(text.lower())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ConfigError(f"{source}: {where}.{key} must be one of {allowed}") from None


def check_switch(catalog: Catalog, current: str, target: str, confirmation: str = "") -> Profile:
    """The profile to switch to, or SwitchRefused saying why not: a blank or unknown name,
    the profile already in use, or a strict profile whose name was not typed to confirm."""
    name = target.strip()
    if not name:
        raise SwitchRefused("name the profile to switch to")
    profile = catalog.get(name)
    if profile is None:
        raise SwitchRefused(f"the profile {visible(name)!r} is not available")
    if name == current:
        raise SwitchRefused(f"already using the profile {visible(name)!r}")
    if profile.strict_mode and confirmation.strip() != name:
        raise SwitchRefused(
            f"the profile {visible(name)!r} is strict: type its name to confirm the switch"
        )
    return profile
