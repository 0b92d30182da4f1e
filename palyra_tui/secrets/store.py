"""Where a state root's tokens live, chosen once and kept.

The admin and browser tokens are created the first time a state root needs
them and read back on every later start, so a gateway keeps its token across
restarts of the runtime host.  They live in the operating system's keyring
when one works (Secret Service, KWallet, the macOS Keychain, the Windows
Credential Locker), and otherwise in a file only the user can read
(:mod:`palyra_tui.secrets.file_store`).

The choice is written to ``<state_root>/tui/secrets/backend.json`` and kept:
a later session that happens to have a keyring (or has lost it, as an SSH
login to a desktop machine does) uses the recorded backend or says it cannot,
instead of silently creating new tokens somewhere else.
``PALYRA_TUI_SECRET_BACKEND`` (``auto``, ``keyring`` or ``file``) decides the
first choice; once made, it must agree with the record.

Every method blocks (file I/O, keyring calls bounded by a timeout, a lock
shared by the processes of the state root): from async code, call it through
``asyncio.to_thread``.
"""

from __future__ import annotations

import enum
import fcntl
import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from palyra_tui.config import Config
from palyra_tui.config.dirs import private_dir, state_key
from palyra_tui.config.document import shown
from palyra_tui.errors import ConfigError, SecretStoreError
from palyra_tui.secrets.file_store import (
    MAX_FILE_BYTES,
    FileStore,
    check_private_dir,
    write_private,
)
from palyra_tui.secrets.keyring_store import (
    SERVICE,
    TIMEOUT,
    KeyringStore,
    KeyringUnusable,
    describe,
)
from palyra_tui.secrets.values import (
    RuntimeSecrets,
    SecretName,
    is_blank,
    new_token,
    problem_with,
)

BACKEND_ENV = "PALYRA_TUI_SECRET_BACKEND"
DIRECTORY = "secrets"
MARKER = "backend.json"
LOCK = "lock"
LOCK_TIMEOUT = 60.0
"""Seconds to wait while another process of the state root creates or reads the tokens."""


def profile_key(profile: str) -> str:
    """The name a remote profile's admin token is kept under."""
    return f"profile_admin_token:{profile}"


class BackendKind(enum.Enum):
    """Where the tokens are kept."""

    KEYRING = "keyring"
    FILE = "file"


@dataclass(frozen=True, slots=True)
class Backend:
    """The backend of a state root: its kind, which keyring, and where the tokens are."""

    kind: BackendKind
    keyring_id: str = ""
    location: str = ""

    @property
    def name(self) -> str:
        """A person's name for it."""
        if self.kind is BackendKind.FILE:
            return "a private file"
        return f"the keyring ({describe(self.keyring_id)})"

    @property
    def protects(self) -> str:
        """What keeping the tokens there protects against, and what it does not."""
        if self.kind is BackendKind.FILE:
            return (
                "readable only by you (mode 0600 in a 0700 directory): other users of this "
                "machine cannot read the tokens; root, programs running as you, and backups "
                "or copies of the disk can, in plain text"
            )
        return (
            "encrypted at rest and unlocked with your login: other users and copies of the "
            "disk cannot read the tokens; root and programs running as you can while the "
            "keyring is unlocked"
        )


@dataclass(frozen=True, slots=True)
class StoredSecrets:
    """What :meth:`SecretStore.load_or_create` found, created and moved in."""

    secrets: RuntimeSecrets
    backend: Backend
    created: tuple[SecretName, ...] = ()
    """Tokens that were missing (or blank) and are new random ones."""
    migrated: tuple[SecretName, ...] = ()
    """Tokens that were missing and now hold the legacy value offered for them."""
    rejected: tuple[tuple[SecretName, str], ...] = ()
    """Legacy values that were not used, each with the reason."""


@dataclass(frozen=True, slots=True)
class StoreReport:
    """The store as it is now, read without creating anything (for ``doctor``)."""

    backend: Backend | None
    """The recorded backend, or the one a first start would choose."""
    decided: bool
    """True when a backend is recorded for the state root."""
    problem: str = ""
    """Why the tokens cannot be read now ("" when they can)."""
    hint: str = ""
    """What to do about ``problem``."""
    present: frozenset[SecretName] = frozenset()
    """Tokens that are stored and usable."""


class _Side(Protocol):
    backend: Backend

    def read(self) -> dict[str, str | None]: ...

    def get(self, key: str) -> str | None: ...

    def store(self, updates: Mapping[str, str]) -> None: ...


class _KeyringSide:
    def __init__(self, keyring: KeyringStore) -> None:
        self.keyring = keyring
        self.backend = Backend(
            BackendKind.KEYRING,
            keyring.choice.backend_id,
            f"service {SERVICE!r}, entries {keyring.key}/<name>",
        )

    def read(self) -> dict[str, str | None]:
        return {name.value: self.keyring.get(name.value) for name in SecretName}

    def get(self, key: str) -> str | None:
        return self.keyring.get(key)

    def store(self, updates: Mapping[str, str]) -> None:
        for name, value in updates.items():
            self.keyring.set(name, value)


class _FileSide:
    def __init__(self, file: FileStore) -> None:
        self.file = file
        self.backend = Backend(BackendKind.FILE, location=str(file.path))

    def read(self) -> dict[str, str | None]:
        stored = self.file.read()
        return {name.value: stored.get(name.value) for name in SecretName}

    def get(self, key: str) -> str | None:
        return self.file.read().get(key)

    def store(self, updates: Mapping[str, str]) -> None:
        self.file.write({**self.file.read(), **updates})


class SecretStore:
    """The tokens of one state root (see the module's docstring)."""

    def __init__(
        self,
        state_root: Path,
        state_dir: Path,
        environ: Mapping[str, str] | None = None,
        *,
        timeout: float = TIMEOUT,
    ) -> None:
        self.state_root = state_root
        self.directory = state_dir / DIRECTORY
        self.marker = self.directory / MARKER
        self.key = state_key(state_root)
        self.timeout = timeout
        self._environ = os.environ if environ is None else environ

    @classmethod
    def for_config(cls, config: Config, environ: Mapping[str, str] | None = None) -> SecretStore:
        """The store of ``config``'s state root."""
        return cls(config.state_root, config.state_dir, environ)

    # Public ---------------------------------------------------------------------

    def requested(self) -> BackendKind | None:
        """The backend ``PALYRA_TUI_SECRET_BACKEND`` asks for; None for ``auto`` or unset."""
        value = self._environ.get(BACKEND_ENV, "").strip().lower()
        if value in ("", "auto"):
            return None
        for kind in BackendKind:
            if value == kind.value:
                return kind
        raise ConfigError(
            f"{BACKEND_ENV} must be auto, keyring or file, got {shown(self._environ[BACKEND_ENV])}"
        )

    def load_or_create(self, legacy: Mapping[SecretName, str] | None = None) -> StoredSecrets:
        """The state root's tokens, creating the missing ones.

        A token that is stored and not blank is kept.  One that is missing takes
        the value ``legacy`` offers for it (tokens found in an older state
        file), if that is usable, or else a new random one.  Raises
        :class:`SecretStoreError` (or :class:`ConfigError` for a bad
        ``PALYRA_TUI_SECRET_BACKEND``) with a sentence that says what to do.
        """
        requested = self.requested()
        with self._locked():
            recorded = self._read_marker()
            if recorded is not None:
                if requested is not None and requested is not recorded.kind:
                    raise SecretStoreError(self._conflict(recorded, requested))
                return self._fill(self._open(recorded), legacy)
            return self._first(requested, legacy)

    def read(self) -> RuntimeSecrets | None:
        """The stored tokens, or None while they do not all exist; creates nothing."""
        recorded = self._read_marker()
        if recorded is None:
            return None
        values = self._open(recorded).read()
        admin = values.get(SecretName.ADMIN_TOKEN.value)
        browser = values.get(SecretName.BROWSER_TOKEN.value)
        if admin is None or browser is None or is_blank(admin) or is_blank(browser):
            return None
        return RuntimeSecrets(admin_token=admin, browser_token=browser)

    def profile_token(self, profile: str) -> str | None:
        """The admin token kept for the remote profile ``profile`` (None when none is);
        creates nothing (blocking)."""
        recorded = self._read_marker()
        if recorded is None:
            return None
        value = self._open(recorded).get(profile_key(profile))
        return None if value is None or is_blank(value) or problem_with(value) else value

    def keep_profile_token(self, profile: str, token: str) -> None:
        """Keep ``token`` as the admin token of the remote profile ``profile``, in the state
        root's backend (chosen now, as :meth:`load_or_create` chooses it, when none is yet);
        raises SecretStoreError for a token that cannot be one (blocking)."""
        problem = "it is blank" if is_blank(token) else problem_with(token)
        if problem:
            raise SecretStoreError(f"the admin token was not kept: {problem}")
        with self._locked():
            recorded = self._read_marker()
            if recorded is None:
                self._first(self.requested(), None)
                recorded = self._read_marker()
                assert recorded is not None
            self._open(recorded).store({profile_key(profile): token})

    def inspect(self) -> StoreReport:
        """Which backend holds (or would hold) the tokens, whether it answers, and which
        tokens exist; creates nothing and never raises for a broken store."""
        try:
            requested = self.requested()
            recorded = self._read_marker()
        except (SecretStoreError, ConfigError) as error:
            return StoreReport(None, False, str(error), self._hint_for(None))
        if recorded is None:
            return self._inspect_first(requested)
        if requested is not None and requested is not recorded.kind:
            return StoreReport(
                recorded, True, self._conflict(recorded, requested), self._hint_for(recorded)
            )
        try:
            side = self._open(recorded)
            values = side.read()
        except SecretStoreError as error:
            return StoreReport(recorded, True, str(error), self._hint_for(recorded))
        present = frozenset(
            name
            for name in SecretName
            if not is_blank(values.get(name.value))
            and not problem_with(values.get(name.value) or "")
        )
        return StoreReport(side.backend, True, present=present)

    # Internals --------------------------------------------------------------------

    def _first(
        self, requested: BackendKind | None, legacy: Mapping[SecretName, str] | None
    ) -> StoredSecrets:
        """No backend recorded yet: choose one, fill it, then record it."""
        side: _Side
        if requested is BackendKind.FILE:
            side = _FileSide(FileStore(self.directory))
            stored = self._fill(side, legacy)
        else:
            try:
                side = _KeyringSide(KeyringStore.find(self.key, timeout=self.timeout))
                stored = self._fill(side, legacy)
            except KeyringUnusable as error:
                if requested is BackendKind.KEYRING:
                    raise SecretStoreError(
                        f"{BACKEND_ENV}=keyring asks for the keyring, but {error}"
                    ) from None
                side = _FileSide(FileStore(self.directory))
                stored = self._fill(side, legacy)
        self._write_marker(side.backend)
        return stored

    def _inspect_first(self, requested: BackendKind | None) -> StoreReport:
        file_backend = Backend(BackendKind.FILE, location=str(self.directory / "tokens.json"))
        if requested is BackendKind.FILE:
            return StoreReport(file_backend, False)
        try:
            keyring = KeyringStore.find(self.key, timeout=self.timeout)
        except KeyringUnusable as error:
            if requested is BackendKind.KEYRING:
                return StoreReport(
                    Backend(BackendKind.KEYRING),
                    False,
                    f"{BACKEND_ENV}=keyring asks for the keyring, but {error}",
                    f"unset {BACKEND_ENV} to keep the tokens in a private file instead",
                )
            return StoreReport(file_backend, False)
        return StoreReport(_KeyringSide(keyring).backend, False)

    def _open(self, recorded: Backend) -> _Side:
        if recorded.kind is BackendKind.FILE:
            return _FileSide(FileStore(self.directory))
        try:
            keyring = KeyringStore.find(self.key, recorded.keyring_id, timeout=self.timeout)
        except KeyringUnusable as error:
            raise SecretStoreError(
                f"the tokens of {self.state_root} are kept in {recorded.name}, which does not "
                f"work now: {error}"
            ) from None
        return _KeyringSide(keyring)

    def _fill(self, side: _Side, legacy: Mapping[SecretName, str] | None) -> StoredSecrets:
        values = side.read()
        chosen: dict[SecretName, str] = {}
        updates: dict[str, str] = {}
        created: list[SecretName] = []
        migrated: list[SecretName] = []
        rejected: list[tuple[SecretName, str]] = []
        for name in SecretName:
            stored = values.get(name.value)
            if stored is not None and not is_blank(stored):
                problem = problem_with(stored)
                if problem:
                    raise SecretStoreError(
                        f"the stored {name.value.replace('_', ' ')} cannot be used ({problem}): "
                        f"remove it from {side.backend.name} ({side.backend.location}) and "
                        "palyra-tui creates a new one"
                    )
                chosen[name] = stored
                continue
            offered = (legacy or {}).get(name)
            reason = "it is blank" if offered is not None and is_blank(offered) else ""
            if offered is not None and not reason:
                reason = problem_with(offered)
            if offered is not None and not reason:
                chosen[name] = offered
                migrated.append(name)
            else:
                if offered is not None:
                    rejected.append((name, reason))
                chosen[name] = new_token()
                created.append(name)
            updates[name.value] = chosen[name]
        if updates:
            side.store(updates)
        return StoredSecrets(
            RuntimeSecrets.of(chosen),
            side.backend,
            tuple(created),
            tuple(migrated),
            tuple(rejected),
        )

    def _conflict(self, recorded: Backend, requested: BackendKind) -> str:
        return (
            f"{BACKEND_ENV}={requested.value} asks for another backend than the one that keeps "
            f"the tokens of {self.state_root}: {recorded.name}"
        )

    def _hint_for(self, recorded: Backend | None) -> str:
        if recorded is None:
            return f"remove {self.marker} and palyra-tui chooses again, with new tokens"
        if recorded.kind is BackendKind.KEYRING:
            return (
                "run palyra-tui where that keyring is available and unlocked (the desktop "
                f"session), or remove {self.marker} to start over with new tokens "
                f"(PALYRA_TUI_SECRET_BACKEND=file keeps them in a private file)"
            )
        return (
            f"fix or remove {self.directory / 'tokens.json'}; without it palyra-tui creates new "
            "tokens (a gateway that runs keeps the old ones until it restarts)"
        )

    def _read_marker(self) -> Backend | None:
        if not os.path.lexists(self.marker):
            return None
        check_private_dir(self.directory)
        damaged = SecretStoreError(
            f"the secret backend record {self.marker} is damaged: {self._hint_for(None)}"
        )
        try:
            with open(self.marker, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES)
        except OSError as error:
            raise SecretStoreError(f"cannot read {self.marker}: {error.strerror}") from None
        try:
            document = json.loads(data.decode("utf-8"))
            kind = BackendKind(document["backend"])
            keyring_id = str(document.get("keyring", ""))
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            raise damaged from None
        if kind is BackendKind.KEYRING and not keyring_id:
            raise damaged
        location = str(self.directory / "tokens.json") if kind is BackendKind.FILE else ""
        return Backend(kind, keyring_id, location)

    def _write_marker(self, backend: Backend) -> None:
        document: dict[str, str] = {"backend": backend.kind.value}
        if backend.kind is BackendKind.KEYRING:
            document["keyring"] = backend.keyring_id
        write_private(self.marker, (json.dumps(document) + "\n").encode("utf-8"))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the state root's secret lock: one process creates the tokens at a time."""
        try:
            private_dir(self.directory)
        except OSError as error:
            raise SecretStoreError(
                f"cannot create the secret directory {self.directory}: {error.strerror}"
            ) from None
        check_private_dir(self.directory)
        path = self.directory / LOCK
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as error:
            raise SecretStoreError(f"cannot open {path}: {error.strerror}") from None
        try:
            deadline = time.monotonic() + LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise SecretStoreError(
                            f"another palyra-tui has held {path} for {LOCK_TIMEOUT:g} s"
                        ) from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)
