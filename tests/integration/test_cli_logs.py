"""``palyra-tui logs`` against a real runtime host: backlog, filters, gaps, follow, escapes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from palyra_tui.cli.connect import attached
from tests.conftest import child
from tests.integration.cli_support import Host, Ran, StartHost, cli_env, stop, until_cli

FLOOD = re.compile(r"line (\d+) of the flood")


def flooded(count: int, done: Path) -> dict[str, object]:
    return {"command": child("flood", str(count), str(done)), "restart": "never"}


async def wait_for_file(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        await asyncio.sleep(0.02)


def flood_numbers(text: str) -> list[int]:
    return [int(match.group(1)) for match in FLOOD.finditer(text)]


async def test_the_backlog_of_one_service_as_text_and_json(
    cli_host: StartHost, tmp_path: Path
) -> None:
    done = tmp_path / "flooded"
    host = await cli_host({"worker": flooded(50, done)})
    await wait_for_file(done)
    ran = await until_cli(host.path, ("logs", "worker"), lambda r: "line 49 " in r.out)
    assert ran.code == 0, ran.err
    assert flood_numbers(ran.out) == list(range(50))
    assert ran.out.splitlines()[0].split()[1:4] == ["worker", "INFO", "worker"]
    assert all(line.split()[1] == "worker" for line in ran.out.splitlines())
    newest = await host.cli("logs", "worker", "-n", "5", "--json")
    records = [json.loads(line) for line in newest.out.splitlines()]
    assert flood_numbers("".join(r["line"] for r in records)) == [45, 46, 47, 48, 49]
    assert {(r["event"], r["service"], r["stream"]) for r in records} == {
        ("log", "worker", "stdout")
    }
    assert all(isinstance(r["ts"], float) for r in records)


async def test_filters_pick_lines_and_never_hide_a_gap(cli_host: StartHost, tmp_path: Path) -> None:
    done = tmp_path / "flooded"
    host = await cli_host({"worker": flooded(300, done)}, log_lines=100)
    await wait_for_file(done)
    ran = await until_cli(host.path, ("logs", "worker", "--json"), lambda r: "line 299 " in r.out)
    records = [json.loads(line) for line in ran.out.splitlines()]
    assert records[0]["event"] == "gap" and records[0]["service"] == "worker"
    assert records[0]["dropped"] + len(records) - 1 == 301  # the flood and the "started" note
    grep = await host.cli("logs", "worker", "--grep", r"line 2[0-9]{2} of", "--json")
    kinds = [json.loads(line)["event"] for line in grep.out.splitlines()]
    assert kinds[0] == "gap" and kinds[1:] == ["log"] * 100
    text = await host.cli("logs", "worker", "--grep", "line 29[0-9] of")
    assert text.out.splitlines()[0].split(" ", 2)[2].startswith("⟂ ")
    assert "lines dropped" in text.out.splitlines()[0]
    assert flood_numbers(text.out) == list(range(290, 300))
    warn = await host.cli("logs", "worker", "--level", "warn")
    assert flood_numbers(warn.out) == [] and "dropped" in warn.out
    recent = await host.cli("logs", "worker", "--since", "1h")
    assert flood_numbers(recent.out) == list(range(200, 300))
    future = await host.cli("logs", "worker", "--since", "0s")
    assert future.code == 0 and future.out == ""


async def test_bad_arguments_are_usage_errors(cli_host: StartHost) -> None:
    host = await cli_host()
    unknown = await host.cli("logs", "nope", "--json")
    assert unknown.code == 2 and unknown.out == ""
    assert (
        "no service called 'nope' (configured: gateway, browserd, node_host)"
        in (unknown.error()["error"])
    )
    for flag, value in (("--since", "soon"), ("--level", "loud"), ("--grep", "(")):
        ran = await host.cli("logs", flag, value)
        assert ran.code == 2, (flag, ran.err)
        assert ran.err.startswith(f"palyra-tui: {flag} ")


async def test_no_escape_sequence_of_a_service_reaches_a_pipe_or_a_terminal(
    cli_host: StartHost,
) -> None:
    warner = [
        sys.executable,
        "-c",
        "import json, time; print(json.dumps({'level': 'WARN', 'message': 'careful\\u001b[2J'}),"
        " flush=True); time.sleep(3600)",
    ]
    host = await cli_host({"escaper": {"command": child("escapes")}, "warner": {"command": warner}})
    piped = await until_cli(
        host.path, ("logs", "escaper", "warner"), lambda r: "red" in r.out and "careful" in r.out
    )
    assert "clipboard" in piped.out and "end" in piped.out
    for control in ("\x1b", "\x07", "\x9b", "\x9d"):
        assert control not in piped.out
    as_json = await host.cli("logs", "escaper", "--json")
    assert "\x1b" not in as_json.out and "\\u001b" not in as_json.out
    master, slave = os.openpty()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "palyra_tui",
            "logs",
            "escaper",
            "warner",
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=subprocess.PIPE,
            env={**cli_env(host.path), "TERM": "xterm-256color"},
        )
        os.close(slave)
        assert await process.wait() == 0
        shown = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    screen = shown.decode()
    assert "clipboard" in screen and "red" in screen
    assert "\x1b]" not in screen and "\x07" not in screen and "\x9b" not in screen
    assert set(re.findall(r"\x1b\[[0-9;]*[A-Za-z]", screen)) <= {"\x1b[33m", "\x1b[0m"}
    assert (
        "\x1b[33mWARN \x1b[0m warner: careful" in screen or "\x1b[33mWARN \x1b[0m careful" in screen
    )


async def _follow(host: Host, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "palyra_tui",
        "logs",
        "-f",
        *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(host.path),
    )


async def _read_until(stream: asyncio.StreamReader, pattern: str, seen: list[str]) -> None:
    async with asyncio.timeout(60):
        while True:
            line = (await stream.readline()).decode()
            assert line, f"the output ended before {pattern!r}: {seen[-5:]}"
            seen.append(line)
            if re.search(pattern, line):
                return


async def test_follow_goes_on_from_the_backlog_without_loss_or_repeat(
    cli_host: StartHost, tmp_path: Path
) -> None:
    done = tmp_path / "flooded"
    host = await cli_host({"worker": flooded(2_000, done)})
    await wait_for_file(done)
    process = await _follow(host, "worker")
    assert process.stdout is not None
    seen: list[str] = []
    try:
        await _read_until(process.stdout, "line 1999 of", seen)
        done.unlink()
        async with attached(host.config, "test") as runtime:
            await runtime.restart("worker")
        await _read_until(process.stdout, "line 1999 of", seen)
        process.send_signal(signal.SIGINT)
        assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert flood_numbers("".join(seen)) == list(range(2_000)) * 2
    starts = [line for line in seen if "worker started (pid" in line]
    assert len(starts) == 2


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
async def test_a_stop_signal_ends_a_follow_with_exit_0(cli_host: StartHost, stop: int) -> None:
    host = await cli_host()
    process = await _follow(host, "gateway", "-n", "1")
    assert process.stdout is not None
    try:
        await _read_until(process.stdout, "gateway", [])
        process.send_signal(stop)
        assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_follow_ends_with_exit_4_when_the_host_stops(cli_host: StartHost) -> None:
    host = await cli_host()
    process = await _follow(host, "--json")
    assert process.stdout is not None and process.stderr is not None
    try:
        await _read_until(process.stdout, '"gateway"', [])
        await stop(host.config, host.pid)
        async with asyncio.timeout(60):
            assert await process.wait() == 4
        error = json.loads(await process.stderr.read())
        assert error["code"] == 4 and "runtime host" in error["error"]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_backlog_larger_than_a_socket_message_arrives_whole(cli_host: StartHost) -> None:
    wide = {"command": child("flood-wide", "1500", "16000"), "restart": "never"}
    host = await cli_host({"wide": wide})
    ran = await until_cli(host.path, ("logs", "wide", "-n", "1"), lambda r: "done" in r.out)
    assert ran.code == 0, ran.err
    whole = await host.cli("logs", "wide", "--json")
    assert whole.code == 0, whole.err
    records = [json.loads(line) for line in whole.out.splitlines()]
    assert sum(len(r["line"]) for r in records) > 20 * 1024 * 1024
    wides = [int(m.group(1)) for r in records if (m := re.match(r"wide (\d+) ", r["line"]))]
    assert wides == list(range(1500))


TICKER = [
    sys.executable,
    "-c",
    "import time\n"
    "for i in range(1_000_000):\n"
    "    print(f'tick {i}', flush=True)\n"
    "    time.sleep(0.001)",
]


async def _ticks(process: asyncio.subprocess.Process, until: int) -> list[int]:
    assert process.stdout is not None
    ticks: list[int] = []
    async with asyncio.timeout(60):
        while not ticks or ticks[-1] < until:
            record = json.loads(await process.stdout.readline())
            found = re.fullmatch(r"tick (\d+)", record.get("line", ""))
            if found:
                ticks.append(int(found.group(1)))
    return ticks


@pytest.mark.parametrize("newest", [None, 5])
async def test_the_seam_between_backlog_and_tail_while_lines_arrive(
    cli_host: StartHost, newest: int | None
) -> None:
    host = await cli_host({"ticker": {"command": TICKER}})

    def ticking(ran: Ran) -> bool:
        found = re.search(r"tick (\d+)", ran.out)
        return found is not None and int(found.group(1)) >= 200

    await until_cli(host.path, ("logs", "ticker", "-n", "1"), ticking)
    args = ("ticker", "--json") if newest is None else ("ticker", "--json", "-n", str(newest))
    process = await _follow(host, *args)
    try:
        first = await _ticks(process, 0)
        ticks = first + await _ticks(process, first[-1] + 1_000)
    finally:
        process.send_signal(signal.SIGINT)
        await process.communicate()
    start = 0 if newest is None else ticks[0]
    assert ticks == list(range(start, start + len(ticks)))
    assert start > 200 or newest is None
