"""The state file on disk: read once, written atomically, never lost to a bad read.

``<state_root>/tui/state.json``, mode 0600 in the private state directory.

A write is a temp file in the same directory, fsynced, renamed over the file,
then the directory fsynced: a crash at any point leaves either the old file
or the new one, whole.  A temp file a killed writer left behind
(``.state.json.tmp-*``) is swept when the file is next opened.

A file this version cannot read (not JSON, a field of the wrong type, too
large) is renamed to ``state.json.corrupt-<UTC time>``; one from a newer
palyra-tui to ``state.json.newer-v<N>-<UTC time>``.  The renamed copy keeps no
plaintext token an older release wrote into it (they are removed), or, when
it is no JSON object, is made readable only by its owner and the notice says
that it may hold some.  Either way palyra-tui
starts from defaults and says so in one sentence.  A file that cannot be
read at all, or moved aside, is left exactly as it is and never written
over: the state then lives in memory only.  Every function here blocks; the
store (``state/state_store.py``) runs them in a thread.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from palyra_tui.config.atomic import fsync_directory, write_atomic
from palyra_tui.config.dirs import os_reason
from palyra_tui.secrets import SecretName
from palyra_tui.state.persisted import SCHEMA_VERSION, LegacySecrets, PersistedState, normalise
from palyra_tui.state.persisted_json import (
    LEGACY_SECRET_KEYS,
    CorruptState,
    NewerState,
    decode_state,
    encode_state,
    legacy_in,
)

STATE_NAME = "state.json"
TEMP_PREFIX = f".{STATE_NAME}.tmp-"
MAX_STATE_BYTES = 16 * 1024 * 1024
"""A larger file is not one palyra-tui wrote (20 drafts and 40 notifications are far less)."""


@dataclass(frozen=True, slots=True)
class Loaded:
    """What opening the state file found."""

    state: PersistedState = field(default_factory=lambda: normalise(PersistedState()))
    legacy: LegacySecrets = field(default_factory=LegacySecrets)
    notice: str = ""
    """One sentence for the operator when the file could not be used ("" when it could)."""
    rewrite: bool = True
    """The file does not hold ``state`` exactly (absent, older, normalised, held secrets)."""
    writable: bool = True
    """False when a file that could not be read stays where it is: it is never written over."""


def state_path(state_dir: Path) -> Path:
    """Where the state file of a state directory (``<state_root>/tui``) lives."""
    return state_dir / STATE_NAME


def reason(error: OSError) -> str:
    """An OSError in a few words a person can act on."""
    return os_reason(error)


def utc_stamp(now: float) -> str:
    """``20250102T030405Z`` for a moved-aside file's name."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))


def load_state(path: Path, now: float) -> Loaded:
    """Read the state file at ``path``; never raises for what the file holds.

    ``now`` (wall time) names a file moved aside.
    """
    sweep_temps(path)
    try:
        data = read_state_file(path)
    except FileNotFoundError:
        return Loaded()
    except CorruptState as corrupt:
        return _aside(path, "corrupt", now, f"cannot be read: {corrupt}")
    except OSError as error:
        return Loaded(
            notice=f"The state file {path} cannot be read ({reason(error)}): palyra-tui keeps "
            "its state in memory for this run and leaves the file as it is.",
            writable=False,
        )
    try:
        if len(data) > MAX_STATE_BYTES:
            raise CorruptState(f"it is larger than {MAX_STATE_BYTES // (1024 * 1024)} MiB")
        decoded = decode_state(data)
    except NewerState as newer:
        return _aside(
            path,
            f"newer-v{newer.version}",
            now,
            f"was written by a newer palyra-tui (schema version {newer.version}; this one "
            f"reads up to {SCHEMA_VERSION})",
        )
    except CorruptState as corrupt:
        return _aside(path, "corrupt", now, f"cannot be read: {corrupt}")
    rewrite = bool(decoded.legacy) or encode_state(decoded.state) != data
    return Loaded(decoded.state, decoded.legacy, rewrite=rewrite)


def legacy_tokens(path: Path) -> dict[SecretName, str]:
    """Plaintext tokens an older state file at ``path`` holds, for the secret store to
    take when it has none yet; reads only (:func:`load_state` rewrites the file)."""
    try:
        legacy = legacy_in(read_state_file(path))
    except (OSError, CorruptState):
        return {}
    found = {
        SecretName.ADMIN_TOKEN: legacy.admin_token,
        SecretName.BROWSER_TOKEN: legacy.browser_token,
    }
    return {name: value for name, value in found.items() if value}


def read_state_file(path: Path) -> bytes:
    """The bytes of the state file: a regular file only, never through a symbolic link,
    never blocking on a FIFO, at most a little over ``MAX_STATE_BYTES``; raises OSError or
    CorruptState."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not _is_regular(fd):
            raise CorruptState("it is not a regular file")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_STATE_BYTES and (chunk := os.read(fd, 1024 * 1024)):
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _is_regular(fd: int) -> bool:
    return stat.S_ISREG(os.fstat(fd).st_mode)


def _aside(path: Path, label: str, now: float, problem: str) -> Loaded:
    """Rename an unusable file out of the way; the sentence says where it went."""
    try:
        moved = move_aside(path, label, now)
    except OSError as error:
        return Loaded(
            notice=f"The state file {path} {problem}, and it cannot be moved aside "
            f"({reason(error)}): palyra-tui keeps its state in memory for this run and leaves "
            "the file as it is.",
            writable=False,
        )
    return Loaded(
        notice=f"The state file {path} {problem}; it was moved to {moved.name} and palyra-tui "
        f"started from defaults.{scrub_tokens(moved)}"
    )


def scrub_tokens(moved: Path) -> str:
    """Keep no plaintext token in a file moved aside: the legacy token fields are removed
    from a JSON object (the runtime host's supervisor took them for the secret store before
    the file was read).  A file that is no JSON object stays as it is, readable only by
    its owner; the sentence returned ("" when there is nothing to say) says where it is
    and that it may hold tokens."""
    try:
        if not stat.S_ISREG(os.lstat(moved).st_mode):
            return ""
        os.chmod(moved, 0o600)
        data = read_state_file(moved)
        document = json.loads(data) if len(data) <= MAX_STATE_BYTES else None
    except (OSError, CorruptState, ValueError, RecursionError):
        document = None
    if not isinstance(document, dict):
        return (
            f" It may hold plaintext tokens: it is kept at {moved}, readable only by you; "
            "delete it once it is of no use."
        )
    if not any(key in document for key in LEGACY_SECRET_KEYS):
        return ""
    for key in LEGACY_SECRET_KEYS:
        document.pop(key, None)
    try:
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        write_atomic(moved, text.encode("utf-8", "backslashreplace"))
    except (OSError, ValueError, RecursionError):
        return (
            f" It holds plaintext tokens that could not be removed: it is kept at {moved}, "
            "readable only by you; delete it once it is of no use."
        )
    return " The plaintext tokens it held were removed from it."


def move_aside(path: Path, label: str, now: float) -> Path:
    """Rename ``path`` to ``<name>.<label>-<UTC time>`` (``-2``, ``-3`` … if taken)."""
    base = f"{path.name}.{label}-{utc_stamp(now)}"
    for attempt in range(1, 1000):
        target = path.with_name(base if attempt == 1 else f"{base}-{attempt}")
        if target.exists() or target.is_symlink():
            continue
        os.rename(path, target)
        with contextlib.suppress(OSError):
            fsync_directory(path.parent)
        return target
    raise FileExistsError(errno.EEXIST, "too many files moved aside", str(path))


def sweep_temps(path: Path) -> int:
    """Remove the temp files killed writers of ``path`` left behind; returns how many."""
    prefix = f".{path.name}.tmp-"
    removed = 0
    try:
        names = os.listdir(path.parent)
    except OSError:
        return 0
    for name in names:
        if name.startswith(prefix):
            with contextlib.suppress(OSError):
                os.unlink(path.parent / name)
                removed += 1
    return removed


def write_state(path: Path, state: PersistedState) -> None:
    """Replace the state file with ``state``, atomically; raises OSError."""
    write_atomic(path, encode_state(state))
