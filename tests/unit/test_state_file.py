"""The state file on disk: atomic writes, files moved aside, full and read-only disks."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from palyra_tui.config.atomic import write_atomic
from palyra_tui.state.drafts import OfflineDraft
from palyra_tui.state.persisted import PersistedState, ProfileState, normalise
from palyra_tui.state.persisted_json import encode_state
from palyra_tui.state.state_file import (
    load_state,
    move_aside,
    state_path,
    sweep_temps,
    write_state,
)
from tests.filesystems import tmpfs

NOW = 1_795_200_000.0  # 2026-11-20T18:40:00Z
STAMP = "20261120T184000Z"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "state"


def with_draft(text: str) -> PersistedState:
    state = normalise(PersistedState())
    draft = OfflineDraft("01JQ7P4NQ2T7K5XG0C9M3E8D01", "s1", text, "gateway down", NOW)
    return state.with_profile(replace(state.profile(), drafts=(draft,)))


def names(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


def test_no_file_means_defaults_written_at_the_first_save(tmp_path: Path) -> None:
    loaded = load_state(state_path(tmp_path), NOW)
    assert loaded.rewrite and loaded.writable and not loaded.notice
    assert loaded.state == normalise(PersistedState()).with_profile(loaded.state.profile())


def test_a_write_is_whole_private_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = state_path(tmp_path / "tui")
    state = with_draft("typed before the restart")
    write_state(path, state)
    assert names(path.parent) == ["state.json"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    loaded = load_state(path, NOW)
    assert loaded.state == state and not loaded.rewrite


def test_temp_files_of_killed_writers_are_swept_at_open(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    write_state(path, with_draft("kept"))
    for suffix in ("abc", "def"):
        (tmp_path / f".state.json.tmp-{suffix}").write_text("{half")
    (tmp_path / "other.tmp-x").write_text("not ours")
    loaded = load_state(path, NOW)
    assert loaded.state.profile().drafts[0].text == "kept"
    assert names(tmp_path) == ["other.tmp-x", "state.json"]
    assert sweep_temps(path) == 0


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"schema_version": 2, "profile_st', "it is not JSON (Unterminated string"),
        (b'{"offline_drafts": [{"text": 5}]}', "offline_drafts[0].text: expected a string"),
        (b"\x00" * 10, "it is not JSON"),
    ],
)
def test_a_corrupt_file_is_moved_aside_and_kept(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = state_path(tmp_path)
    path.write_bytes(content)
    loaded = load_state(path, NOW)
    aside = tmp_path / f"state.json.corrupt-{STAMP}"
    assert aside.read_bytes() == content and not path.exists()
    assert loaded.writable and loaded.rewrite
    assert loaded.state.profile().drafts == ()
    assert loaded.notice.startswith(f"The state file {path} cannot be read: {reason}")
    moved = f"it was moved to {aside.name} and palyra-tui started from defaults."
    if content.startswith(b'{"offline'):
        assert loaded.notice.endswith(moved)
    else:
        assert loaded.notice.endswith(
            f"{moved} It may hold plaintext tokens: it is kept at {aside}, readable only by "
            "you; delete it once it is of no use."
        )
    assert "\n" not in loaded.notice and "Traceback" not in loaded.notice


def test_a_corrupt_file_moved_aside_keeps_no_plaintext_token(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    document = {
        "admin_token": "plain-admin-token-0123",
        "browser_auth_token": "plain-browser-token-4567",
        "browser_token": "plain-browser-token-89ab",
        "offline_drafts": [{"text": 5}],
    }
    path.write_text(json.dumps(document))
    path.chmod(0o644)
    loaded = load_state(path, NOW)
    aside = tmp_path / f"state.json.corrupt-{STAMP}"
    kept = aside.read_text()
    assert "plain-" not in kept
    assert json.loads(kept) == {"offline_drafts": [{"text": 5}]}, "what was bad is kept"
    assert stat.S_IMODE(aside.stat().st_mode) == 0o600
    assert loaded.notice.endswith("The plaintext tokens it held were removed from it.")
    assert names(tmp_path) == [aside.name]


def test_a_moved_file_that_cannot_be_parsed_is_private_and_named(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    path.write_bytes(b'{"admin_token": "plain-admin-token-0123", "offl')
    path.chmod(0o644)
    loaded = load_state(path, NOW)
    aside = tmp_path / f"state.json.corrupt-{STAMP}"
    assert stat.S_IMODE(aside.stat().st_mode) == 0o600
    assert f"It may hold plaintext tokens: it is kept at {aside}" in loaded.notice
    assert "plain-admin" not in loaded.notice


def test_a_newer_file_moved_aside_keeps_no_plaintext_token(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    path.write_text(json.dumps({"schema_version": 9, "admin_token": "plain-admin-token-0123"}))
    load_state(path, NOW)
    aside = tmp_path / f"state.json.newer-v9-{STAMP}"
    assert json.loads(aside.read_text()) == {"schema_version": 9}


def test_a_second_bad_file_in_the_same_second_gets_its_own_name(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    for content in (b"first", b"second"):
        path.write_bytes(content)
        load_state(path, NOW)
    assert (tmp_path / f"state.json.corrupt-{STAMP}").read_bytes() == b"first"
    assert (tmp_path / f"state.json.corrupt-{STAMP}-2").read_bytes() == b"second"
    assert move_aside(tmp_path / f"state.json.corrupt-{STAMP}", "x", NOW).name.startswith(
        "state.json.corrupt-"
    )


def test_a_file_of_a_newer_version_is_moved_aside_untouched(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    content = json.dumps({"schema_version": 7, "profile_states": {}}).encode()
    path.write_bytes(content)
    loaded = load_state(path, NOW)
    aside = tmp_path / f"state.json.newer-v7-{STAMP}"
    assert aside.read_bytes() == content
    assert loaded.notice == (
        f"The state file {path} was written by a newer palyra-tui (schema version 7; this one "
        f"reads up to 2); it was moved to {aside.name} and palyra-tui started from defaults."
    )


def test_something_that_is_not_a_file_is_moved_aside(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    path.mkdir()
    loaded = load_state(path, NOW)
    assert (tmp_path / f"state.json.corrupt-{STAMP}").is_dir()
    assert "it is not a regular file" in loaded.notice and loaded.writable


def test_a_symbolic_link_is_left_alone_and_never_written(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    target.write_text("{}")
    path = state_path(tmp_path)
    path.symlink_to(target)
    loaded = load_state(path, NOW)
    assert not loaded.writable
    assert loaded.notice == (
        f"The state file {path} cannot be read (it is a symbolic link): palyra-tui keeps its "
        "state in memory for this run and leaves the file as it is."
    )
    assert path.is_symlink() and target.read_text() == "{}"


def test_legacy_secrets_never_reach_a_notice_or_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    path = state_path(tmp_path)
    secret = "plain-admin-token-abcdef"
    path.write_text(json.dumps({"admin_token": secret, "offline_drafts": "oops"}))
    loaded = load_state(path, NOW)
    assert "offline_drafts: expected an array" in loaded.notice
    assert secret not in loaded.notice and secret not in repr(loaded) and secret not in caplog.text
    path.write_text(json.dumps({"admin_token": secret}))
    loaded = load_state(path, NOW)
    assert loaded.legacy.admin_token == secret and loaded.rewrite
    assert secret not in repr(loaded)


def test_a_file_too_large_to_be_ours_is_moved_aside(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    with path.open("wb") as file:
        file.truncate(17 * 1024 * 1024)
    loaded = load_state(path, NOW)
    assert "it is larger than 16 MiB" in loaded.notice
    assert (tmp_path / f"state.json.corrupt-{STAMP}").exists()


@contextlib.contextmanager
def small_disk(path: Path) -> Iterator[Path]:
    with tmpfs(path, "size=64k,mode=0700") as mount:
        yield mount


def fill(directory: Path) -> None:
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def test_a_full_disk_never_truncates_the_file(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        path = state_path(disk)
        before = with_draft("short")
        write_state(path, before)
        fill(disk)
        with pytest.raises(OSError) as raised:
            write_state(path, with_draft("x" * 200_000))
        assert raised.value.errno == errno.ENOSPC
        assert path.read_bytes() == encode_state(before)
        assert names(disk) == ["filler", "state.json"]


def test_a_read_only_file_system_never_loses_the_file(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        path = state_path(disk)
        before = with_draft("kept")
        write_state(path, before)
        remounted = subprocess.run(
            ["mount", "-o", "remount,ro", str(disk)], capture_output=True, text=True
        )
        if remounted.returncode != 0:
            pytest.skip(f"remounting read-only is not permitted here: {remounted.stderr.strip()}")
        with pytest.raises(OSError) as raised:
            write_atomic(path, b"{}")
        assert raised.value.errno == errno.EROFS
        loaded = load_state(path, NOW)
        assert loaded.state == before and loaded.writable
        assert path.read_bytes() == encode_state(before)


def test_a_corrupt_file_that_cannot_be_moved_stays_and_is_never_written(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        path = state_path(disk)
        path.write_bytes(b"{broken")
        remounted = subprocess.run(
            ["mount", "-o", "remount,ro", str(disk)], capture_output=True, text=True
        )
        if remounted.returncode != 0:
            pytest.skip(f"remounting read-only is not permitted here: {remounted.stderr.strip()}")
        loaded = load_state(path, NOW)
        assert not loaded.writable
        assert loaded.notice == (
            f"The state file {path} cannot be read: it is not JSON (Expecting property name "
            "enclosed in double quotes at line 1), and it cannot be moved aside (it is on a "
            "read-only file system): palyra-tui keeps its state in memory for this run and "
            "leaves the file as it is."
        )
        assert path.read_bytes() == b"{broken"


def test_profiles_other_than_the_active_one_survive_a_round_trip(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    state = with_draft("local draft").with_profile(ProfileState(), "work")
    write_state(path, normalise(state))
    loaded = load_state(path, NOW)
    assert [name for name, _ in loaded.state.profiles] == ["local", "work"]
    assert loaded.state.profile().drafts[0].text == "local draft"
