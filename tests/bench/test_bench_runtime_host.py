"""The runtime host and the control center attached to it, measured as an operator meets them.

A real ``palyra-tui host`` runs the reference daemons (and services of the
benchmark's own); the real ``palyra-tui`` attaches to it on a 120×40
pseudo-terminal, and every byte it writes is recorded with its arrival time.
The benchmark's own client is a :class:`SocketRuntime`, as a second UI or a
script would be.  Figures: the attached UI at rest, a state change from the
host to the screen (also while the gateway hangs), a command's round trip,
log lines through the socket, attaching, and the UI's memory with a full
host behind it.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from palyra_tui.host import wire
from palyra_tui.host.remote import SocketRuntime
from palyra_tui.models import LogLine, ServiceState
from palyra_tui.state.runtime_api import SnapshotChanged
from tests.bench.conftest import median, percentile, report
from tests.bench.host_harness import (
    FLOOD_BUDGETS,
    FLOOD_LINES,
    FLOOD_RUNS,
    Host,
    Screen,
    attached,
    bare_client,
    child,
    client_of,
    cpu_seconds,
    flood_services,
    row_shows,
    running_host,
    until,
)
from tests.bench.test_bench_ui import Pty, _env

pytestmark = pytest.mark.bench

MINIMAL = Path(__file__).with_name("minimal_app.py")
ROUNDS = 40
CALLS = 1_000
LAUNCHES = 5
IDLE_SECONDS = 30.0
RSS_SERVICES = 20
RSS_LINES = 10_000

TOGGLE = "toggle"


@pytest.fixture(scope="module")
def demo_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    """The demo's daemons plus ``toggle``, a service that hangs until it is stopped."""
    services: dict[str, dict[str, object]] = {
        TOGGLE: {
            "command": child("hang"),
            "enabled": False,
            "restart": "never",
            "start_grace": 0,
        }
    }
    with running_host(tmp_path_factory.mktemp("demo-host"), services) as host:
        yield host


# 5. Attach until live data -----------------------------------------------------------


def first_frame_and_live(term: Pty, live: bytes = b"HEALTHY") -> tuple[float, float]:
    """Milliseconds from exec to the ``Health`` tab and to ``live`` on the wire."""
    frame = (term.first_time(b"Health") - term.started) * 1000
    return frame, (term.first_time(live) - term.started) * 1000


def test_attach_to_a_running_host(demo_host: Host) -> None:
    """Exec to the first frame and to live data: attached, in-process (the demo), and the
    minimal two-screen Textual app's first frame, interleaved."""
    with attached(demo_host) as screen:
        screen.first_time(b"HEALTHY")
    attach: list[tuple[float, float]] = []
    demo: list[tuple[float, float]] = []
    minimal: list[float] = []
    for _ in range(LAUNCHES):
        with attached(demo_host) as screen:
            attach.append(first_frame_and_live(screen))
        term = Pty([sys.executable, "-m", "palyra_tui", "demo"], _env())
        try:
            demo.append(first_frame_and_live(term))
        finally:
            term.close()
        term = Pty([sys.executable, str(MINIMAL)], _env())
        try:
            minimal.append(first_frame_and_live(term, b"Health")[0])
        finally:
            term.close()
    attach_frame = median([frame for frame, _ in attach])
    report(
        "host_attach_ms",
        launches=LAUNCHES,
        attach_first_frame_p50=round(attach_frame),
        attach_live_data_p50=round(median([live for _, live in attach])),
        attach_live_data_max=round(max(live for _, live in attach)),
        demo_first_frame_p50=round(median([frame for frame, _ in demo])),
        demo_live_data_p50=round(median([live for _, live in demo])),
        minimal_app_first_frame_p50=round(median(minimal)),
        attach_to_minimal_frame_ratio=round(attach_frame / median(minimal), 2),
    )


# 3. A command's round trip ------------------------------------------------------------


async def test_command_round_trip(demo_host: Host) -> None:
    """Hold and release toggles from a client while a UI watches, and a bare unary call."""
    with attached(demo_host) as screen:
        screen.first_time(b"HEALTHY")
        async with client_of(demo_host) as runtime:
            holds: list[float] = []
            for index in range(CALLS):
                started = time.perf_counter()
                await runtime.hold(TOGGLE, index % 2 == 0)
                holds.append((time.perf_counter() - started) * 1000)
            bare: list[float] = []
            for _ in range(CALLS):
                started = time.perf_counter()
                await runtime.client.call(wire.SERVICE_NAMES, wire.Empty(), wire.Names)
                bare.append((time.perf_counter() - started) * 1000)
            await runtime.hold(TOGGLE, False)
    report(
        "host_command_round_trip_ms",
        calls=CALLS,
        hold_p50=round(median(holds), 3),
        hold_p99=round(percentile(holds, 0.99), 3),
        hold_max=round(max(holds), 2),
        bare_call_p50=round(median(bare), 3),
        bare_call_p99=round(percentile(bare, 0.99), 3),
    )


# 2. A state change, from the host to the screen ------------------------------------------


class StateLog:
    """When the benchmark's own client saw each state of ``toggle``."""

    def __init__(self, runtime: SocketRuntime) -> None:
        self.seen: list[tuple[float, ServiceState]] = []
        self._feed = runtime.subscribe()
        self._task = asyncio.get_running_loop().create_task(self._follow())

    async def _follow(self) -> None:
        async for message in self._feed:
            if isinstance(message, SnapshotChanged):
                service = message.snapshot.supervisor.get(TOGGLE)
                if service is not None and (not self.seen or self.seen[-1][1] != service.state):
                    self.seen.append((time.monotonic(), service.state))

    def first(self, after: float, states: frozenset[ServiceState]) -> float:
        return next(at for at, state in self.seen if at >= after and state in states)

    def close(self) -> None:
        self._feed.close()
        self._task.cancel()


UP = frozenset({ServiceState.STARTING, ServiceState.RUNNING})
DOWN = frozenset({ServiceState.STOPPING, ServiceState.STOPPED})
ENDED = frozenset({ServiceState.EXITED, ServiceState.FAILED, ServiceState.BACKOFF})


async def state_rounds(
    runtime: SocketRuntime, screen: Screen, rounds: int
) -> dict[str, list[float]]:
    """Start, SIGKILL, start and stop ``toggle`` ``rounds`` times: milliseconds from each
    action to the new state on the screen, and to the benchmark's own client."""
    shown: dict[str, list[float]] = {"kill": [], "stop": [], "start": []}
    heard: dict[str, list[float]] = {"kill": [], "stop": [], "start": []}
    states = StateLog(runtime)

    async def measure(
        kind: str,
        act: Callable[[], object],
        words: tuple[str, ...],
        wanted: frozenset[ServiceState],
    ) -> float:
        sent = time.monotonic()
        done = act()
        task = asyncio.ensure_future(done) if asyncio.iscoroutine(done) else None
        at = await asyncio.to_thread(screen.first_match, row_shows(TOGGLE, *words), sent)
        if task is not None:
            await task
        shown[kind].append((at - sent) * 1000)
        await until(lambda: any(s in wanted for t, s in states.seen if t >= sent), kind)
        heard[kind].append((states.first(sent, wanted) - sent) * 1000)
        return sent

    def toggle_state() -> ServiceState | None:
        service = runtime.services().get(TOGGLE)
        return service.state if service is not None else None

    async def start() -> None:
        sent = await measure("start", lambda: runtime.start(TOGGLE), ("starting", "running"), UP)
        await until(lambda: toggle_state() is ServiceState.RUNNING, "toggle running")
        await asyncio.to_thread(screen.first_match, row_shows(TOGGLE, "running"), sent)
        await asyncio.sleep(0.05)

    try:
        for _ in range(rounds):
            await start()
            service = runtime.services().get(TOGGLE)
            assert service is not None and service.pid
            pid = service.pid
            await measure(
                "kill",
                lambda: os.kill(pid, signal.SIGKILL),  # noqa: B023
                ("exited", "failed", "backoff"),
                ENDED,
            )
            await asyncio.sleep(0.05)
            await start()
            sent = await measure(
                "stop", lambda: runtime.stop(TOGGLE), ("stopping", "stopped"), DOWN
            )
            await asyncio.to_thread(screen.first_match, row_shows(TOGGLE, "stopped"), sent)
            await asyncio.sleep(0.05)
    finally:
        states.close()
    return {
        **{f"{kind}_screen": values for kind, values in shown.items()},
        **{f"{kind}_client": values for kind, values in heard.items()},
    }


def state_figures(phase: str, samples: dict[str, list[float]]) -> None:
    figures: dict[str, float | int | str] = {"phase": phase, "rounds": ROUNDS}
    for name, values in samples.items():
        figures[f"{name}_p50"] = round(median(values), 2)
        figures[f"{name}_p99"] = round(percentile(values, 0.99), 2)
    report("host_state_to_screen_ms", **figures)


async def test_state_change_reaches_the_screen(demo_host: Host) -> None:
    """Kill, stop and start a service; then again while the gateway is SIGSTOPped."""
    with attached(demo_host) as screen:
        screen.first_time(b"HEALTHY")
        async with client_of(demo_host) as runtime:
            state_figures("gateway_running", await state_rounds(runtime, screen, ROUNDS))
            gateway = runtime.services().get("gateway")
            assert gateway is not None and gateway.pid
            stopped = time.monotonic()
            os.kill(gateway.pid, signal.SIGSTOP)
            try:
                hung = await asyncio.to_thread(screen.first_time, b"DEGRADED", stopped, 30)
                samples = await state_rounds(runtime, screen, ROUNDS)
                state_figures("gateway_sigstopped", samples)
                report(
                    "host_gateway_hang",
                    seconds_until_degraded_shown=round(hung - stopped, 2),
                    seconds_hung=round(time.monotonic() - stopped, 1),
                )
            finally:
                os.kill(gateway.pid, signal.SIGCONT)
            await asyncio.to_thread(screen.first_time, b"HEALTHY", time.monotonic(), 30)


# 1. The attached UI at rest ----------------------------------------------------------------


def quiet_window(host: Host, seconds: float, margin: float = 3.0) -> None:
    """Wait until the next ``seconds`` neither show an uptime under a minute nor cross a
    whole minute of one (uptimes read ``1m``, ``2m`` … after the first minute)."""
    while True:
        age = time.monotonic() - host.started
        phase = age % 60
        if age >= 60 + margin and margin <= phase <= 60 - seconds - margin:
            return
        time.sleep(0.25)


def visible_text(written: bytes) -> str:
    """What the written bytes say, without escape sequences (for the report)."""
    text = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07", b" ", written).decode(
        "utf-8", errors="replace"
    )
    return " ".join(text.split())[:300]


def test_idle_attached_ui_and_host(demo_host: Host) -> None:
    """CPU of the attached UI and of the host, and bytes written, with no uptime changing.

    The window is cut into one-second slices: the UI's CPU over the slices in
    which it wrote nothing, after a slice in which it wrote nothing either, is
    its cost of staying attached while nothing on the screen changes; the
    other slices hold the repaints of figures that did change (a daemon's CPU,
    a probe's latency step), named in ``written``.  A process that follows the
    same view through :class:`SocketRuntime` without Textual runs alongside:
    the part of the UI's cost that is the socket's.
    """
    with attached(demo_host) as screen, bare_client(demo_host) as bare:
        screen.first_time(b"HEALTHY")
        ui = psutil.Process(screen.process.pid)
        time.sleep(3.0)
        quiet_window(demo_host, IDLE_SECONDS)
        slices: list[tuple[float, float, int]] = []
        host_before, bare_before = cpu_seconds(demo_host.ps), cpu_seconds(bare)
        started = moment = time.monotonic()
        used = cpu_seconds(ui)
        while moment < started + IDLE_SECONDS:
            time.sleep(1.0)
            now, cpu = time.monotonic(), cpu_seconds(ui)
            slices.append((now - moment, cpu - used, len(screen.output_between(moment, now))))
            moment, used = now, cpu
        elapsed = moment - started
        host_used = cpu_seconds(demo_host.ps) - host_before
        bare_used = cpu_seconds(bare) - bare_before
        written = screen.output_between(started, moment)
        rss = ui.memory_info().rss
    quiet = [
        (seconds, cpu)
        for (seconds, cpu, count), (_, _, before) in zip(slices[1:], slices, strict=False)
        if count == 0 and before == 0
    ]
    quiet_seconds = sum(seconds for seconds, _ in quiet)
    report(
        "host_idle",
        seconds=round(elapsed, 1),
        ui_cpu_percent=round(100 * sum(cpu for _, cpu, _ in slices) / elapsed, 3),
        ui_bytes_per_second=round(len(written) / elapsed, 1),
        quiet_seconds=round(quiet_seconds),
        ui_cpu_percent_quiet_seconds=round(100 * sum(cpu for _, cpu in quiet) / quiet_seconds, 3)
        if quiet_seconds
        else -1,
        table_repaints=written.count(b" Service "),
        socket_client_cpu_percent=round(100 * bare_used / elapsed, 3),
        host_cpu_percent=round(100 * host_used / elapsed, 3),
        ui_rss_mb=round(rss / 1_000_000, 1),
        written=visible_text(written),
    )


# 4. Log lines through the socket ------------------------------------------------------------


def accounted(lines: list[LogLine], first_seq: int = 1) -> tuple[int, int, int]:
    """Lines, gap records and dropped lines, checking that every seq is accounted for."""
    expected = first_seq
    real = gaps = dropped = 0
    for line in lines:
        if line.is_gap:
            assert line.seq == expected + line.dropped - 1, (line.seq, expected, line.dropped)
            gaps += 1
            dropped += line.dropped
        else:
            assert line.seq == expected, (line.seq, expected)
            real += 1
        expected = line.seq + 1
    return real, gaps, dropped


async def flood_run(host: Host, runtime: SocketRuntime, name: str) -> dict[str, float]:
    """Follow ``name`` from its first line, start it, and read until its last line."""
    last = f"line {FLOOD_LINES - 1} of the flood"
    received: list[LogLine] = []
    arrivals: list[float] = []
    feed = runtime.subscribe_logs([name], backlog=True)
    cpu, host_cpu = time.process_time(), cpu_seconds(host.ps)
    started = time.monotonic()
    await runtime.start(name)
    async for batch in feed:
        arrivals.append(time.monotonic())
        received.extend(batch)
        if any(line.message.startswith(last) for line in batch[-4:]):
            break
    feed.close()
    ended = time.monotonic()
    cpu, host_cpu = time.process_time() - cpu, cpu_seconds(host.ps) - host_cpu
    real, gaps, dropped = accounted(received)
    produced = sum(1 for line in received if line.message.startswith("line ")) + dropped
    assert real + dropped == received[-1].seq
    window = max(ended - arrivals[0], 1e-6)
    return {
        "lines": real,
        "gaps": gaps,
        "dropped": dropped,
        "produced": produced,
        "lines_per_s": real / window,
        "lines_per_s_from_start": real / (ended - started),
        "client_us_per_line": cpu / real * 1e6,
        "host_us_per_line": host_cpu / real * 1e6,
    }


async def test_log_lines_through_the_socket(tmp_path: Path) -> None:
    """A service writes 200,000 lines as fast as it can; one client follows it.

    Once with a ring that holds them all (no gap may appear), once with the
    default budgets (10,000 lines a service), where the lines the client could
    not take in time come back as gap records: lines + dropped == produced.
    """
    services = flood_services()
    budgets = FLOOD_BUDGETS
    for label, settings in budgets.items():
        with running_host(tmp_path / label, services, **settings) as host:
            async with client_of(host) as runtime:
                runs = [await flood_run(host, runtime, name) for name in services]
        for run in runs:
            assert run["produced"] == FLOOD_LINES, run
        if label == "whole":
            assert all(run["dropped"] == 0 for run in runs), runs
        report(
            f"host_log_lines_{label}_ring",
            produced=FLOOD_LINES,
            runs=FLOOD_RUNS,
            lines_median=round(median([run["lines"] for run in runs])),
            gaps_median=round(median([run["gaps"] for run in runs])),
            dropped_median=round(median([run["dropped"] for run in runs])),
            lines_per_s_median=round(median([run["lines_per_s"] for run in runs])),
            lines_per_s_from_start_median=round(
                median([run["lines_per_s_from_start"] for run in runs])
            ),
            client_cpu_us_per_line=round(median([run["client_us_per_line"] for run in runs]), 2),
            host_cpu_us_per_line=round(median([run["host_us_per_line"] for run in runs]), 2),
        )


# 6. The attached UI's memory with a full host behind it ---------------------------------------


def settle(process: psutil.Process, quiet: float = 0.02, timeout: float = 60.0) -> int:
    """Poll until the process used under ``quiet`` of a core for a second; the peak RSS."""
    peak = process.memory_info().rss
    deadline = time.monotonic() + timeout
    busy = True
    while busy and time.monotonic() < deadline:
        before = cpu_seconds(process)
        for _ in range(10):
            time.sleep(0.1)
            peak = max(peak, process.memory_info().rss)
        busy = cpu_seconds(process) - before > quiet
    return peak


async def test_ui_memory_with_lines_buffered_in_the_host(tmp_path: Path) -> None:
    """20 services have written 10,000 lines each; the UI attaches, then shows Logs.

    The Logs pane is mounted, hidden, right after the first frame and follows
    every service from its backlog, so the lines cross the socket even while
    the Health screen is on show: ``ui_cpu_s_attach`` is the UI's CPU from exec
    until it has settled on Health.
    """
    services: dict[str, dict[str, object]] = {
        f"flood{index:02d}": {"command": child("flood", str(RSS_LINES)), "restart": "never"}
        for index in range(RSS_SERVICES)
    }
    with running_host(tmp_path, services) as host:
        async with client_of(host) as runtime:

            def buffered() -> bool:
                return all(
                    (service := runtime.services().get(name)) is not None
                    and service.logs.total >= RSS_LINES
                    for name in services
                )

            await until(buffered, "every service's lines", timeout=120)
        with attached(host) as screen:
            screen.first_time(b"HEALTHY", timeout=60)
            ui = psutil.Process(screen.process.pid)
            health_peak = settle(ui)
            attach_cpu = cpu_seconds(ui)
            health_rss = ui.memory_info().rss
            screen.send(b"2")
            screen.first_time(b"Next match", after=time.monotonic() - 0.5)
            logs_peak = settle(ui)
            logs_rss = ui.memory_info().rss
            host_rss = host.ps.memory_info().rss
    report(
        "host_ui_rss_full_host",
        services=RSS_SERVICES,
        lines_per_service=RSS_LINES,
        ui_rss_mb_health=round(health_rss / 1_000_000, 1),
        ui_rss_mb_health_peak=round(health_peak / 1_000_000, 1),
        ui_rss_mb_logs=round(logs_rss / 1_000_000, 1),
        ui_rss_mb_logs_peak=round(logs_peak / 1_000_000, 1),
        ui_cpu_s_attach=round(attach_cpu, 2),
        host_rss_mb=round(host_rss / 1_000_000, 1),
    )
