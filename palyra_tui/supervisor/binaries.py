"""Find the binaries of the built-in daemons.

Order (the desktop companion's order, with PATH added):

1. the ``PALYRA_DESKTOP_*_BIN`` override, which must be an absolute path to a
   regular file (a blank value is ignored);
2. the configured command's first word (absolute, or looked up on PATH);
3. a file of that name next to the installed ``palyra-tui``;
4. ``PATH``.

The node host runs the ``palyra`` CLI (the desktop, by mistake, looks for a
file called ``palyra node host``).
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from palyra_tui.errors import BinaryNotFound
from palyra_tui.models import ServiceKind

BINARY_NAMES: dict[ServiceKind, str] = {
    ServiceKind.GATEWAY: "palyrad",
    ServiceKind.BROWSERD: "palyra-browserd",
    ServiceKind.NODE_HOST: "palyra",
}

OVERRIDE_ENV: dict[ServiceKind, str] = {
    ServiceKind.GATEWAY: "PALYRA_DESKTOP_PALYRAD_BIN",
    ServiceKind.BROWSERD: "PALYRA_DESKTOP_BROWSERD_BIN",
    ServiceKind.NODE_HOST: "PALYRA_DESKTOP_PALYRA_BIN",
}


@functools.cache
def install_dirs() -> tuple[Path, ...]:
    """Directories that hold the installed ``palyra-tui`` launcher (fixed for a process)."""
    dirs: list[Path] = []
    script = shutil.which("palyra-tui")
    if script:
        dirs.append(Path(script).resolve().parent)
    dirs.append(Path(sys.executable).parent)
    unique: list[Path] = []
    for entry in dirs:
        if entry not in unique:
            unique.append(entry)
    return tuple(unique)


def resolve_builtin(
    kind: ServiceKind,
    configured: str | None,
    environ: Mapping[str, str],
    search_dirs: tuple[Path, ...] | None = None,
) -> Path:
    """Return the absolute path of the binary for ``kind`` or raise :class:`BinaryNotFound`."""
    name = BINARY_NAMES[kind]
    env_name = OVERRIDE_ENV[kind]
    override = environ.get(env_name, "").strip()
    if override:
        return _checked_override(env_name, override)
    if configured:
        return resolve_command(configured, environ)
    for directory in search_dirs if search_dirs is not None else install_dirs():
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate.resolve()
    found = shutil.which(name, path=environ.get("PATH", os.defpath))
    if found:
        return Path(found).resolve()
    raise BinaryNotFound(
        f"cannot find '{name}': install Palyra or set {env_name}, or try `palyra-tui demo`"
    )


def resolve_command(word: str, environ: Mapping[str, str]) -> Path:
    """Resolve the first word of a command: an absolute path, or a name on PATH."""
    try:
        path = Path(word).expanduser()
    except RuntimeError:
        raise BinaryNotFound(f"cannot expand '~' in '{word}'") from None
    if path.is_absolute():
        if not path.exists():
            raise BinaryNotFound(f"'{path}' does not exist")
        if not path.is_file():
            raise BinaryNotFound(f"'{path}' is not a file")
        if not os.access(path, os.X_OK):
            raise BinaryNotFound(f"'{path}' is not executable")
        return path
    if os.sep in word:
        raise BinaryNotFound(f"'{word}' must be an absolute path or a command name on PATH")
    found = shutil.which(word, path=environ.get("PATH", os.defpath))
    if not found:
        raise BinaryNotFound(f"cannot find '{word}' on PATH")
    return Path(found).absolute()


def _checked_override(env_name: str, value: str) -> Path:
    path = Path(value)
    if not path.is_absolute():
        raise BinaryNotFound(f"{env_name} must be an absolute path, got '{value}'")
    try:
        resolved = path.resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        raise BinaryNotFound(
            f"{env_name} points to '{value}', but that file does not exist"
        ) from None
    if not resolved.is_file():
        raise BinaryNotFound(f"{env_name} points to '{value}', but that path is not a file")
    if not os.access(resolved, os.X_OK):
        raise BinaryNotFound(f"{env_name} points to '{value}', but that file is not executable")
    return resolved
