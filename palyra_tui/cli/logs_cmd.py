"""``palyra-tui logs``: the buffered backlog, and with ``-f`` the live tail.

The command asks the host for the seq of each service's newest retained line,
then opens one log stream that starts with everything retained.  A line at or
before that seq is backlog (``-n`` keeps the newest of them); any later line is
new.  So the backlog ends exactly where the host's ring ended when the command
started, and with ``-f`` nothing between backlog and tail is lost or printed
twice.

Lines the host could not keep for this reader come as gap records, inline:
``⟂ N lines dropped`` as text, ``{"event": "gap", …}`` as JSON (the records are
those of ``supervise``).  Filters never hide a gap.  Output to a pipe or a file
is never coloured, and every string from a service is sanitised again before it
is printed, so no escape sequence of a service reaches the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from palyra_tui.cli.connect import client_for
from palyra_tui.cli.exits import EXIT_NO_HOST, EXIT_OK, EXIT_USAGE
from palyra_tui.cli.failures import CommandFailed
from palyra_tui.cli.formats import clean
from palyra_tui.cli.records import log_lines
from palyra_tui.cli.stdout import Stdout, StdoutClosed
from palyra_tui.config import Config
from palyra_tui.errors import HostDisconnected
from palyra_tui.host import wire
from palyra_tui.host.client import HostClient
from palyra_tui.models import LogLevel, LogLine
from palyra_tui.models.clock import Clock, SystemClock
from palyra_tui.state.log_filter import effective_level, matches

_RESET = "\x1b[0m"
_GAP = "\x1b[33m"
_LEVEL_COLOURS = {LogLevel.WARN: "\x1b[33m", LogLevel.ERROR: "\x1b[31m"}
"""The only escape sequences ``logs`` writes: its own colours, on a terminal."""

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


@dataclass(frozen=True, slots=True)
class LogOptions:
    """What ``logs`` prints."""

    services: tuple[str, ...] = ()
    count: int | None = None
    follow: bool = False
    since: float | None = None
    """Seconds back from now."""
    level: LogLevel | None = None
    grep: re.Pattern[str] | None = None
    as_json: bool = False


def parse_duration(text: str) -> float:
    """``90s``, ``5m``, ``1h30m``, ``2d``, ``250ms``; a bare number is seconds."""
    stripped = text.strip()
    with contextlib.suppress(ValueError):
        value = float(stripped)
        if value >= 0:
            return value
    total = 0.0
    position = 0
    for match in _DURATION.finditer(stripped):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position == 0 or position != len(stripped):
        raise CommandFailed(
            f"--since {text!r} is not a duration (say 90s, 5m, 1h30m or 2d)", EXIT_USAGE
        )
    return total


def parse_level(text: str) -> LogLevel:
    """``info``, ``WARN``, ``error``… as a level."""
    level = LogLevel.parse(text)
    if level is None:
        names = ", ".join(level.name.lower() for level in LogLevel)
        raise CommandFailed(f"--level {text!r} is not a level ({names})", EXIT_USAGE)
    return level


def parse_pattern(text: str) -> re.Pattern[str]:
    """``--grep``: a regular expression, searched in the text, service and target."""
    try:
        return re.compile(text)
    except re.error as error:
        raise CommandFailed(
            f"--grep {text!r} is not a regular expression: {error}", EXIT_USAGE
        ) from None


async def run_logs(config: Config, options: LogOptions, clock: Clock | None = None) -> int:
    """Print the backlog (and with ``-f`` follow the tail); returns the exit code."""
    now = (clock or SystemClock()).time()
    out = Stdout()
    client = client_for(config, "logs")
    try:
        await client.connect()
        names = await _services(client, options.services)
        newest = {name: await _newest_seq(client, name) for name in names}
        since = now - options.since if options.since is not None else None
        printer = _Printer(options, since, colour=out.colour and not options.as_json)
        work = _print_logs(client, names, newest, options, printer, out)
        if not options.follow:
            await work
            return EXIT_OK
        return await _until_stopped(work)
    except StdoutClosed:
        return EXIT_OK
    finally:
        await client.close()
        await out.aclose()


async def _services(client: HostClient, wanted: tuple[str, ...]) -> tuple[str, ...]:
    names = (await client.call(wire.SERVICE_NAMES, wire.Empty(), wire.Names)).names
    unknown = [name for name in wanted if name not in names]
    if unknown:
        known = ", ".join(names)
        raise CommandFailed(
            f"no service called {', '.join(map(repr, unknown))} (configured: {known})", EXIT_USAGE
        )
    return tuple(dict.fromkeys(wanted)) if wanted else names


async def _newest_seq(client: HostClient, name: str) -> int:
    """The seq of the newest line the host retains for ``name`` (0 for none)."""
    reply = await client.call(wire.TAIL, wire.TailRequest(name, 1), wire.Lines)
    return reply.lines[-1].seq if reply.lines else 0


async def _until_stopped(work: Coroutine[Any, Any, None]) -> int:
    """Follow until SIGINT or SIGTERM (exit 0), or until the host goes away (exit 4)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        stopped.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if stop.is_set() and not task.done():
        return EXIT_OK
    if task.cancelled():
        return EXIT_OK
    error = task.exception()
    if error is not None:
        raise error
    raise CommandFailed(
        "the runtime host ended the log stream: it stopped, or was stopped", EXIT_NO_HOST
    )


async def _print_logs(
    client: HostClient,
    names: tuple[str, ...],
    newest: dict[str, int],
    options: LogOptions,
    printer: _Printer,
    out: Stdout,
) -> None:
    """Read the log stream: the backlog first (whole), then, with ``-f``, what follows.

    A line is backlog when its seq is at most the newest one its service had when
    the command started; the backlog is complete once every service reached it.
    New lines that arrive before that wait, and are printed after the backlog.
    """
    pending = {name for name, seq in newest.items() if seq > 0}
    if not pending and not options.follow:
        return
    backlog: list[LogLine] = []
    held: list[LogLine] = []
    request = wire.LogsRequest(names, backlog=True)
    batches = client.stream_batches(wire.LOGS, request, wire.Lines)
    try:
        async with contextlib.aclosing(batches):
            async for items in batches:
                fresh = held if pending else []
                for item in items:
                    for line in item.lines:
                        limit = newest[line.service]
                        (backlog if line.seq <= limit else fresh).append(line)
                        if pending and line.seq >= limit:
                            pending.discard(line.service)
                if pending:
                    continue
                if backlog:
                    await out.write(printer.render(_newest(printer.keep(backlog), options.count)))
                    backlog = []
                if not options.follow:
                    return
                if fresh:
                    await out.write(printer.render(printer.keep(fresh)))
                held = []
    except HostDisconnected:
        raise CommandFailed(
            "the runtime host went away while the logs were read", EXIT_NO_HOST
        ) from None
    if pending:
        raise CommandFailed(
            "the runtime host ended the log stream before the backlog was read", EXIT_NO_HOST
        )


def _newest(lines: list[LogLine], count: int | None) -> Sequence[LogLine]:
    """The newest ``count`` lines, with the gap records among them."""
    if count is None:
        return lines
    if count <= 0:
        return ()
    kept = 0
    start = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        start = index
        if not lines[index].is_gap:
            kept += 1
            if kept == count:
                break
    return lines[start:]


class _Printer:
    """Filters lines and renders them as text or as JSON records."""

    def __init__(self, options: LogOptions, since_ts: float | None, *, colour: bool) -> None:
        self._options = options
        self._colour = colour
        self._since = since_ts
        self._filtered = (
            since_ts is not None or options.level is not None or options.grep is not None
        )
        self._stamps: dict[int, str] = {}

    def keep(self, lines: list[LogLine]) -> list[LogLine]:
        """The lines the filters let through; a gap passes all but ``--since``."""
        if not self._filtered:
            return lines
        since, level, pattern = self._since, self._options.level, self._options.grep
        kept = []
        for line in lines:
            if since is not None and line.ts < since:
                continue
            if not line.is_gap:
                if level is not None and effective_level(line) < level:
                    continue
                if pattern is not None and not matches(line, pattern):
                    continue
            kept.append(line)
        return kept

    def render(self, lines: Sequence[LogLine]) -> str:
        if self._options.as_json:
            return "".join(log_lines(lines))
        return "".join([self._text(line) for line in lines])

    def _text(self, line: LogLine) -> str:
        second = int(line.ts)
        stamp = self._stamps.get(second)
        if stamp is None:
            if len(self._stamps) > 4096:
                self._stamps.clear()
            stamp = self._stamps[second] = time.strftime("%H:%M:%S", time.localtime(second))
        millis = int((line.ts - second) * 1000)
        service = clean(line.service)
        if line.is_gap:
            gap = clean(line.message)
            if self._colour:
                gap = f"{_GAP}{gap}{_RESET}"
            return f"{stamp}.{millis:03d} {service} {gap}\n"
        level = f"{line.level.name if line.level is not None else '-':<5}"
        if self._colour and line.level is not None and line.level >= LogLevel.WARN:
            level = f"{_LEVEL_COLOURS[line.level]}{level}{_RESET}"
        target = f"{clean(line.target)}: " if line.target else ""
        return f"{stamp}.{millis:03d} {service} {level} {target}{clean(line.text)}\n"
