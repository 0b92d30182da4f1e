"""The fallback store: one JSON file that only its owner can read.

``<state_root>/tui/secrets/tokens.json``, mode 0600 in a 0700 directory, written
whole to a temporary file and renamed over the old one.  The tokens are plain
text inside it: the file's permissions are the whole protection.  That keeps
other users of the machine out, and nothing else: root, any program running as
the same user, and every backup or copy of the disk can read them.  Encrypting
the file would change nothing while the key has to sit next to it.

A file or directory that someone else owns, that others may read, or that is a
symbolic link is refused rather than repaired, with the command that fixes it.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from palyra_tui.config.atomic import write_atomic
from palyra_tui.config.dirs import private_dir
from palyra_tui.errors import SecretStoreError

FILE_NAME = "tokens.json"
MAX_FILE_BYTES = 64 * 1024
PRIVATE_FILE = 0o600


def check_private_dir(directory: Path) -> None:
    """Refuse ``directory`` unless it is a real directory of ours that others cannot enter."""
    try:
        info = os.lstat(directory)
    except OSError as error:
        raise SecretStoreError(
            f"cannot inspect the secret directory {directory}: {error.strerror}"
        ) from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise SecretStoreError(
            f"the secret directory {directory} is not a directory (or is a symbolic link): "
            "remove it and start again"
        )
    _check_owner_and_mode(directory, info, 0o700, "directory")


def _check_owner_and_mode(path: Path, info: os.stat_result, mode: int, what: str) -> None:
    uid = os.geteuid()
    if info.st_uid != uid:
        raise SecretStoreError(
            f"the secret {what} {path} belongs to uid {info.st_uid}, not to you (uid {uid})"
        )
    actual = stat.S_IMODE(info.st_mode)
    if actual & 0o077:
        raise SecretStoreError(
            f"the secret {what} {path} has mode {actual:04o}, open to other users: "
            f"run `chmod {mode:o} {path}` and start again"
        )


class FileStore:
    """The tokens of one state root in ``<directory>/tokens.json``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / FILE_NAME

    def read(self) -> dict[str, str]:
        """Every stored value by name; empty when there is no file yet."""
        if not os.path.lexists(self.directory):
            return {}
        check_private_dir(self.directory)
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return {}
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise SecretStoreError(
                    f"the secret file {self.path} is a symbolic link: remove it and start again"
                ) from None
            raise SecretStoreError(
                f"cannot read the secret file {self.path}: {error.strerror}"
            ) from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise SecretStoreError(f"the secret file {self.path} is not a regular file")
            _check_owner_and_mode(self.path, info, PRIVATE_FILE, "file")
            data = os.read(fd, MAX_FILE_BYTES + 1)
        except OSError as error:
            raise SecretStoreError(
                f"cannot read the secret file {self.path}: {error.strerror}"
            ) from None
        finally:
            os.close(fd)
        return self._parse(data)

    def _parse(self, data: bytes) -> dict[str, str]:
        broken = SecretStoreError(
            f"the secret file {self.path} is damaged: remove it, and palyra-tui creates new "
            "tokens (a gateway that runs keeps the old ones until it restarts)"
        )
        if len(data) > MAX_FILE_BYTES:
            raise broken
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise broken from None
        if not isinstance(document, dict):
            raise broken
        return {key: value for key, value in document.items() if isinstance(value, str)}

    def write(self, values: Mapping[str, str]) -> None:
        """Replace the file with ``values``: a new 0600 file renamed over the old one."""
        try:
            private_dir(self.directory)
        except OSError as error:
            raise SecretStoreError(
                f"cannot create the secret directory {self.directory}: {error.strerror}"
            ) from None
        check_private_dir(self.directory)
        data = json.dumps(dict(sorted(values.items())), indent=2).encode("utf-8") + b"\n"
        write_private(self.path, data)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically as a 0600 file: a crash leaves the old file or
    the new one, never a part."""
    try:
        write_atomic(path, data, PRIVATE_FILE)
    except OSError as error:
        raise SecretStoreError(f"cannot write {path}: {error.strerror}") from None
