"""Where the runtime host's socket lives, and the checks that keep it private.

``<state_root>/tui/host/host.sock``: beside what the host owns, and as long-lived
as it.  ``$XDG_RUNTIME_DIR`` would be the usual home of a socket, but systemd
removes it when the user's last session ends (unless lingering is on), and
that is exactly the dropped SSH session a detached host must survive: its
socket would vanish while it runs.  The runtime directory is used only when the
state root's path is too long for a socket:
``$XDG_RUNTIME_DIR/palyra-tui/<key>/host.sock``, where ``<key>`` is a short hash
of the resolved state root.  A path longer than the 107 bytes ``sockaddr_un``
holds is skipped; when no candidate fits, :class:`HostPathTooLong` says what to
change.

The socket's directory is what keeps other users out: it is created 0700,
and a directory that exists with another owner, looser permissions, or as a
symbolic link is refused (:class:`HostUnsafeDirectory`) rather than repaired,
because someone else may be waiting inside it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from palyra_tui.config.dirs import private_dir
from palyra_tui.config.dirs import state_key as state_key
from palyra_tui.errors import HostPathTooLong, HostUnsafeDirectory

SOCKET_NAME = "host.sock"
LOCK_NAME = "host.lock"
SUN_PATH_MAX = 107  # bytes of sockaddr_un.sun_path on Linux, less the terminating NUL


@dataclass(frozen=True, slots=True)
class HostPaths:
    """One candidate place for the host: its directory, socket and lock file."""

    directory: Path
    socket: Path
    lock: Path

    @classmethod
    def inside(cls, directory: Path) -> HostPaths:
        """The socket and lock file in ``directory``."""
        return cls(directory, directory / SOCKET_NAME, directory / LOCK_NAME)


def runtime_dir(environ: Mapping[str, str]) -> Path | None:
    """``$XDG_RUNTIME_DIR`` when it is usable: absolute, a directory, ours and private."""
    value = environ.get("XDG_RUNTIME_DIR", "")
    if not value or not os.path.isabs(value):
        return None
    try:
        info = os.stat(value)
    except OSError:
        return None
    private = stat.S_IMODE(info.st_mode) & 0o077 == 0
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or not private:
        return None
    if not os.access(value, os.W_OK | os.X_OK):
        return None
    return Path(value)


def candidates(state_root: Path, environ: Mapping[str, str] | None = None) -> tuple[HostPaths, ...]:
    """Where the host of ``state_root`` may listen, preferred first, each short enough."""
    env = os.environ if environ is None else environ
    places = [HostPaths.inside(state_root.resolve() / "tui" / "host")]
    runtime = runtime_dir(env)
    if runtime is not None:
        places.append(HostPaths.inside(runtime / "palyra-tui" / state_key(state_root)))
    return tuple(place for place in places if fits(place.socket))


def host_paths(state_root: Path, environ: Mapping[str, str] | None = None) -> HostPaths:
    """Where a host for ``state_root`` listens: the first candidate that fits."""
    found = candidates(state_root, environ)
    if not found:
        fallback = state_root.resolve() / "tui" / "host" / SOCKET_NAME
        raise HostPathTooLong(
            f"the runtime host's socket path {fallback} is {len(os.fsencode(fallback))} bytes, "
            f"more than the {SUN_PATH_MAX} a Unix socket allows: set XDG_RUNTIME_DIR "
            "or use a state root with a shorter path"
        )
    return found[0]


def fits(socket: Path) -> bool:
    """True when ``socket`` fits in ``sockaddr_un.sun_path``."""
    return len(os.fsencode(socket)) <= SUN_PATH_MAX


def prepare_directory(paths: HostPaths) -> None:
    """Create the socket's directory 0700 (parents too), then check it is safe to use."""
    private_dir(paths.directory)
    check_directory(paths.directory)


def check_directory(directory: Path) -> None:
    """Refuse a directory another user could enter, or whose parent they could rewrite."""
    uid = os.geteuid()
    info = _lstat(directory)
    if stat.S_ISLNK(info.st_mode):
        raise HostUnsafeDirectory(
            f"the runtime host's directory {directory} is a symbolic link: "
            "remove it and start again"
        )
    if not stat.S_ISDIR(info.st_mode):
        raise HostUnsafeDirectory(f"the runtime host's directory {directory} is not a directory")
    if info.st_uid != uid:
        raise HostUnsafeDirectory(
            f"the runtime host's directory {directory} belongs to uid {info.st_uid}, "
            f"not to you (uid {uid}): remove it and start again"
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise HostUnsafeDirectory(
            f"the runtime host's directory {directory} has mode {mode:04o}, open to other "
            f"users: run `chmod 700 {directory}` and start again"
        )
    parent = _lstat(directory.parent)
    parent_mode = stat.S_IMODE(parent.st_mode)
    if parent.st_uid not in (uid, 0) or (parent_mode & 0o022 and not parent_mode & stat.S_ISVTX):
        raise HostUnsafeDirectory(
            f"the runtime host's directory {directory} sits in {directory.parent}, which other "
            f"users can change (uid {parent.st_uid}, mode {parent_mode:04o}): "
            "make it yours and not writable by others"
        )


def _lstat(path: Path) -> os.stat_result:
    try:
        return os.lstat(path)
    except OSError as error:
        raise HostUnsafeDirectory(
            f"cannot inspect the runtime host's directory {path}: {error.strerror}"
        ) from None
