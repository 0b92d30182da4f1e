"""Directories palyra-tui creates: every one of them private to the operator.

``Path.mkdir(parents=True, mode=0o700)`` gives the mode to the last directory
only; the parents it creates get the umask's default (usually 0755), which
would let other users list the state root.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR = 0o700


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
