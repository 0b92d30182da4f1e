"""``palyra-tui supervise``: the runtime host in the foreground, JSON lines on stdout.

It serves the runtime host's socket like ``palyra-tui host``, so that a
service manager can run it and every ``palyra-tui`` attaches to it;
``palyra-tui down`` stops it like a stop signal.

Every state change becomes one JSON object on its own line
(``{"event": "state", "ts", "service", "state", "pid", …}``); with ``--logs``
every captured log line does too (``{"event": "log", …}``), and lines that
could not be kept for stdout become ``{"event": "gap", …}`` records with the
service and the count.  SIGINT, SIGTERM, SIGHUP or SIGQUIT stops every service
cleanly, the gateway last, and then the command exits 0; a second one while
they stop kills every process group at once.  SIGUSR1 and SIGUSR2 are recorded
and ignored.  When output was lost, stderr says how much and the exit code is 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from functools import partial

from palyra_tui.cli.exits import EXIT_ERROR, EXIT_OK, INTERRUPTED, say
from palyra_tui.cli.notify import Notifier
from palyra_tui.cli.output import JsonLinesWriter, OutputReport, RecordCounts, write_within
from palyra_tui.cli.records import RecordKind, initial_line, signal_line, state_line
from palyra_tui.config import Config
from palyra_tui.errors import PalyraError
from palyra_tui.host.main import RuntimeHost, supervisor_for
from palyra_tui.supervisor import Supervisor
from palyra_tui.supervisor.subscriptions import LogSubscription

CLOSE_TIMEOUT = 5.0
"""How long records still queued at exit may take to reach a slow stdout."""
BUFFERED_LINES = 100_000
"""Log lines that may wait for stdout; the rings' size does not matter to the output.

The lines are handed over by the supervisor thread as they are stored, so the
writer can fall behind by this much however late its thread is scheduled.  With
the default 10,000-line rings, reading them instead lost lines whenever the
writer ran 40 ms late at the 250,000 lines a second a flood is ingested at."""

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
"""Each stops every service in order, the gateway last: a dropped SSH session (SIGHUP)
included.  A second one while they stop kills every process group at once."""
IGNORED_SIGNALS = (signal.SIGUSR1, signal.SIGUSR2)
"""Would end the process outright by default; noted and ignored instead."""


async def run_supervise(
    config: Config,
    *,
    logs: bool,
    out: int = 1,
    err: int = 2,
    close_timeout: float = CLOSE_TIMEOUT,
) -> int:
    """Supervise until a stop signal; returns the exit code.

    Stop signals are handled from the start: one that arrives while the
    supervisor opens ends the command before any service starts, with one
    sentence and 128 + the signal number.  ``out`` and ``err`` are file
    descriptors.  Records still waiting at exit get ``close_timeout`` seconds
    to be written; what did not get out, and the log lines dropped on the way,
    are counted in one sentence on ``err`` and make the exit code 1.
    """
    loop = asyncio.get_running_loop()
    received: list[str] = []
    stop = asyncio.Event()
    notifier = Notifier.take()
    supervisor = await asyncio.to_thread(supervisor_for, config)
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, _on_signal, signum, received, stop, supervisor)
    try:
        await asyncio.to_thread(supervisor.open)
    except BaseException:
        _remove_signal_handlers(loop)
        raise
    if stop.is_set():
        await supervisor.aclose()
        _remove_signal_handlers(loop)
        say(INTERRUPTED)
        return 128 + signal.Signals[received[0]]
    log_feed = supervisor.subscribe_logs(buffer=BUFFERED_LINES) if logs else None
    writer = JsonLinesWriter(out, log_feed.read if log_feed is not None else None)
    host = RuntimeHost(config)
    try:
        try:
            await host.serve(supervisor, partial(_down, received, stop))
        except PalyraError as error:
            say(f"the runtime host's socket is not served: {error}")
        await _supervise(supervisor, writer, log_feed, received, stop, host, notifier)
    finally:
        report = await asyncio.to_thread(writer.close, close_timeout)
        if log_feed is not None:
            log_feed.close()
        if report.lost:
            sentence = f"palyra-tui: {describe_loss(report)}\n"
            await asyncio.to_thread(write_within, err, sentence.encode(), close_timeout)
    return EXIT_ERROR if report.lost else EXIT_OK


async def _supervise(
    supervisor: Supervisor,
    writer: JsonLinesWriter,
    log_feed: LogSubscription | None,
    received: list[str],
    stop: asyncio.Event,
    host: RuntimeHost,
    notifier: Notifier | None = None,
) -> None:
    loop = asyncio.get_running_loop()
    for signum in IGNORED_SIGNALS:
        loop.add_signal_handler(signum, _on_ignored, signum, writer)
    events = supervisor.subscribe_events(max_events=None)

    async def print_events() -> None:
        async for event in events:
            writer.put(RecordKind.STATE, state_line(event), event.ts)

    async def wake_writer(feed: LogSubscription) -> None:
        while await feed.wait():
            writer.poke()

    event_task = asyncio.create_task(print_events())
    log_task = asyncio.create_task(wake_writer(log_feed)) if log_feed is not None else None
    try:
        snapshot = supervisor.snapshot()
        for service in snapshot.services:
            if not service.enabled:
                line = initial_line(service, snapshot.taken_at)
                writer.put(RecordKind.STATE, line, snapshot.taken_at)
        await supervisor.start_all()
        if notifier is not None:
            notifier.ready_once_started(supervisor)
        await stop.wait()
        if notifier is not None:
            notifier.stopping()
        await supervisor.stop_all(f"stopped: palyra-tui received {received[0]}")
    finally:
        _remove_signal_handlers(loop)
        await host.stop_serving()
        await supervisor.aclose()
        events.close()
        with contextlib.suppress(asyncio.CancelledError):
            await event_task
        if log_task is not None:
            log_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await log_task


def _down(received: list[str], stop: asyncio.Event) -> None:
    """``palyra-tui down`` stops the foreground host as a stop signal would."""
    received.append("a request from palyra-tui down")
    stop.set()


def _remove_signal_handlers(loop: asyncio.AbstractEventLoop) -> None:
    for signum in (*STOP_SIGNALS, *IGNORED_SIGNALS):
        loop.remove_signal_handler(signum)


def describe_loss(report: OutputReport) -> str:
    """One sentence with the counts of what stdout did not get."""
    dropped = report.dropped_lines
    dropped_text = f"{dropped:,} log {'line was' if dropped == 1 else 'lines were'} dropped"
    if not report.unwritten.total:
        return f"{dropped_text} because output to stdout fell behind (gap records say where)."
    unwritten = _counted(report.unwritten)
    verb = "was" if report.unwritten.total == 1 else "were"
    sentence = f"{unwritten} {verb} not written ({report.cause})"
    if dropped:
        sentence += f", and {dropped_text} because output to stdout fell behind"
    return sentence + "."


def _counted(counts: RecordCounts) -> str:
    parts = [
        f"{count:,} {singular if count == 1 else plural}"
        for count, singular, plural in (
            (counts.log, "log line", "log lines"),
            (counts.state, "state change", "state changes"),
            (counts.signal, "signal record", "signal records"),
            (counts.gap, "gap record", "gap records"),
        )
        if count
    ]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _on_signal(
    signum: int, received: list[str], stop: asyncio.Event, supervisor: Supervisor
) -> None:
    """The first stop signal stops every service in order; the next one kills them now."""
    received.append(signal.Signals(signum).name)
    if stop.is_set():
        supervisor.kill_now()
    stop.set()


def _on_ignored(signum: int, writer: JsonLinesWriter) -> None:
    writer.put(RecordKind.SIGNAL, signal_line(signal.Signals(signum).name))
