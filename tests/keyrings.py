"""Keyring backends for tests, registered through keyring's own API.

``MemoryKeyring`` lives in one process (``keyring.set_keyring``).  ``JsonKeyring``
keeps its entries in the file ``$TEST_KEYRING_FILE`` names, so that a runtime
host started as its own process (``PYTHON_KEYRING_BACKEND=tests.keyrings.JsonKeyring``)
and the test share one keyring.  Neither is "viable": keyring never picks or
builds one by itself.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from keyring.backend import KeyringBackend

KEYRING_FILE_ENV = "TEST_KEYRING_FILE"


class MemoryKeyring(KeyringBackend):
    """Entries in a dict; ``fail_with`` makes every call raise, ``block`` makes it wait."""

    priority = -1
    viable = False

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries: dict[tuple[str, str], str] = {}
        self.fail_with: Exception | None = None
        self.block: threading.Event | None = None

    def _call(self) -> None:
        if self.block is not None:
            self.block.wait()
        if self.fail_with is not None:
            raise self.fail_with

    def get_password(self, service: str, username: str) -> str | None:
        self._call()
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._call()
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._call()
        self.entries.pop((service, username), None)


class JsonKeyring(KeyringBackend):
    """Entries in the JSON file ``$TEST_KEYRING_FILE``, shared by processes."""

    priority = -1
    viable = False

    @staticmethod
    def _path() -> Path:
        return Path(os.environ[KEYRING_FILE_ENV])

    def _load(self) -> dict[str, str]:
        try:
            loaded = json.loads(self._path().read_text())
        except FileNotFoundError:
            return {}
        assert isinstance(loaded, dict)
        return loaded

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\0{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        entries = self._load()
        entries[f"{service}\0{username}"] = password
        self._path().write_text(json.dumps(entries))

    def delete_password(self, service: str, username: str) -> None:
        entries = self._load()
        entries.pop(f"{service}\0{username}", None)
        self._path().write_text(json.dumps(entries))
