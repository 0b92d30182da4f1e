"""Directories palyra-tui creates: every one of them private to the operator.

``Path.mkdir(parents=True, mode=0o700)`` gives the mode to the last directory
only; the parents it creates get the umask's default (usually 0755), which
would let other users list the state root.
"""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

from palyra_tui.errors import StateRootUnusable

PRIVATE_DIR = 0o700
STATE_KEY_LENGTH = 16


def state_key(state_root: Path) -> str:
    """A short, stable name for a state root: the hash of its resolved path.

    It names the state root where a path would not fit or would say too much:
    the host socket's fallback directory, the keyring entries of its tokens.
    """
    resolved = os.fsencode(state_root.resolve())
    return hashlib.sha256(resolved).hexdigest()[:STATE_KEY_LENGTH]


def private_dir(path: Path) -> Path:
    """Create ``path`` and every missing parent with mode 0700; returns ``path``.

    Directories that already exist are left as they are: they are not ours.
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, PRIVATE_DIR)
        except FileExistsError:
            continue
        os.chmod(directory, PRIVATE_DIR)
    return path


OS_REASONS = {
    errno.ENOSPC: "no space is left on its device",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "it is on a read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "it is a symbolic link",
    errno.ENOENT: "it does not exist",
    errno.ENOTDIR: "it is not a directory",
    errno.ENAMETOOLONG: "the name is too long",
}


def os_reason(error: OSError) -> str:
    """An OSError in a few words a person can act on."""
    return OS_REASONS.get(error.errno or 0, error.strerror or type(error).__name__)


def unusable(root: Path, exc: OSError) -> StateRootUnusable:
    """One sentence saying why ``root`` cannot hold palyra-tui's directory."""
    where = exc.filename if exc.filename is not None else root
    culprit = _not_a_directory(root)
    reasons = {
        errno.ENOTDIR: "it is not a directory"
        if culprit == root
        else f"{culprit} is not a directory",
        errno.EROFS: "it is on a read-only file system",
        errno.EACCES: f"permission denied on {where}",
        errno.EPERM: f"permission denied on {where}",
        errno.ENOSPC: "no space is left on its device",
        errno.EDQUOT: "the disk quota is exceeded",
    }
    reason = reasons.get(exc.errno or 0, f"{exc.strerror or exc} ({where})")
    return StateRootUnusable(f"cannot use the state root {root}: {reason}")


def _not_a_directory(root: Path) -> Path:
    """The first existing path on the way to ``root/tui`` that is not a directory."""
    for path in (*reversed(root.parents), root, root / "tui"):
        if path.exists() and not path.is_dir():
            return path
    return root
