"""The profile a runtime serves, as the UI and the headless commands see it.

The catalog (``config/profiles.py``) says which profiles exist; the state
file remembers which one is active.  The runtime resolves the active profile
from both when it opens and hands it out as a :class:`ProfileInfo`.  A
switch stops the local services and never starts them again: the operator
does, once sure of where they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from palyra_tui.config.profiles import (
    LOCAL_PROFILE,
    Catalog,
    Profile,
    ProfileMode,
    RiskLevel,
)
from palyra_tui.errors import PalyraError
from palyra_tui.text import sanitize_line

MAX_LABEL = 64


class ProfileRefused(PalyraError):
    """A profile switch that did not happen; the message says why in one sentence."""


@dataclass(frozen=True, slots=True)
class ProfileInfo:
    """One profile of the catalog, with what an operator must see of it."""

    name: str = LOCAL_PROFILE.name
    label: str = LOCAL_PROFILE.label
    mode: ProfileMode = ProfileMode.LOCAL
    environment: str = LOCAL_PROFILE.environment
    risk_level: RiskLevel = RiskLevel.LOW
    color: str = LOCAL_PROFILE.color
    strict: bool = False
    """Switching to it asks for its name, typed."""
    address: str = ""
    """Where a remote profile's gateway is (scheme, host and port of its URL)."""

    @classmethod
    def of(cls, profile: Profile) -> ProfileInfo:
        """The info of a catalog profile; the catalog is a file: its text is cleaned."""

        def clean(text: str) -> str:
            return sanitize_line(text).strip()[:MAX_LABEL]

        return cls(
            name=profile.name,
            label=clean(profile.label) or profile.name,
            mode=profile.mode,
            environment=clean(profile.environment),
            risk_level=profile.risk_level,
            color=clean(profile.color),
            strict=profile.strict_mode,
            address=url_address(profile.daemon_url),
        )

    @property
    def remote(self) -> bool:
        """True when the profile's gateway runs elsewhere."""
        return self.mode is ProfileMode.REMOTE

    def describe(self) -> str:
        """``Staging (production, high risk, strict)``: the label with what matters."""
        facts = [self.environment, f"{self.risk_level.value} risk"]
        if self.remote:
            facts.append("remote")
        if self.strict:
            facts.append("strict")
        return f"{self.label} ({', '.join(f for f in facts if f)})"


def url_address(url: str) -> str:
    """``https://gw.example.net:7443`` of a URL: no user name, password, path or query."""
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return ""
    if not host:
        return ""
    shown = f"[{host}]" if ":" in host else host
    scheme = f"{parts.scheme}://" if parts.scheme else ""
    return sanitize_line(f"{scheme}{shown}" + (f":{port}" if port else ""))


def not_supervised(info: ProfileInfo) -> str:
    """Why nothing starts for a remote profile, in one sentence."""
    where = f" at {info.address}" if info.address else " elsewhere"
    return (
        f"remote, not supervised: the profile {info.name!r} uses the gateway{where}; "
        "no local service starts for it"
    )


def catalog_infos(catalog: Catalog) -> tuple[ProfileInfo, ...]:
    """Every profile of the catalog, the built-in one first."""
    return tuple(ProfileInfo.of(profile) for profile in catalog.profiles)


PAUSED = "the runtime was paused so the profiles stay apart"


def switched_message(info: ProfileInfo, paused: bool) -> str:
    """What the operator reads after a switch: where they are, and how to go on."""
    text = f"switched to the profile {info.name!r}: {info.describe()}"
    if paused:
        text += f"; {PAUSED}"
    return f"{text}; start it again when ready: 'A' on Health, or palyra-tui start SERVICE"
