"""The daemons' directory: the default one, or another the operator chose while onboarding.

The daemons keep their state (vault, identity, journal) in one directory,
``<state root>/tui/runtime`` by default.  Another one must be an absolute
path without ``..``, and must stay inside palyra-tui's state directory
(``<state root>/tui``): the nearest part of it that exists, with symbolic
links resolved, lies there.  A choice equal to the default is kept as no
choice.  The runtime host reads the kept choice when it starts, so the
daemons move with the next host; a kept choice that no longer passes these
rules is ignored.  The choice is kept per profile, and each profile has its own
default: the built-in profile's is ``<state root>/tui/runtime``; another's is its
catalog ``state_root``, else ``<state root>/tui/profiles/<name>/runtime``.

Everything here touches the file system: run it in a thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import replace
from pathlib import Path

from palyra_tui.config import Config
from palyra_tui.config.dirs import private_dir
from palyra_tui.config.profiles import Catalog, Profile, load_catalog
from palyra_tui.errors import ConfigError, PalyraError
from palyra_tui.state.persisted import PersistedState
from palyra_tui.state.persisted_json import decode_state
from palyra_tui.state.state_file import read_state_file, state_path
from palyra_tui.text import sanitize_line

log = logging.getLogger(__name__)


class RuntimeRootRefused(PalyraError):
    """A directory for the daemons that breaks the rules; the message says which."""


def validate_runtime_root(text: str, default: Path) -> Path:
    """The directory ``text`` names, checked; ``default`` for a blank one.

    Raises :class:`RuntimeRootRefused` with one sentence.
    """
    cleaned = text.strip()
    if not cleaned:
        return default
    shown = sanitize_line(cleaned)
    path = Path(os.path.expanduser(cleaned))
    if not path.is_absolute():
        raise RuntimeRootRefused(f"the daemons' directory must be an absolute path, not {shown}")
    if ".." in path.parts:
        raise RuntimeRootRefused(
            f"the daemons' directory must not contain parent traversal (..): {shown}"
        )
    allowed = default.parent
    try:
        inside = _nearest_existing(path).resolve(strict=True)
        home = allowed.resolve(strict=True)
    except OSError as error:
        raise RuntimeRootRefused(
            f"the daemons' directory {shown} cannot be checked: {error.strerror or error}"
        ) from None
    if inside != home and home not in inside.parents:
        raise RuntimeRootRefused(
            f"the daemons' directory must stay within palyra-tui's state directory {allowed}"
        )
    return path


def prepare_runtime_root(text: str, default: Path) -> Path:
    """Check the directory ``text`` names and create it (mode 0700).  The directory the
    choice must stay in (a profile's own, ``<state_root>/tui/profiles/<name>``) is created
    first, when it is missing."""
    with contextlib.suppress(OSError, PalyraError):
        private_dir(default.parent)
    path = validate_runtime_root(text, default)
    try:
        private_dir(path)
    except (OSError, PalyraError) as error:
        why = error.strerror if isinstance(error, OSError) else str(error)
        raise RuntimeRootRefused(
            f"the daemons' directory {path} cannot be created: {why}"
        ) from None
    return path


def kept_runtime_root(config: Config) -> Config:
    """``config`` with the daemons' directory of the active profile (resolved from the
    catalog and the state file as the runtime resolves it), and the choice the state file
    keeps for that profile when there is one that still passes the rules; read only."""
    try:
        state: PersistedState | None = decode_state(
            read_state_file(state_path(config.state_dir))
        ).state
    except FileNotFoundError:
        state = None
    except (OSError, ValueError):  # unreadable, corrupt or newer: no choice kept
        return config
    try:
        catalog = load_catalog(config.state_root)
    except ConfigError:
        catalog = Catalog()
    profile = catalog.active(state.active_profile if state is not None else "")
    chosen = state.profile(profile.name).runtime_root if state is not None else ""
    found = runtime_for(config, profile, chosen)
    return config if found == config else found


def runtime_for(config: Config, profile: Profile, chosen: str) -> Config:
    """``config`` with the daemons' directory of ``profile``: ``chosen`` (the operator's
    choice during onboarding) when it passes the rules, else the profile's default."""
    base = replace(
        config,
        profile_runtime_root=profile_default_root(config, profile),
        runtime_override=None,
        profile_env=profile_env(profile),
    )
    if not chosen:
        return base
    try:
        path = validate_runtime_root(chosen, base.default_runtime_root)
    except RuntimeRootRefused as refused:
        log.warning("the kept directory for the daemons is ignored: %s", refused)
        return base
    if path == base.default_runtime_root:
        return base
    return replace(base, runtime_override=path)


def profile_env(profile: Profile) -> tuple[tuple[str, str], ...]:
    """What the services are told of a catalog profile: its name (``PALYRA_CLI_PROFILE``,
    which the ``palyra`` CLI reads) and its config file (``PALYRA_CONFIG``).  The built-in
    profile adds nothing, so a ``PALYRA_CONFIG`` set by the operator is kept."""
    if profile.builtin:
        return ()
    env = [("PALYRA_CLI_PROFILE", profile.name)]
    if profile.config_path:
        env.append(("PALYRA_CONFIG", os.path.expanduser(profile.config_path)))
    return tuple(env)


def profile_default_root(config: Config, profile: Profile) -> Path | None:
    """A profile's default directory for the daemons: the built-in profile's is
    ``<state_root>/tui/runtime`` (None); another's is its catalog ``state_root`` when that
    is absolute, else ``<state_root>/tui/profiles/<name>/runtime``."""
    if profile.builtin:
        return None
    if profile.state_root:
        given = Path(os.path.expanduser(profile.state_root))
        if given.is_absolute() and ".." not in given.parts:
            return given
        log.warning(
            "the profile %s: its state_root must be an absolute path; the default is used",
            profile.name,
        )
    return config.state_dir / "profiles" / profile.name / "runtime"


def _nearest_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    current = path
    while not current.exists() and current.parent != current:
        current = current.parent
    return current
