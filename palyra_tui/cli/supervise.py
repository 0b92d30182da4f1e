"""``palyra-tui supervise``: the supervisor in the foreground, JSON lines on stdout.

Every state change becomes one JSON object on its own line
(``{"event": "state", "ts", "service", "state", "pid", …}``); with ``--logs``
every captured log line does too (``{"event": "log", …}``).  SIGINT, SIGTERM,
SIGHUP or SIGQUIT stops every service cleanly, the gateway last, and then the
command exits 0; a second one while they stop kills every process group at
once.  SIGUSR1 and SIGUSR2 are recorded and ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import signal
import sys
import threading
from typing import Any, TextIO

from palyra_tui.cli.exits import INTERRUPTED, say
from palyra_tui.config import Config
from palyra_tui.models import LogLine, ServiceEvent, ServiceSnapshot
from palyra_tui.supervisor import Supervisor


def state_record(event: ServiceEvent) -> dict[str, Any]:
    """The JSON object printed for a state change."""
    record: dict[str, Any] = {
        "event": "state",
        "ts": round(event.ts, 3),
        "service": event.service,
        "state": event.state.value,
        "pid": event.pid,
    }
    if event.reason:
        record["reason"] = event.reason
    if event.exit is not None:
        record["exit_code"] = event.exit.code
        record["signal"] = event.exit.signal_name
    if event.attempt:
        record["attempt"] = event.attempt
    if event.next_attempt_at is not None:
        record["next_attempt_at"] = round(event.next_attempt_at, 3)
    return record


def initial_record(service: ServiceSnapshot, ts: float) -> dict[str, Any]:
    """The JSON object printed at start-up for a service that will not start."""
    return state_record(
        ServiceEvent(
            ts=ts, service=service.name, state=service.state, pid=service.pid, reason=service.reason
        )
    )


def log_record(line: LogLine) -> dict[str, Any]:
    """The JSON object printed for a log line (``--logs``)."""
    record: dict[str, Any] = {
        "event": "log",
        "ts": round(line.ts, 3),
        "service": line.service,
        "stream": line.stream.value,
        "line": line.text,
    }
    if line.level is not None:
        record["level"] = line.level.name
    if line.target:
        record["target"] = line.target
    if line.truncated:
        record["truncated"] = True
    if line.dropped:
        record["dropped"] = line.dropped
    return record


class _Printer:
    """Writes JSON lines from a thread of its own.

    A consumer that stops reading stdout (a paused pager) must not stall the
    event loop, or Ctrl-C could not stop the services.  Records wait in a
    bounded queue; when it is full they are dropped and counted, and a
    ``{"event": "gap", "dropped": N}`` record says so once writing resumes.
    """

    def __init__(self, out: TextIO, capacity: int = 10_000) -> None:
        self._out = out
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(capacity)
        self._dropped = 0
        self._lock = threading.Lock()
        self.broken = False
        self._thread = threading.Thread(target=self._run, name="supervise-output", daemon=True)
        self._thread.start()

    def emit(self, record: dict[str, Any]) -> None:
        if self.broken:
            return
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            with self._lock:
                self._dropped += 1

    def close(self, timeout: float = 5.0) -> None:
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            record = self._queue.get()
            if record is None:
                return
            with self._lock:
                dropped, self._dropped = self._dropped, 0
            try:
                if dropped:
                    self._write({"event": "gap", "dropped": dropped})
                self._write(record)
            except (OSError, ValueError):
                self.broken = True
                return

    def _write(self, record: dict[str, Any]) -> None:
        self._out.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._out.flush()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
"""Each stops every service in order, the gateway last: a dropped SSH session (SIGHUP)
included.  A second one while they stop kills every process group at once."""
IGNORED_SIGNALS = (signal.SIGUSR1, signal.SIGUSR2)
"""Would end the process outright by default; noted and ignored instead."""


async def run_supervise(config: Config, *, logs: bool, out: TextIO = sys.stdout) -> int:
    """Supervise until SIGINT or SIGTERM; returns the exit code.

    Stop signals are handled from the start: one that arrives while the
    supervisor opens ends the command before any service starts, with one
    sentence and 128 + the signal number.
    """
    printer = _Printer(out)
    supervisor = Supervisor(config)
    loop = asyncio.get_running_loop()
    received: list[str] = []
    stop = asyncio.Event()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, _on_signal, signum, received, stop, supervisor)
    try:
        await asyncio.to_thread(supervisor.open)
    except BaseException:
        _remove_signal_handlers(loop)
        printer.close()
        raise
    if stop.is_set():
        await supervisor.aclose()
        _remove_signal_handlers(loop)
        printer.close()
        say(INTERRUPTED)
        return 128 + signal.Signals[received[0]]
    for signum in IGNORED_SIGNALS:
        loop.add_signal_handler(signum, _on_ignored, signum, printer)
    events = supervisor.subscribe_events()
    log_feed = supervisor.subscribe_logs() if logs else None

    async def print_events() -> None:
        reported = 0
        async for event in events:
            if events.lost > reported:
                printer.emit({"event": "gap", "dropped": events.lost - reported})
                reported = events.lost
            printer.emit(state_record(event))

    async def print_logs() -> None:
        assert log_feed is not None
        async for batch in log_feed:
            for line in batch:
                printer.emit(log_record(line))

    event_task = asyncio.create_task(print_events())
    log_task = asyncio.create_task(print_logs()) if log_feed is not None else None
    try:
        snapshot = supervisor.snapshot()
        for service in snapshot.services:
            if not service.enabled:
                printer.emit(initial_record(service, snapshot.taken_at))
        await supervisor.start_all()
        await stop.wait()
        await supervisor.stop_all(f"stopped: palyra-tui received {received[0]}")
    finally:
        for signum in (*STOP_SIGNALS, *IGNORED_SIGNALS):
            loop.remove_signal_handler(signum)
        await supervisor.aclose()
        events.close()
        with contextlib.suppress(asyncio.CancelledError):
            await event_task
        if log_task is not None and log_feed is not None:
            log_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await log_task
            for line in log_feed.read():
                printer.emit(log_record(line))
            log_feed.close()
        printer.close()
    return 0


def _remove_signal_handlers(loop: asyncio.AbstractEventLoop) -> None:
    for signum in (*STOP_SIGNALS, *IGNORED_SIGNALS):
        loop.remove_signal_handler(signum)


def _on_signal(
    signum: int, received: list[str], stop: asyncio.Event, supervisor: Supervisor
) -> None:
    """The first stop signal stops every service in order; the next one kills them now."""
    received.append(signal.Signals(signum).name)
    if stop.is_set():
        supervisor.kill_now()
    stop.set()


def _on_ignored(signum: int, printer: _Printer) -> None:
    printer.emit({"event": "signal", "signal": signal.Signals(signum).name, "action": "ignored"})
