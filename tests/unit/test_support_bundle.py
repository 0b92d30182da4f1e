"""Support bundles, piece by piece: the config key, the journal and the probe history, the
scrubber, and the archive (private from creation, never replacing a file, nothing left
behind by a failure)."""

from __future__ import annotations

import errno
import os
import stat
import tarfile
import tomllib
from pathlib import Path

import pytest

from palyra_tui.config import parse_config
from palyra_tui.errors import ConfigError
from palyra_tui.models import (
    HealthState,
    HealthStatus,
    ServiceEvent,
    ServiceState,
    SupervisorSnapshot,
)
from palyra_tui.models.bundle import SupportBundle
from palyra_tui.models.gateway import ApprovalAnswer, RiskLevel
from palyra_tui.state.bundle.archive import bundle_stem, write_bundle
from palyra_tui.state.bundle.members import config_text
from palyra_tui.state.bundle.scrub import MAX_KEY_LINES, Scrubber, hide_key_blocks
from palyra_tui.state.decisions import Decisions
from palyra_tui.state.inbox import InboxEntry, Route
from palyra_tui.state.runtime_api import AlreadyDecided, BundleExists, BundleFailed
from palyra_tui.supervisor.health import ProbeHistory
from palyra_tui.supervisor.journal import ServiceJournal
from tests.filesystems import full_disk, unwritable

AT = 1_795_243_866.5
MEMBERS = [("versions.txt", lambda: "palyra-tui 0.1.0\n"), ("logs/a.log", lambda: "a line\n")]


def plain(text: str) -> str:
    return text


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


# The config key ---------------------------------------------------------------------------


def test_log_minutes_defaults_to_15_and_is_checked() -> None:
    assert parse_config({}, None, {"XDG_STATE_HOME": "/st"}).bundle.log_minutes == 15
    config = parse_config({"bundle": {"log_minutes": 90}}, None, {"XDG_STATE_HOME": "/st"})
    assert config.bundle.log_minutes == 90
    cases = {
        0: "bundle.log_minutes: must be between 1 and 1440 (minutes)",
        1441: "bundle.log_minutes: must be between 1 and 1440 (minutes)",
        "15": "bundle.log_minutes: must be an integer, got a string",
        True: "bundle.log_minutes: must be an integer, got a boolean",
    }
    for value, sentence in cases.items():
        with pytest.raises(ConfigError) as caught:
            parse_config({"bundle": {"log_minutes": value}}, Path("/x/tui.toml"), {})
        assert str(caught.value) == f"/x/tui.toml: {sentence}"
    with pytest.raises(ConfigError, match=r"bundle\.minutes: unknown key"):
        parse_config({"bundle": {"minutes": 5}}, None, {"XDG_STATE_HOME": "/st"})


def test_the_bundles_config_names_browserds_engine_and_reads_back_the_same() -> None:
    environ = {"XDG_STATE_HOME": "/st"}
    default = config_text(parse_config({}, None, environ), SupervisorSnapshot())
    runtime = tomllib.loads(default)["runtime"]
    assert runtime["browser_engine"] == "chromium"
    assert "browser_chromium_path" not in runtime
    chosen = {"browser_engine": "simulated", "browser_chromium_path": "/opt/chrome/chrome"}
    text = config_text(parse_config({"runtime": chosen}, None, environ), SupervisorSnapshot())
    runtime = tomllib.loads(text)["runtime"]
    assert {key: runtime[key] for key in chosen} == chosen
    assert parse_config({"runtime": runtime}, None, environ).runtime.browser_chromium_path == (
        "/opt/chrome/chrome"
    )


# What the supervisor keeps ----------------------------------------------------------------


def test_the_journal_keeps_the_newest_events_and_counts_the_rest() -> None:
    journal = ServiceJournal(limit=3)
    for n in range(5):
        journal.record(ServiceEvent(float(n), "worker", ServiceState.RUNNING, n))
    assert [event.pid for event in journal.events()] == [2, 3, 4]
    assert journal.dropped == 2


def probe(state: HealthState, at: float, latency: float | None, reason: str = "") -> HealthStatus:
    return HealthStatus(state, reason, latency, "1.0", checked_at=at)


def test_probe_history_keeps_runs_of_alike_results() -> None:
    history = ProbeHistory(limit=2)
    history.record("gateway", probe(HealthState.HEALTHY, 1.0, 0.5))
    history.record("gateway", probe(HealthState.HEALTHY, 2.0, 3.0))
    history.record("gateway", probe(HealthState.HEALTHY, 3.0, 1.0))
    history.record("worker", probe(HealthState.UNHEALTHY, 3.5, None, "HTTP 503"))
    history.record("gateway", probe(HealthState.UNHEALTHY, 4.0, None, "cannot connect: refused"))
    gateway, worker, down = history.records()
    assert (gateway.service, gateway.state, gateway.count) == ("gateway", HealthState.HEALTHY, 3)
    assert (gateway.first_at, gateway.last_at) == (1.0, 3.0)
    assert (gateway.latency_ms, gateway.max_latency_ms) == (1.0, 3.0)
    assert (worker.reason, worker.count) == ("HTTP 503", 1)
    assert (down.service, down.reason, down.first_at) == ("gateway", "cannot connect: refused", 4)
    for n in range(5):  # each differs from the one before: a new run each time
        history.record("worker", probe(HealthState.HEALTHY, 10.0 + n, 1.0, f"r{n}"))
    assert len(history.records()) == 2 + 2, "two finished runs kept, and each current one"


def test_a_decision_keeps_what_who_when_and_its_scope() -> None:
    decisions = Decisions()
    entry = InboxEntry(
        "a1",
        Route.STREAM,
        "r1",
        "s1",
        "palyra.process.run",
        "Run",
        "ls",
        '{"command":"ls"}',
        RiskLevel.HIGH,
        "",
        60,
        1.0,
    )
    decisions.record(entry, ApprovalAnswer.allow_session(), 5.0, "palyra-tui approve, pid 9")
    (record,) = decisions.records()
    assert (record.approval_id, record.tool_name, record.session_id, record.run_id) == (
        "a1",
        "palyra.process.run",
        "s1",
        "r1",
    )
    assert record.answer.scope.value == "session" and record.input_json == '{"command":"ls"}'
    assert (record.at, record.by) == (5.0, "palyra-tui approve, pid 9")
    with pytest.raises(AlreadyDecided, match=r"allowed for the session at .* \(palyra-tui approve"):
        decisions.refuse_second("a1")


# The scrubber ------------------------------------------------------------------------------


def test_a_private_key_over_several_lines_is_hidden_wherever_it_starts() -> None:
    text = (
        "note: -----BEGIN RSA PRIVATE KEY-----\n  MIIBOgIBAAJBAK\n  eD5lc3Rr\n"
        "-----END RSA PRIVATE KEY----- ok\nafter"
    )
    hidden_text = "note: <redacted>\n  <redacted>\n  <redacted>\n<redacted> ok\nafter"
    assert hide_key_blocks(text) == hidden_text
    open_block = "-----BEGIN PRIVATE KEY-----\n" + "AAAA\n" * (MAX_KEY_LINES + 5) + "tail"
    hidden = hide_key_blocks(open_block).split("\n")
    assert hidden[: MAX_KEY_LINES + 1] == ["<redacted>"] * (MAX_KEY_LINES + 1)
    assert hidden[MAX_KEY_LINES + 1 :] == ["AAAA"] * 5 + ["tail"]


def test_known_secrets_are_hidden_whole_and_cut_short() -> None:
    token = "Zx81kq-Yt3Pw0Lm9Vb7Nc5Xr2"
    scrub = Scrubber([token])
    assert "Zx81kq" not in scrub(f"chat named 'token is {token[:20]}…' and {token}")
    assert scrub(f"token is {token[:20]}…") == "token is <redacted>…"
    assert scrub(f"{token[:13]} is half: hidden; {token[:12]} is less: kept") == (
        f"<redacted> is half: hidden; {token[:12]} is less: kept"
    )
    path = Scrubber(["/home/ops/.password-store"])
    assert path("state root /home/ops/.local/state/palyra") == (
        "state root /home/ops/.local/state/palyra"
    ), "a secret that shares only its first directories with a path hides nothing of it"
    assert path("/home/ops/.password-sto…") == "<redacted>…"
    assert scrub("Authorization: Bearer abc.def.ghi") == "Authorization: <redacted>"
    assert token not in repr(scrub)


# The archive ---------------------------------------------------------------------------------


def test_the_default_place_is_private_and_a_second_bundle_of_the_second_gets_its_own_name(
    tmp_path: Path,
) -> None:
    first = write_bundle(tmp_path, "", MEMBERS, plain, AT)
    folder = tmp_path / "support-bundles"
    stem = bundle_stem(AT)
    assert stem == "support-bundle-20261121T065106Z"
    assert first == SupportBundle(
        str(folder / f"{stem}.tar.gz"),
        (folder / f"{stem}.tar.gz").stat().st_size,
        (f"{stem}/versions.txt", f"{stem}/logs/a.log"),
    )
    assert mode(folder) == 0o700 and mode(Path(first.path)) == 0o600
    second = write_bundle(tmp_path, "", MEMBERS, plain, AT)
    assert second.path == str(folder / f"{stem}-2.tar.gz")
    assert sorted(p.name for p in folder.iterdir()) == [f"{stem}-2.tar.gz", f"{stem}.tar.gz"]
    with tarfile.open(first.path) as opened:
        assert opened.extractfile(f"{stem}/logs/a.log").read() == b"a line\n"  # type: ignore[union-attr]


def test_the_file_is_private_while_it_is_written_and_never_chmod_ed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, int]] = []

    def look() -> str:
        for path in tmp_path.iterdir():
            seen.append((path.name, mode(path)))
        return "text\n"

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("chmod after creation")

    monkeypatch.setattr(os, "chmod", refuse)
    monkeypatch.setattr(os, "fchmod", refuse)
    bundle = write_bundle(tmp_path, str(tmp_path / "b.tar.gz"), [("x.txt", look)], plain, AT)
    ((name, seen_mode),) = seen
    assert name.startswith(".support-bundle-") and ".tmp-" in name and seen_mode == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["b.tar.gz"] and mode(Path(bundle.path)) == 0o600


def test_an_existing_path_is_refused_and_left_alone(tmp_path: Path) -> None:
    taken = tmp_path / "taken.tar.gz"
    taken.write_bytes(b"mine")
    with pytest.raises(BundleExists, match=r"taken\.tar\.gz already exists, and a bundle never"):
        write_bundle(tmp_path, str(taken), MEMBERS, plain, AT)
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(BundleExists):
        write_bundle(tmp_path, str(link), MEMBERS, plain, AT)
    assert taken.read_bytes() == b"mine" and not (tmp_path / "nowhere").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling", "taken.tar.gz"]


def test_a_path_taken_while_the_bundle_was_written_is_not_replaced(
    tmp_path: Path,
) -> None:
    target = tmp_path / "race.tar.gz"

    def meanwhile() -> str:
        target.write_bytes(b"theirs")
        return "text\n"

    with pytest.raises(BundleExists):
        write_bundle(tmp_path, str(target), [("x.txt", meanwhile)], plain, AT)
    assert target.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["race.tar.gz"]


def test_a_relative_path_or_a_missing_directory_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(BundleFailed, match=r"^no support bundle was written: b\.tgz is not an"):
        write_bundle(tmp_path, "b.tgz", MEMBERS, plain, AT)
    missing = tmp_path / "no" / "b.tar.gz"
    with pytest.raises(BundleFailed) as caught:
        write_bundle(tmp_path, str(missing), MEMBERS, plain, AT)
    assert str(caught.value) == (
        f"no support bundle was written: cannot write in {missing.parent}: it does not exist"
    )


def test_a_read_only_directory_leaves_nothing(tmp_path: Path) -> None:
    with unwritable(tmp_path / "ro") as locked:
        with pytest.raises(BundleFailed) as caught:
            write_bundle(tmp_path, str(locked / "b.tar.gz"), MEMBERS, plain, AT)
        assert str(caught.value).startswith(
            f"no support bundle was written: cannot write in {locked}: "
        )
        assert list(locked.iterdir()) == []


def test_a_full_disk_leaves_nothing(tmp_path: Path) -> None:
    big = [("big.log", lambda: os.urandom(256 * 1024).hex())]
    with full_disk(tmp_path / "full") as disk:
        before = sorted(p.name for p in disk.iterdir())
        with pytest.raises(BundleFailed) as caught:
            write_bundle(tmp_path, str(disk / "b.tar.gz"), big, plain, AT)
        assert str(caught.value) == (
            f"no support bundle was written: cannot write in {disk}: no space is left on its device"
        )
        assert sorted(p.name for p in disk.iterdir()) == before


def test_a_render_that_fails_leaves_nothing(tmp_path: Path) -> None:
    def broken() -> str:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):
        write_bundle(tmp_path, str(tmp_path / "b.tar.gz"), [("x", broken)], plain, AT)
    assert list(tmp_path.iterdir()) == []


def test_without_hard_links_the_name_is_still_never_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*_: object, **__: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    bundle = write_bundle(tmp_path, "", MEMBERS, plain, AT)
    again = write_bundle(tmp_path, "", MEMBERS, plain, AT)
    assert Path(bundle.path).exists() and again.path.endswith("-2.tar.gz")
    assert not [p for p in (tmp_path / "support-bundles").iterdir() if p.name.startswith(".")]
