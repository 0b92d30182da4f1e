"""The demo's tokens live in its memory: its onboarding checks never ask the operator's
keyring (nor any secret store) about them."""

from __future__ import annotations

from pathlib import Path

import keyring.core
import pytest

from palyra_tui.cli.demo import demo_config, demo_environ
from palyra_tui.models.preflight import CheckStatus
from palyra_tui.secrets import RuntimeSecrets
from palyra_tui.secrets.store import BACKEND_ENV
from palyra_tui.state.local_runtime import LocalRuntime
from palyra_tui.ui.launch import build_app
from tests.keyrings import MemoryKeyring


class WatchedKeyring(MemoryKeyring):
    """A keyring that counts every call made to it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.calls += 1
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls += 1
        super().set_password(service, username, password)


async def test_the_demos_checks_never_touch_the_keyring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ring = WatchedKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", ring)
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    app, supervisor = build_app(
        demo_config(tmp_path / "state"), environ=demo_environ(), tokens=RuntimeSecrets.generate()
    )
    try:
        runtime = app.runtime
        assert isinstance(runtime, LocalRuntime)
        status = await runtime.onboarding.check()
    finally:
        supervisor.close()
    assert status.preflight is not None
    store = next(c for c in status.preflight.checks if c.key == "secret_store")
    assert store.status is CheckStatus.OK and "memory only" in store.detail
    auth = next(c for c in status.preflight.checks if c.key == "operator_auth")
    assert auth.status is CheckStatus.OK
    assert ring.calls == 0, "the operator's keyring was asked"
    assert not (tmp_path / "state" / "tui" / "secrets" / "backend.json").exists()
