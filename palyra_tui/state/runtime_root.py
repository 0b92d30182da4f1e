"""The daemons' directory: the default one, or another the operator chose while onboarding.

The daemons keep their state (vault, identity, journal) in one directory,
``<state root>/tui/runtime`` by default.  Another one must be an absolute
path without ``..``, and must stay inside palyra-tui's state directory
(``<state root>/tui``): the nearest part of it that exists, with symbolic
links resolved, lies there.  A choice equal to the default is kept as no
choice.  The runtime host reads the kept choice when it starts, so the
daemons move with the next host; a kept choice that no longer passes these
rules is ignored.

Everything here touches the file system: run it in a thread.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

from palyra_tui.config import Config
from palyra_tui.config.dirs import private_dir
from palyra_tui.errors import PalyraError
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
    """Check the directory ``text`` names and create it (mode 0700)."""
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
    """``config`` with the daemons' directory the state file keeps for the active profile,
    when there is one and it still passes the rules; read only."""
    try:
        data = read_state_file(state_path(config.state_dir))
        chosen = decode_state(data).state.profile().runtime_root
    except (OSError, ValueError):  # unreadable, corrupt or newer: no choice kept
        return config
    if not chosen:
        return config
    try:
        path = validate_runtime_root(chosen, config.default_runtime_root)
    except RuntimeRootRefused as refused:
        log.warning("the kept directory for the daemons is ignored: %s", refused)
        return config
    if path == config.default_runtime_root:
        return config
    return replace(config, runtime_override=path)


def _nearest_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    current = path
    while not current.exists() and current.parent != current:
        current = current.parent
    return current
