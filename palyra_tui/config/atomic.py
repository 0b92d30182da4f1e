"""Replacing a file so that a crash leaves the old one or the new one, never a part.

The state file and the secret store's files are written this way: a temp file
beside the target, synced, renamed over it, and the directory synced so the
rename itself survives a power cut.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from palyra_tui.config.dirs import private_dir

PRIVATE_FILE = 0o600


def write_atomic(path: Path, data: bytes, mode: int = PRIVATE_FILE) -> None:
    """Write ``data`` to a temp file beside ``path`` (``.<name>.tmp-…``), fsync it, rename it
    over ``path``, fsync the directory (created 0700 if missing).  On failure the temp file
    is removed and ``path`` is untouched; raises OSError."""
    private_dir(path.parent)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
