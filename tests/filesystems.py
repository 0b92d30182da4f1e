"""Real file systems that refuse writes: a read-only mount and a full disk.

A tmpfs of a few kilobytes stands for a full disk.  Mounting needs root (or
CAP_SYS_ADMIN); where it is not permitted the test is skipped and says why.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    """Mount a tmpfs with ``options`` on ``path`` (created) for the block."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        pytest.skip("mounting a tmpfs is not possible here: there is no mount command")
    if mounted.returncode != 0:
        pytest.skip(
            "mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN): "
            + mounted.stderr.strip()
        )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def full_disk(path: Path) -> Iterator[Path]:
    """A directory on a 64 KiB tmpfs whose every block is taken (writes fail with ENOSPC)."""
    with tmpfs(path, "size=64k,mode=0700") as mount:
        fd = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)
        yield mount


@contextlib.contextmanager
def unwritable(path: Path) -> Iterator[Path]:
    """A directory nobody can create anything in: mode 0500, or a read-only mount for root."""
    if os.geteuid() != 0:
        path.mkdir(parents=True)
        path.chmod(0o500)
        try:
            yield path
        finally:
            path.chmod(0o700)
        return
    with tmpfs(path, "ro,size=64k,mode=0700") as mount:
        yield mount
