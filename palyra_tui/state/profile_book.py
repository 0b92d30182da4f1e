"""The runtime's profile catalog and the profile it serves.

The catalog is read (in a thread) when the runtime opens and again before
every switch, so a profile added to the file can be switched to without a
restart.  A catalog that cannot be read leaves the runtime on the built-in
profile at open, and refuses a switch with the file's sentence.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from palyra_tui.config.profiles import Catalog, Profile, SwitchRefused, check_switch, load_catalog
from palyra_tui.errors import ConfigError
from palyra_tui.models import ServiceState, SupervisorSnapshot
from palyra_tui.state.persisted import DEFAULT_PROFILE, normalise
from palyra_tui.state.persisted_json import decode_state
from palyra_tui.state.profiles import ProfileInfo, ProfileRefused, catalog_infos
from palyra_tui.state.state_file import load_state, read_state_file, reason, state_path, write_state
from palyra_tui.supervisor.lock import InstanceLock

log = logging.getLogger(__name__)

_AT_REST = frozenset({ServiceState.STOPPED, ServiceState.EXITED, ServiceState.FAILED})


class ProfileBook:
    """The catalog of one state root and its active profile."""

    def __init__(self, state_root: Path, environ: Mapping[str, str] | None = None) -> None:
        self.state_root = state_root
        self._environ = environ
        self.catalog = Catalog()
        self.active: Profile = self.catalog.active("")
        self.problem = ""
        """Why the catalog could not be read at open ("" when it could)."""

    @property
    def info(self) -> ProfileInfo:
        """The active profile, as the view shows it."""
        return ProfileInfo.of(self.active)

    @property
    def infos(self) -> tuple[ProfileInfo, ...]:
        """Every profile of the catalog."""
        return catalog_infos(self.catalog)

    async def open(self, remembered: str) -> Profile:
        """Read the catalog and resolve the active profile: ``remembered`` if the catalog
        has it, else the catalog's default, else the built-in one."""
        try:
            self.catalog = await asyncio.to_thread(load_catalog, self.state_root, self._environ)
        except ConfigError as error:
            self.problem = str(error)
            log.warning("the profile catalog is not used: %s", error)
        self.active = self.catalog.active(remembered)
        return self.active

    async def check(self, name: str, confirmation: str) -> Profile | None:
        """The profile to switch to (the catalog read again), None when it is the active
        one; raises ProfileRefused with the sentence that says why not."""
        try:
            catalog = await asyncio.to_thread(load_catalog, self.state_root, self._environ)
        except ConfigError as error:
            raise ProfileRefused(f"cannot switch profiles: {error}") from None
        self.catalog = catalog
        again = catalog.get(name.strip()) if name.strip() == self.active.name else None
        if again is not None:
            self.active = again  # as the file says now: its addresses may have changed
            return None
        try:
            return check_switch(catalog, self.active.name, name, confirmation)
        except SwitchRefused as refused:
            raise ProfileRefused(str(refused)) from None

    def activate(self, profile: Profile) -> None:
        """``profile`` is the active one now."""
        self.active = profile


def running(snapshot: SupervisorSnapshot) -> bool:
    """True when a local service runs or is wanted (a switch then pauses the runtime)."""
    return any(s.desired or s.state not in _AT_REST for s in snapshot.services)


@dataclass(frozen=True, slots=True)
class AtRest:
    """The profiles of a state root no runtime serves, as its next start would see them."""

    profile: ProfileInfo
    profiles: tuple[ProfileInfo, ...]


def profiles_at_rest(state_root: Path, state_dir: Path) -> AtRest:
    """The catalog and the profile the next runtime would open on (blocking: reads files;
    raises ConfigError for a catalog that cannot be used)."""
    catalog = load_catalog(state_root)
    active = catalog.active(_remembered(state_dir))
    return AtRest(ProfileInfo.of(active), catalog_infos(catalog))


def switch_at_rest(state_root: Path, state_dir: Path, name: str, confirmation: str) -> str:
    """Make ``name`` the profile the next runtime opens on, with the state root's instance
    lock held so that none starts meanwhile (blocking).  Raises ProfileRefused, or
    InstanceLocked when something supervises the state root."""
    try:
        catalog = load_catalog(state_root)
    except ConfigError as error:
        raise ProfileRefused(f"cannot switch profiles: {error}") from None
    with InstanceLock(state_dir):
        path = state_path(state_dir)
        current = catalog.active(_remembered(state_dir))
        loaded = load_state(path, time.time())
        if name.strip() and name.strip() == current.name:
            return f"already using the profile {current.name!r}"
        try:
            target = check_switch(catalog, current.name, name, confirmation)
        except SwitchRefused as refused:
            raise ProfileRefused(str(refused)) from None
        if not loaded.writable:
            raise ProfileRefused(loaded.notice or f"the state file {path} cannot be written")
        state = normalise(replace(loaded.state, active_profile=target.name))
        try:
            write_state(path, state)
        except OSError as error:
            raise ProfileRefused(
                f"the state file {path} cannot be written: {reason(error)}"
            ) from None
    return (
        f"switched to the profile {target.name!r}: {ProfileInfo.of(target).describe()}; "
        "no runtime is running, and the next start opens on it"
    )


def _remembered(state_dir: Path) -> str:
    """The active profile the state file keeps ("" when there is no file or it is unreadable)."""
    try:
        data = read_state_file(state_path(state_dir))
        return decode_state(data).state.active_profile
    except FileNotFoundError:
        return ""
    except (OSError, ValueError):
        return DEFAULT_PROFILE
