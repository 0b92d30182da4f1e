"""Writing a support bundle: one ``.tar.gz``, private from its creation, there whole or not
at all, never in place of another file.

tar.gz rather than zip: a tar member keeps its mode, so every file extracted from the
bundle is 0600 like the bundle itself (zip keeps Unix modes only in an extension that
many tools ignore); and it is what ``tar xzf`` opens on any machine that runs Palyra.

The archive is written to a temp file in the target directory, created with ``O_EXCL``
and mode 0600 (never chmod'ed), synced, then hard-linked to its name, which fails
instead of replacing a file that is there, and the temp name is removed.  A failure
(a full disk, a read-only directory) removes the temp file and raises one sentence.
Everything here blocks: run it in a thread.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
import tarfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from palyra_tui.config.atomic import fsync_directory
from palyra_tui.config.dirs import os_reason, private_dir
from palyra_tui.models.bundle import SupportBundle
from palyra_tui.state.runtime_api import BundleExists, BundleFailed

SUFFIX = ".tar.gz"
BUNDLE_DIR = "support-bundles"
"""The default directory, under palyra-tui's state directory (created 0700)."""
SAME_SECOND = 100
"""Names tried for bundles of the same second (``…Z.tar.gz``, ``…Z-2.tar.gz``, …)."""
PRIVATE = 0o600
PRIVATE_DIR = 0o700
COMPRESS_LEVEL = 6
"""Level 9 costs about twice the CPU for a few percent less on log text."""

Member = tuple[str, Callable[[], str]]
"""A member's name and what renders its text."""

_NO_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS})


def bundle_stem(at: float) -> str:
    """``support-bundle-20261203T110040Z``: the archive's name and its top directory."""
    return time.strftime("support-bundle-%Y%m%dT%H%M%SZ", time.gmtime(at))


def write_bundle(
    state_dir: Path,
    requested: str,
    members: Sequence[Member],
    scrub: Callable[[str], str],
    created_at: float,
) -> SupportBundle:
    """Write the archive to ``requested`` (an absolute path of a new file, or an existing
    directory), or under ``state_dir/support-bundles`` (""); returns what was written."""
    stem = bundle_stem(created_at)
    explicit = False
    if requested:
        path = Path(requested)
        if not path.is_absolute():
            raise BundleFailed(
                f"no support bundle was written: {requested} is not an absolute path"
            )
        if path.is_dir():
            directory, names = path, _default_names(stem)
        elif os.path.lexists(path):
            raise _exists(path)
        else:
            directory, names, explicit = path.parent, [path.name], True
    else:
        directory = state_dir / BUNDLE_DIR
        try:
            private_dir(directory)
        except OSError as error:
            raise _failed(directory, error) from None
        names = _default_names(stem)
    temp, size, written = _write_temp(directory, stem, members, scrub, created_at)
    try:
        final = _publish(temp, directory, names, explicit)
        fsync_directory(directory)
    except OSError as error:
        raise _failed(directory, error) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    return SupportBundle(str(final), size, written)


def _default_names(stem: str) -> list[str]:
    return [f"{stem}{SUFFIX}", *(f"{stem}-{n}{SUFFIX}" for n in range(2, SAME_SECOND + 1))]


def _write_temp(
    directory: Path,
    stem: str,
    members: Sequence[Member],
    scrub: Callable[[str], str],
    created_at: float,
) -> tuple[Path, int, tuple[str, ...]]:
    """The whole archive in a new private temp file of ``directory``, synced."""
    temp = directory / f".{stem}.tmp-{secrets.token_hex(6)}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        fd = os.open(temp, flags, PRIVATE)
    except OSError as error:
        raise _failed(directory, error) from None
    written: list[str] = []
    try:
        try:
            with (
                open(fd, "wb", closefd=False) as raw,
                tarfile.open(
                    fileobj=raw,
                    mode="w:gz",
                    format=tarfile.PAX_FORMAT,
                    compresslevel=COMPRESS_LEVEL,
                ) as archive,
            ):
                folders: set[str] = set()
                for name, render in members:
                    _add_folders(archive, f"{stem}/{name}", folders, created_at)
                    data = scrub(render()).encode("utf-8", errors="replace")
                    info = tarfile.TarInfo(f"{stem}/{name}")
                    info.size = len(data)
                    info.mode = PRIVATE
                    info.mtime = int(created_at)
                    archive.addfile(info, io.BytesIO(data))
                    written.append(info.name)
            os.fsync(fd)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(error, OSError):
            raise _failed(directory, error) from None
        raise
    return temp, size, tuple(written)


def _add_folders(archive: tarfile.TarFile, name: str, added: set[str], created_at: float) -> None:
    """The directories above ``name`` that are not in the archive yet, each 0700, so that
    extracting the bundle makes no folder others can read."""
    parts = name.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        folder = "/".join(parts[:depth])
        if folder in added:
            continue
        added.add(folder)
        info = tarfile.TarInfo(folder)
        info.type = tarfile.DIRTYPE
        info.mode = PRIVATE_DIR
        info.mtime = int(created_at)
        archive.addfile(info)


def _publish(temp: Path, directory: Path, names: list[str], explicit: bool) -> Path:
    """Give the temp file the first free name of ``names``; a name that is taken is never
    replaced (BundleExists for the one name asked for)."""
    for name in names:
        final = directory / name
        try:
            os.link(temp, final, follow_symlinks=False)
            return final
        except FileExistsError:
            if explicit:
                raise _exists(final) from None
        except OSError as error:
            if error.errno not in _NO_LINKS:
                raise
            # A file system without hard links: check, then rename (a file that appears
            # between the two is replaced, the one case this cannot rule out).
            if os.path.lexists(final):
                if explicit:
                    raise _exists(final) from None
                continue
            os.rename(temp, final)
            return final
    raise BundleFailed(
        f"no support bundle was written: {directory} already holds {len(names)} bundles "
        "of this second"
    )


def _exists(path: Path) -> BundleExists:
    return BundleExists(
        f"no support bundle was written: {path} already exists, and a bundle never replaces "
        "a file; name a new file, or leave the path out"
    )


def _failed(directory: Path, error: OSError) -> BundleFailed:
    return BundleFailed(
        f"no support bundle was written: cannot write in {directory}: {os_reason(error)}"
    )
