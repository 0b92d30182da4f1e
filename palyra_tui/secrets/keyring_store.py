"""The operating system's keyring, through the ``keyring`` library, and when to refuse it.

``keyring`` answers even where nothing can keep a secret: without a D-Bus
session it hands out its ``fail`` backend, which raises on every call; a
chainer may hold no backend at all; and with ``keyrings.alt`` installed it picks
a backend that writes the secret to a file base64-encoded, which is plain text
by another name.  Only a backend that is none of these, and that answers a read,
counts as usable.

A keyring can stall: a D-Bus service that does not reply, an unlock prompt
nobody sees.  Every call therefore runs on a daemon thread and is abandoned
after ``timeout`` seconds, so a caller waits that long at most.  The calls block
the calling thread: from async code, call them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from palyra_tui.errors import SecretStoreError
from palyra_tui.text import sanitize_line

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "palyra-tui"
"""The keyring service every entry of palyra-tui is stored under."""
TIMEOUT = 10.0
"""Seconds one keyring call may take before it counts as not answering."""
_NO_BACKEND = frozenset({"keyring.backends.fail", "keyring.backends.null"})
"""What keyring offers when it has nothing that can keep a secret."""
_PLAINTEXT = "keyrings.alt"
"""keyring's "alternate, possibly-insecure backends": base64 or a key beside the file."""

T = TypeVar("T")

_DESCRIPTIONS = {
    "keyring.backends.SecretService": "Secret Service",
    "keyring.backends.libsecret": "Secret Service through libsecret",
    "keyring.backends.kwallet": "KWallet",
    "keyring.backends.macOS": "macOS Keychain",
    "keyring.backends.Windows": "Windows Credential Locker",
}


@dataclass(frozen=True, slots=True)
class KeyringChoice:
    """A usable keyring backend: its class path (what the marker records) and its name."""

    backend_id: str
    name: str


class KeyringUnusable(SecretStoreError):
    """No keyring backend can keep the tokens here; the message says why."""


def backend_id(backend: KeyringBackend) -> str:
    """``module.Class`` of a backend: what identifies it across sessions."""
    kind = type(backend)
    return f"{kind.__module__}.{kind.__qualname__}"


def describe(identifier: str) -> str:
    """A person's name for the backend ``identifier``."""
    module = identifier.rpartition(".")[0]
    return _DESCRIPTIONS.get(module, identifier)


def refused(backend: KeyringBackend) -> str:
    """Why ``backend`` cannot hold the tokens ("" when it can)."""
    module = type(backend).__module__
    if module in _NO_BACKEND:
        return "no keyring backend is available (no D-Bus session, or no keyring service)"
    if module == _PLAINTEXT or module.startswith(_PLAINTEXT + "."):
        return f"{backend_id(backend)} keeps secrets in a file without real encryption"
    return ""


def bounded(call: Callable[[], T], what: str, timeout: float = TIMEOUT, hide: str = "") -> T:
    """``call()`` on a daemon thread; raises :class:`KeyringUnusable` when it fails or does
    not return within ``timeout`` seconds (the thread is left to finish on its own).
    ``hide`` is a value the error's sentence must not repeat."""
    results: list[T] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            results.append(call())
        except BaseException as error:
            failures.append(error)
        finally:
            done.set()

    threading.Thread(target=run, name="palyra-keyring", daemon=True).start()
    if not done.wait(timeout):
        raise KeyringUnusable(f"the keyring did not answer within {timeout:g} s ({what})")
    if results:
        return results[0]
    error = failures[0]
    if not isinstance(error, Exception):
        raise error
    raise KeyringUnusable(f"the keyring failed ({what}): {_reason(error, hide)}") from None


def _reason(error: Exception, hide: str) -> str:
    text = str(error)
    if hide:
        text = text.replace(hide, "<redacted>")
    text = sanitize_line(text).strip()
    name = type(error).__name__
    return f"{name}: {text}" if text else name


def _flatten(root: KeyringBackend) -> list[KeyringBackend]:
    from keyring.backends.chainer import ChainerBackend

    if isinstance(root, ChainerBackend):
        return list(root.backends)
    return [root]


def _picked() -> list[KeyringBackend]:
    """The backend keyring picks (its configuration and environment respected), a chainer
    opened up into the backends it chains."""
    import keyring

    return _flatten(keyring.get_keyring())


def _every() -> list[KeyringBackend]:
    """Every backend that works in this session, the one keyring picks first."""
    from keyring.backend import get_all_keyring

    found = _picked()
    known = {backend_id(backend) for backend in found}
    for backend in get_all_keyring():
        for inner in _flatten(backend):
            if backend_id(inner) not in known:
                known.add(backend_id(inner))
                found.append(inner)
    return found


class KeyringStore:
    """Entries ``SERVICE`` / ``<state key>/<name>`` in one keyring backend."""

    def __init__(self, backend: KeyringBackend, key: str, timeout: float = TIMEOUT) -> None:
        self.backend = backend
        self.key = key
        self.timeout = timeout
        self.choice = KeyringChoice(backend_id(backend), describe(backend_id(backend)))

    @classmethod
    def find(cls, key: str, wanted: str | None = None, timeout: float = TIMEOUT) -> KeyringStore:
        """The keyring to use: the one keyring picks (or the backend ``wanted`` names),
        checked with a read of an entry; raises :class:`KeyringUnusable` saying why not."""
        if wanted is not None:
            candidates = bounded(_every, "looking for a backend", timeout)
            chosen = [backend for backend in candidates if backend_id(backend) == wanted]
            if not chosen:
                raise KeyringUnusable(f"{describe(wanted)} is not available in this session")
            backend = chosen[0]
        else:
            candidates = bounded(_picked, "looking for a backend", timeout)
            usable = [backend for backend in candidates if not refused(backend)]
            if not usable:
                reasons = [refused(backend) for backend in candidates]
                raise KeyringUnusable(reasons[0] if reasons else "no keyring backend is installed")
            backend = usable[0]
        store = cls(backend, key, timeout)
        store.get("admin_token")
        return store

    def entry(self, name: str) -> str:
        """The keyring user name of ``name``: namespaced by the state root."""
        return f"{self.key}/{name}"

    def get(self, name: str) -> str | None:
        """The stored value of ``name``, or None."""
        entry = self.entry(name)
        value = bounded(
            lambda: self.backend.get_password(SERVICE, entry), f"reading {entry}", self.timeout
        )
        if value is not None and not isinstance(value, str):
            raise KeyringUnusable(f"the keyring returned something other than text for {entry}")
        return value

    def set(self, name: str, value: str) -> None:
        """Store ``value`` as ``name``."""
        entry = self.entry(name)
        bounded(
            lambda: self.backend.set_password(SERVICE, entry, value),
            f"storing {entry}",
            self.timeout,
            hide=value,
        )
