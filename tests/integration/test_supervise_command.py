"""``palyra-tui supervise`` as an operator runs it: a real process, real signals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import psutil
import pytest

from tests.conftest import block_until, child, pids_alive


def write_config(tmp_path: Path, services: str, top: str = "") -> Path:
    path = tmp_path / "tui.toml"
    path.write_text(
        f'state_root = "{tmp_path / "state"}"\n{top}'
        "[services.gateway]\nenabled = false\n[services.browserd]\nenabled = false\n" + services
    )
    return path


def toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


_STARTED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def reap_commands() -> Iterator[None]:
    """Kill and close every command a test started, whatever the test did."""
    yield
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            process.kill()
        process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def start(
    config: Path,
    *args: str,
    stdout: IO[str] | int = subprocess.PIPE,
    stderr: IO[str] | int = subprocess.PIPE,
) -> subprocess.Popen[str]:
    env = {**os.environ, "PALYRA_TUI_CONFIG": str(config)}
    process = subprocess.Popen(
        [sys.executable, "-m", "palyra_tui", "supervise", *args],
        stdout=stdout,
        stderr=stderr,
        text=True,
        env=env,
    )
    _STARTED.append(process)
    return process


def records(stream: IO[str]) -> Iterator[dict[str, Any]]:
    for line in stream:
        yield json.loads(line)


def wait_for(
    stream: Iterator[dict[str, Any]], service: str, state: str, seen: list[dict[str, Any]]
) -> dict[str, Any]:
    for record in stream:
        seen.append(record)
        if record.get("service") == service and record.get("state") == state:
            return record
    raise AssertionError(f"{service} never became {state}: {seen}")


def test_state_changes_are_json_lines_and_sigint_stops_cleanly(tmp_path: Path) -> None:
    record_file = tmp_path / "signal.txt"
    config = write_config(
        tmp_path,
        f"[services.worker]\ncommand = {toml_list(child('record-signal', str(record_file)))}\n"
        f"[services.crasher]\ncommand = {toml_list(child('exit', '4'))}\nrestart = 'never'\n",
    )
    process = start(config, "--logs")
    assert process.stdout is not None
    seen: list[dict[str, Any]] = []
    stream = records(process.stdout)
    try:
        starting = wait_for(stream, "worker", "starting", seen)
        assert isinstance(starting["pid"], int) and isinstance(starting["ts"], float)
        exited = wait_for(stream, "crasher", "exited", seen)
        assert exited["exit_code"] == 4
        assert exited["reason"] == "not restarted (restart policy: never)"
        wait_for(stream, "worker", "running", seen)
        process.send_signal(signal.SIGINT)
        stopped = wait_for(stream, "worker", "stopped", seen)
        assert "palyra-tui received SIGINT" in stopped["reason"]
        rest = list(stream)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
    assert process.returncode == 0
    assert record_file.read_text() == "SIGTERM"
    logs = [r for r in seen + rest if r["event"] == "log"]
    assert any(r["service"] == "worker" and r["line"] == "ready" for r in logs)
    assert {r["service"] for r in seen if r["event"] == "state" and r["state"] == "stopped"} >= {
        "gateway",
        "browserd",
        "node_host",
    }
    crasher = [r for r in seen + rest if r["event"] == "state" and r["service"] == "crasher"]
    assert crasher[-1]["state"] == "exited", "shutting down keeps how the crasher ended"
    assert process.stderr is not None and process.stderr.read() == ""


def test_sigterm_also_stops_cleanly(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"[services.sleeper]\ncommand = {toml_list(child('hang'))}\n")
    process = start(config)
    assert process.stdout is not None
    stream = records(process.stdout)
    seen: list[dict[str, Any]] = []
    pid = wait_for(stream, "sleeper", "starting", seen)["pid"]
    process.send_signal(signal.SIGTERM)
    wait_for(stream, "sleeper", "stopped", seen)
    assert process.wait(10) == 0
    assert pids_alive([pid]) == []


def test_sigkill_of_palyra_tui_leaves_no_process_behind(tmp_path: Path) -> None:
    pid_file = tmp_path / "pids"
    stubborn_file = tmp_path / "stubborn"
    config = write_config(
        tmp_path,
        f"[services.tree]\ncommand = {toml_list(child('fork-tree', str(pid_file)))}\n"
        f"[services.stubborn]\ncommand = {toml_list(child('fork-tree', str(stubborn_file)))}\n",
    )
    process = start(config)
    assert process.stdout is not None
    stream = records(process.stdout)
    seen: list[dict[str, Any]] = []
    wait_for(stream, "tree", "running", seen)
    wait_for(stream, "stubborn", "running", seen)
    pids = [int(p) for p in pid_file.read_text().split() + stubborn_file.read_text().split()]
    assert len(pids_alive(pids)) == 6
    process.kill()
    process.wait(20)
    assert block_until(lambda: pids_alive(pids) == []), (
        "supervised processes survived palyra-tui's SIGKILL"
    )


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("[services.gateway]\nrestart = 'sometimes'\n", 2, "services.gateway.restart"),
        ("not toml at all", 2, "invalid TOML"),
    ],
)
def test_bad_config_is_a_sentence_not_a_traceback(
    tmp_path: Path, text: str, code: int, message: str
) -> None:
    config = tmp_path / "tui.toml"
    config.write_text(text)
    process = start(config)
    out, err = process.communicate(timeout=20)
    assert process.returncode == code
    assert message in err and str(config) in err
    assert "Traceback" not in err and out == ""


def test_a_second_supervisor_for_the_same_state_root_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"[services.sleeper]\ncommand = {toml_list(child('hang'))}\n")
    first = start(config)
    try:
        assert first.stdout is not None
        wait_for(records(first.stdout), "sleeper", "starting", [])
        second = start(config)
        _, err = second.communicate(timeout=20)
        assert second.returncode == 3
        assert "already supervising" in err and "Traceback" not in err
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(20)


def test_sighup_is_an_orderly_stop_like_sigterm(tmp_path: Path) -> None:
    """A dropped SSH session sends SIGHUP: the services get their stop signal, not SIGKILL."""
    record_file = tmp_path / "signal.txt"
    config = write_config(
        tmp_path,
        f"[services.worker]\ncommand = {toml_list(child('record-signal', str(record_file)))}\n",
    )
    process = start(config)
    assert process.stdout is not None
    seen: list[dict[str, Any]] = []
    stream = records(process.stdout)
    wait_for(stream, "worker", "running", seen)
    process.send_signal(signal.SIGHUP)
    stopped = wait_for(stream, "worker", "stopped", seen)
    assert "palyra-tui received SIGHUP" in stopped["reason"]
    assert process.wait(30) == 0
    assert record_file.read_text() == "SIGTERM"


def test_a_second_stop_signal_kills_every_group_at_once(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        f"[services.stubborn]\ncommand = {toml_list(child('hang', '--ignore-term'))}\n"
        "stop_timeout = 600\n",
    )
    process = start(config)
    assert process.stdout is not None
    seen: list[dict[str, Any]] = []
    stream = records(process.stdout)
    running = wait_for(stream, "stubborn", "running", seen)
    process.send_signal(signal.SIGINT)
    wait_for(stream, "stubborn", "stopping", seen)
    process.send_signal(signal.SIGINT)
    ended = wait_for(stream, "stubborn", "stopped", seen)
    assert ended.get("signal") == "SIGKILL", ended
    assert process.wait(60) == 0
    assert pids_alive([running["pid"]]) == []


def test_sigusr1_is_noted_and_ignored(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"[services.sleeper]\ncommand = {toml_list(child('hang'))}\n")
    process = start(config)
    assert process.stdout is not None
    seen: list[dict[str, Any]] = []
    stream = records(process.stdout)
    wait_for(stream, "sleeper", "running", seen)
    process.send_signal(signal.SIGUSR1)
    for record in stream:
        if record.get("event") == "signal":
            assert record == {"event": "signal", "signal": "SIGUSR1", "action": "ignored"}
            break
    assert process.poll() is None
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0


FLOOD = 50_000
"""Fits twice in what supervise keeps for stdout (100,000 lines): nothing may be dropped."""
BIG_FLOOD = 200_000
"""Twice what supervise keeps for stdout: a stalled stdout must cost lines."""
FLOOD_LINE = "line {} of the flood, padded to look like a log line of a daemon"
FLOOD_STATES = ["starting", "running", "stopping", "stopped"]
FLOOD_STATES_WITHIN_GRACE = ["starting", "stopping", "stopped"]
"""When the test stops the flood inside its start grace, it never becomes running."""


def flood_service(done: Path, count: int = FLOOD) -> str:
    """A service printing ``count`` lines as fast as it can; ``done`` appears once all are out."""
    return f"[services.flood]\ncommand = {toml_list(child('flood', str(count), str(done)))}\n"


def flood_records(seen: list[dict[str, Any]], stream: str | None = None) -> list[dict[str, Any]]:
    return [
        r
        for r in seen
        if r["event"] == "log"
        and r["service"] == "flood"
        and (stream is None or r["stream"] == stream)
    ]


def states_of(seen: list[dict[str, Any]]) -> dict[str, list[str]]:
    states: dict[str, list[str]] = {}
    for record in seen:
        if record["event"] == "state":
            states.setdefault(record["service"], []).append(record["state"])
    return states


def test_a_flood_to_a_file_loses_nothing(tmp_path: Path) -> None:
    """Every line reaches the file, in order, with no gap record and exit code 0.

    The flood fits in what supervise keeps for stdout, so the result does not
    depend on how the machine schedules the threads; the rate is measured by
    ``tests/bench/test_bench_supervise_output.py``.
    """
    done = tmp_path / "flood-done"
    config = write_config(tmp_path, flood_service(done))
    out = tmp_path / "out.jsonl"
    with out.open("w") as handle:
        process = start(config, "--logs", stdout=handle)
    assert block_until(done.exists, 120), "the flood never finished"
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    seen = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r for r in seen if r["event"] == "gap" or "dropped" in r] == []
    lines = [r["line"] for r in flood_records(seen, "stdout")]
    assert lines == [FLOOD_LINE.format(index) for index in range(FLOOD)]
    assert states_of(seen)["flood"] in (FLOOD_STATES, FLOOD_STATES_WITHIN_GRACE)
    assert (process.returncode, err) == (0, "")


def test_state_records_survive_a_flood_stdout_cannot_keep_up_with(tmp_path: Path) -> None:
    """Stdout is not read while the flood runs and five services exit: every state is kept."""
    go = tmp_path / "go"
    done = tmp_path / "flood-done"
    waiters = [f"waiter{index}" for index in range(5)]
    config = write_config(
        tmp_path,
        flood_service(done)
        + "".join(
            f"[services.{name}]\ncommand = {toml_list(child('exit-when', str(go), '3'))}\n"
            "restart = 'never'\n"
            for name in waiters
        ),
    )
    process = start(config, "--logs")
    assert process.stdout is not None
    seen: list[dict[str, Any]] = []
    pids: dict[str, int] = {}
    for record in records(process.stdout):
        seen.append(record)
        if record.get("state") == "starting" and record["service"] in waiters:
            pids[record["service"]] = record["pid"]
        if len(pids) == len(waiters):
            break
    assert block_until(done.exists, 120), "the flood never finished"
    go.touch()
    assert block_until(lambda: not any(psutil.pid_exists(pid) for pid in pids.values()))
    out, err = stop_and_wait(process)
    seen += [json.loads(line) for line in out.splitlines()]
    states = states_of(seen)
    assert states["flood"] in (FLOOD_STATES, FLOOD_STATES_WITHIN_GRACE)
    for name in waiters:
        assert states[name] in (["starting", "exited"], ["starting", "running", "exited"])
    exits = [r for r in seen if r["event"] == "state" and r["state"] == "exited"]
    assert {r["exit_code"] for r in exits} == {3}
    gaps = [r for r in seen if r["event"] == "gap"]
    assert all((r["service"], r["kind"]) == ("flood", "log") for r in gaps), gaps
    assert process.returncode == (4 if gaps else 0), err


def stop_and_wait(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)
    return process.communicate(timeout=60)


def test_a_stalled_stdout_at_shutdown_is_counted_and_fails_the_exit_code(tmp_path: Path) -> None:
    done = tmp_path / "flood-done"
    config = write_config(tmp_path, flood_service(done, BIG_FLOOD))
    process = start(config, "--logs")
    assert block_until(done.exists, 120), "the flood never finished"
    process.send_signal(signal.SIGINT)
    assert process.wait(60) == 1
    assert process.stdout is not None and process.stderr is not None
    out, err = process.stdout.read(), process.stderr.read()
    sentence = re.fullmatch(
        r"palyra-tui: (.+) were not written \(stdout did not take them within 5 s\)"
        r"(?:, and ([\d,]+) log lines were dropped because output to stdout fell behind)?\.\n",
        err,
    )
    assert sentence is not None, err
    unwritten = {
        kind: int(count.replace(",", ""))
        for count, kind in re.findall(r"([\d,]+) (log line|state change|gap record)", sentence[1])
    }
    dropped = int((sentence[2] or "0").replace(",", ""))
    assert unwritten["log line"] > 0 and unwritten["state change"] > 0, err
    complete = [json.loads(line) for line in out.splitlines(keepends=True) if line.endswith("\n")]
    # Every line of the flood, and the supervisor's notes of its start and end, is on
    # stdout, reported as not written, or counted in a gap record.
    written = len(flood_records(complete))
    assert written + unwritten["log line"] + dropped == BIG_FLOOD + 2, (written, err)


def test_gap_records_name_the_service_and_the_kind(tmp_path: Path) -> None:
    done = tmp_path / "flood-done"
    config = write_config(tmp_path, flood_service(done, BIG_FLOOD))
    process = start(config, "--logs")
    assert block_until(done.exists, 120), "the flood never finished"
    out, err = stop_and_wait(process)
    seen = [json.loads(line) for line in out.splitlines()]
    gaps = [r for r in seen if r["event"] == "gap" or "dropped" in r]
    assert gaps, "nothing was dropped: the test did not stall stdout long enough"
    for gap in gaps:
        assert gap.keys() == {"event", "ts", "service", "kind", "dropped"}, gap
        assert (gap["event"], gap["service"], gap["kind"]) == ("gap", "flood", "log"), gap
    dropped = sum(r["dropped"] for r in gaps)
    assert len(flood_records(seen)) + dropped == BIG_FLOOD + 2, (
        "the flood and the notes of its start and end"
    )
    assert process.returncode == 1
    assert err == (
        f"palyra-tui: {dropped:,} log lines were dropped because output to stdout fell "
        "behind (gap records say where).\n"
    )
