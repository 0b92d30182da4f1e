"""The secret store: keyring or private file, chosen once, load-or-create, legacy tokens."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import keyring.backend
import keyring.core
import pytest
from keyring.backends import chainer, fail

from palyra_tui.config.dirs import state_key
from palyra_tui.errors import ConfigError, SecretStoreError
from palyra_tui.secrets import (
    MAX_SECRET_BYTES,
    BackendKind,
    RuntimeSecrets,
    SecretName,
    SecretStore,
)
from palyra_tui.secrets.keyring_store import SERVICE, backend_id
from tests.keyrings import MemoryKeyring

ADMIN = SecretName.ADMIN_TOKEN
BROWSER = SecretName.BROWSER_TOKEN


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """The keyring keyring picks: one in memory (the real one is restored afterwards)."""
    ring = MemoryKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", ring)
    yield ring
    if ring.block is not None:
        ring.block.set()


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """keyring's answer on a host without a D-Bus session: the ``fail`` backend."""
    monkeypatch.setattr(keyring.core, "_keyring_backend", failing())


def failing() -> keyring.backend.KeyringBackend:
    """What keyring offers with no D-Bus session."""
    return fail.Keyring()  # type: ignore[no-untyped-call]


def store(tmp_path: Path, backend: str = "auto", timeout: float = 10.0) -> SecretStore:
    root = tmp_path / "state"
    return SecretStore(root, root / "tui", {"PALYRA_TUI_SECRET_BACKEND": backend}, timeout=timeout)


def tokens_file(tmp_path: Path) -> Path:
    return tmp_path / "state" / "tui" / "secrets" / "tokens.json"


def marker(tmp_path: Path) -> dict[str, str]:
    loaded = json.loads((tmp_path / "state" / "tui" / "secrets" / "backend.json").read_text())
    assert isinstance(loaded, dict)
    return loaded


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# The file ------------------------------------------------------------------------------


def test_the_file_backend_creates_256_bit_tokens_in_a_private_file(tmp_path: Path) -> None:
    stored = store(tmp_path, "file").load_or_create()
    assert stored.backend.kind is BackendKind.FILE
    assert stored.created == (ADMIN, BROWSER)
    secrets = stored.secrets
    assert len(secrets.admin_token) == 43 and len(secrets.browser_token) == 43
    assert secrets.admin_token != secrets.browser_token
    path = tokens_file(tmp_path)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert json.loads(path.read_text()) == {
        "admin_token": secrets.admin_token,
        "browser_token": secrets.browser_token,
    }
    assert marker(tmp_path) == {"backend": "file"}
    assert mode(path.parent / "backend.json") == 0o600


def test_a_second_load_returns_the_same_tokens_and_creates_none(tmp_path: Path) -> None:
    first = store(tmp_path, "file").load_or_create()
    again = store(tmp_path, "file").load_or_create()
    assert again.secrets == first.secrets
    assert again.created == ()
    assert store(tmp_path).read() == first.secrets


def test_a_blank_stored_token_counts_as_missing(tmp_path: Path) -> None:
    first = store(tmp_path, "file").load_or_create().secrets
    path = tokens_file(tmp_path)
    path.write_text(json.dumps({"admin_token": "  \t", "browser_token": first.browser_token}))
    again = store(tmp_path, "file").load_or_create()
    assert again.created == (ADMIN,)
    assert again.secrets.browser_token == first.browser_token
    assert again.secrets.admin_token.strip() and again.secrets.admin_token != first.admin_token


def test_a_stored_token_over_4096_bytes_is_refused(tmp_path: Path) -> None:
    store(tmp_path, "file").load_or_create()
    path = tokens_file(tmp_path)
    path.write_text(json.dumps({"admin_token": "a" * (MAX_SECRET_BYTES + 1)}))
    with pytest.raises(SecretStoreError, match=r"admin token cannot be used.*4096 bytes"):
        store(tmp_path, "file").load_or_create()


def test_a_secret_file_others_can_read_is_refused_with_the_fix(tmp_path: Path) -> None:
    store(tmp_path, "file").load_or_create()
    path = tokens_file(tmp_path)
    path.chmod(0o644)
    with pytest.raises(SecretStoreError, match=r"mode 0644, open to other users: run `chmod 600"):
        store(tmp_path, "file").load_or_create()
    path.chmod(0o600)
    path.parent.chmod(0o755)
    with pytest.raises(SecretStoreError, match=r"mode 0755.*chmod 700"):
        store(tmp_path, "file").load_or_create()


def test_a_secret_file_that_is_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    store(tmp_path, "file").load_or_create()
    path = tokens_file(tmp_path)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(path.read_text())
    elsewhere.chmod(0o600)
    path.unlink()
    path.symlink_to(elsewhere)
    with pytest.raises(SecretStoreError, match="symbolic link"):
        store(tmp_path, "file").load_or_create()


def test_a_damaged_secret_file_names_the_way_out(tmp_path: Path) -> None:
    store(tmp_path, "file").load_or_create()
    tokens_file(tmp_path).write_text("{not json")
    with pytest.raises(SecretStoreError, match="is damaged: remove it"):
        store(tmp_path, "file").load_or_create()


# Legacy tokens ---------------------------------------------------------------------------


def test_legacy_tokens_fill_a_store_that_lacks_them(tmp_path: Path) -> None:
    stored = store(tmp_path, "file").load_or_create({ADMIN: "legacy-admin", BROWSER: "legacy-b"})
    assert stored.migrated == (ADMIN, BROWSER) and stored.created == ()
    assert stored.secrets == RuntimeSecrets("legacy-admin", "legacy-b")


def test_legacy_tokens_never_replace_stored_ones(tmp_path: Path) -> None:
    first = store(tmp_path, "file").load_or_create().secrets
    again = store(tmp_path, "file").load_or_create({ADMIN: "legacy-admin"})
    assert again.secrets == first and again.migrated == ()


def test_unusable_legacy_tokens_are_set_aside_with_the_reason(tmp_path: Path) -> None:
    stored = store(tmp_path, "file").load_or_create(
        {ADMIN: "   ", BROWSER: "x" * (MAX_SECRET_BYTES + 1)}
    )
    assert stored.created == (ADMIN, BROWSER) and stored.migrated == ()
    assert dict(stored.rejected) == {ADMIN: "it is blank", BROWSER: "it is longer than 4096 bytes"}
    assert len(stored.secrets.browser_token) == 43


def test_a_legacy_token_fills_a_blank_stored_one(tmp_path: Path) -> None:
    first = store(tmp_path, "file").load_or_create().secrets
    tokens_file(tmp_path).write_text(json.dumps({"admin_token": "", "browser_token": "b" * 20}))
    again = store(tmp_path, "file").load_or_create({ADMIN: "legacy-admin"})
    assert again.secrets == RuntimeSecrets("legacy-admin", "b" * 20)
    assert again.secrets.admin_token != first.admin_token


# The keyring -----------------------------------------------------------------------------


def test_a_working_keyring_keeps_the_tokens_under_the_state_roots_key(
    tmp_path: Path, memory: MemoryKeyring
) -> None:
    stored = store(tmp_path).load_or_create()
    assert stored.backend.kind is BackendKind.KEYRING
    key = state_key(tmp_path / "state")
    assert memory.entries == {
        (SERVICE, f"{key}/admin_token"): stored.secrets.admin_token,
        (SERVICE, f"{key}/browser_token"): stored.secrets.browser_token,
    }
    assert marker(tmp_path) == {"backend": "keyring", "keyring": backend_id(memory)}
    assert not tokens_file(tmp_path).exists()
    assert store(tmp_path).load_or_create().secrets == stored.secrets


def test_two_state_roots_share_no_keyring_entry(tmp_path: Path, memory: MemoryKeyring) -> None:
    one = store(tmp_path / "one").load_or_create().secrets
    two = store(tmp_path / "two").load_or_create().secrets
    assert one.admin_token != two.admin_token
    assert len(memory.entries) == 4


def test_without_a_keyring_the_tokens_go_to_the_file(tmp_path: Path, no_keyring: None) -> None:
    stored = store(tmp_path).load_or_create()
    assert stored.backend.kind is BackendKind.FILE
    assert tokens_file(tmp_path).exists()


def test_a_chainer_with_nothing_to_chain_counts_as_no_keyring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyring.backend, "get_all_keyring", list)
    empty = chainer.ChainerBackend()  # type: ignore[no-untyped-call]
    monkeypatch.setattr(keyring.core, "_keyring_backend", empty)
    assert store(tmp_path).load_or_create().backend.kind is BackendKind.FILE


def test_a_keyring_that_raises_dbus_errors_counts_as_no_keyring(
    tmp_path: Path, memory: MemoryKeyring
) -> None:
    memory.fail_with = RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")
    assert store(tmp_path).load_or_create().backend.kind is BackendKind.FILE
    report = store(tmp_path).inspect()
    assert report.decided and report.backend is not None
    assert report.backend.kind is BackendKind.FILE


def test_a_keyring_that_does_not_answer_is_given_up_on(
    tmp_path: Path, memory: MemoryKeyring
) -> None:
    memory.block = threading.Event()
    stored = store(tmp_path, timeout=0.2).load_or_create()
    assert stored.backend.kind is BackendKind.FILE


def test_a_plaintext_keyring_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Plaintext(MemoryKeyring):
        pass

    Plaintext.__module__ = "keyrings.alt.file"
    ring = Plaintext()
    monkeypatch.setattr(keyring.core, "_keyring_backend", ring)
    assert store(tmp_path).load_or_create().backend.kind is BackendKind.FILE
    assert ring.entries == {}
    with pytest.raises(SecretStoreError, match="without real encryption"):
        store(tmp_path / "other", "keyring").load_or_create()


def test_a_keyring_error_never_repeats_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Leaky(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            raise RuntimeError(f"cannot store {password} for {username}")

    monkeypatch.setattr(keyring.core, "_keyring_backend", Leaky())
    with pytest.raises(SecretStoreError) as raised:
        store(tmp_path, "keyring").load_or_create({ADMIN: "legacy-admin-token"})
    assert "legacy-admin-token" not in str(raised.value)
    assert "RuntimeError: cannot store <redacted> for " in str(raised.value)


def test_asking_for_the_keyring_where_none_works_is_an_error(
    tmp_path: Path, no_keyring: None
) -> None:
    with pytest.raises(SecretStoreError, match="PALYRA_TUI_SECRET_BACKEND=keyring"):
        store(tmp_path, "keyring").load_or_create()
    assert not tokens_file(tmp_path).exists()


def test_a_bad_backend_setting_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must be auto, keyring or file, got 'vault'"):
        store(tmp_path, "vault").load_or_create()


# The choice sticks ---------------------------------------------------------------------


def test_a_file_choice_sticks_when_a_keyring_appears(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyring.core, "_keyring_backend", failing())
    first = store(tmp_path).load_or_create()
    ring = MemoryKeyring()
    monkeypatch.setattr(keyring.core, "_keyring_backend", ring)
    again = store(tmp_path).load_or_create()
    assert again.backend.kind is BackendKind.FILE and again.secrets == first.secrets
    assert ring.entries == {}


def test_a_keyring_choice_sticks_and_says_so_when_the_keyring_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyring.core, "_keyring_backend", MemoryKeyring())
    store(tmp_path).load_or_create()
    monkeypatch.setattr(keyring.core, "_keyring_backend", failing())
    with pytest.raises(SecretStoreError, match=r"kept in the keyring .* which does not work now"):
        store(tmp_path).load_or_create()
    assert not tokens_file(tmp_path).exists()
    report = store(tmp_path).inspect()
    assert report.decided and report.backend is not None
    assert report.backend.kind is BackendKind.KEYRING
    assert "does not work now" in report.problem
    assert "backend.json" in report.hint


def test_asking_for_another_backend_than_the_recorded_one_is_an_error(tmp_path: Path) -> None:
    store(tmp_path, "file").load_or_create()
    with pytest.raises(SecretStoreError, match="asks for another backend"):
        store(tmp_path, "keyring").load_or_create()


# Reading without creating -----------------------------------------------------------------


def test_inspect_and_read_create_nothing(tmp_path: Path, no_keyring: None) -> None:
    report = store(tmp_path).inspect()
    assert not report.decided and report.present == frozenset()
    assert report.backend is not None and report.backend.kind is BackendKind.FILE
    assert store(tmp_path).read() is None
    assert not (tmp_path / "state").exists()
    store(tmp_path).load_or_create()
    report = store(tmp_path).inspect()
    assert report.decided and report.present == {ADMIN, BROWSER} and not report.problem


def test_the_tokens_never_show_in_a_repr(tmp_path: Path) -> None:
    stored = store(tmp_path, "file").load_or_create()
    for text in (repr(stored), str(stored), repr(stored.secrets), f"{stored.secrets}"):
        assert stored.secrets.admin_token not in text
        assert stored.secrets.browser_token not in text
    assert "<redacted>" in repr(stored.secrets)


@pytest.mark.parametrize("backend", ["file", "keyring"])
def test_a_remote_profile_token_is_kept_apart_from_the_state_roots_tokens(
    tmp_path: Path, backend: str, memory: MemoryKeyring
) -> None:
    kept = store(tmp_path, backend)
    assert kept.profile_token("staging") is None
    kept.keep_profile_token("staging", "remote-admin-token-1")
    assert kept.profile_token("staging") == "remote-admin-token-1"
    assert kept.profile_token("lab") is None
    own = kept.load_or_create().secrets
    assert "remote-admin-token-1" not in (own.admin_token, own.browser_token)
    kept.keep_profile_token("staging", "remote-admin-token-2")
    assert kept.profile_token("staging") == "remote-admin-token-2"
    assert kept.load_or_create().secrets == own
    for bad in ("", "  ", "with\nnewline"):
        with pytest.raises(SecretStoreError, match="was not kept"):
            kept.keep_profile_token("staging", bad)
    assert kept.profile_token("staging") == "remote-admin-token-2"
