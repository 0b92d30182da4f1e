"""Writing ``supervise``'s JSON lines to stdout without stalling and without silent loss.

A consumer that stops reading stdout (a paused pager, a pipe nobody drains)
must not stall the event loop, or a stop signal could not stop the services.
So a thread of its own writes: each time round it takes the records queued
for it and every log line the supervisor stored since, and writes them all
with one call (continued after a partial write).  A flush per record is what
made the first version fall behind.

The log lines come from a source the thread calls each time round (for
``supervise``, a buffered log subscription, filled by the supervisor thread
as lines are stored).  The event loop only wakes the thread when lines arrive
after a quiet spell; during a flood it goes back for more as soon as a write
is done.  Lines the source could not keep come as gap records with the
service and the count.  Records handed to :meth:`JsonLinesWriter.put` (state
changes, signals) are never dropped.

Stdout may still be stalled at exit.  :meth:`JsonLinesWriter.close` gives up at
a deadline and counts exactly which records never got out.
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import os
import select
import socket
import stat
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from palyra_tui.cli.records import RecordKind, log_lines
from palyra_tui.models import LogLine

LogSource = Callable[[], Sequence[LogLine]]
"""Returns the log lines stored since its last call (gap lines included), oldest first."""


class SinkError(Exception):
    """A write ended before all bytes were out; ``written`` of them were.

    ``cause`` is empty when the write was aborted.
    """

    def __init__(self, written: int, cause: str) -> None:
        super().__init__(cause)
        self.written = written
        self.cause = cause


class Sink:
    """A file descriptor whose writes another thread can abort.

    A regular file never stalls for long and is written as it is.  A pipe, FIFO
    or terminal is reopened through ``/proc/self/fd`` with ``O_NONBLOCK``: a new
    open file description, so the one we share with the shell or another
    process keeps its flags.  A socket is sent to with ``MSG_DONTWAIT`` for the
    same reason.  Where neither works the descriptor is written blocking and
    :meth:`abort` cannot interrupt a write in progress (``can_abort`` is False).
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._own = False
        self._socket: socket.socket | None = None
        self.can_abort = False
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            mode = 0
        if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
            flags = os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
            with contextlib.suppress(OSError):
                self._fd = os.open(f"/proc/self/fd/{fd}", flags)
                self._own = self.can_abort = True
        elif stat.S_ISSOCK(mode):
            with contextlib.suppress(OSError):
                self._socket = socket.socket(fileno=os.dup(fd))
                self.can_abort = True

    def write(self, data: bytes) -> None:
        """Write all of ``data``, or raise :class:`SinkError` saying how much got out."""
        written = 0
        with memoryview(data) as view:
            while written < len(view):
                try:
                    written += self._write_some(view[written:])
                except BlockingIOError:
                    if not self._wait_writable():
                        raise SinkError(written, "") from None
                except OSError as exc:
                    if exc.errno == errno.EPIPE:
                        raise SinkError(written, "stdout was closed") from None
                    raise SinkError(written, f"writing to stdout failed: {exc}") from None

    def abort(self) -> None:
        """Make a write that waits for the consumer give up now (any thread)."""
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def close(self) -> None:
        """Release our own descriptors (never the one we were given)."""
        if self._socket is not None:
            self._socket.close()
        if self._own:
            os.close(self._fd)
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _write_some(self, view: memoryview) -> int:
        if self._socket is not None:
            return self._socket.send(view, socket.MSG_DONTWAIT)
        return os.write(self._fd, view)

    def _wait_writable(self) -> bool:
        """Wait until the consumer takes more; False when aborted."""
        poller = select.poll()
        target = self._socket.fileno() if self._socket is not None else self._fd
        poller.register(target, select.POLLOUT)
        poller.register(self._wake_r, select.POLLIN)
        ready = poller.poll()
        return not any(fd == self._wake_r for fd, _ in ready)


@dataclass(frozen=True, slots=True)
class RecordCounts:
    """Records by kind; ``gap_lines`` is how many log lines the gap records stand for."""

    log: int = 0
    state: int = 0
    signal: int = 0
    gap: int = 0
    gap_lines: int = 0

    @property
    def total(self) -> int:
        """Records of every kind."""
        return self.log + self.state + self.signal + self.gap

    def __add__(self, other: RecordCounts) -> RecordCounts:
        return RecordCounts(
            log=self.log + other.log,
            state=self.state + other.state,
            signal=self.signal + other.signal,
            gap=self.gap + other.gap,
            gap_lines=self.gap_lines + other.gap_lines,
        )


@dataclass(frozen=True, slots=True)
class OutputReport:
    """What became of the records once the writer closed."""

    written: int
    """Records written whole."""
    unwritten: RecordCounts
    """Records that never got out whole."""
    dropped_lines: int
    """Log lines that gap records stood for, whether those records got out or not."""
    cause: str
    """Why records were not written ("" when all were)."""

    @property
    def lost(self) -> bool:
        """True when what reached stdout is not everything there was."""
        return self.unwritten.total > 0 or self.dropped_lines > 0


@dataclass(frozen=True, slots=True)
class _Record:
    kind: RecordKind
    line: str
    ts: float | None


_Segment = _Record | Sequence[LogLine]


class JsonLinesWriter:
    """Writes records and log lines from a thread of its own, one write per round."""

    def __init__(self, fd: int, logs: LogSource | None = None) -> None:
        self._sink = Sink(fd)
        self._logs = logs
        self._read_lock = threading.Lock()
        self._cond = threading.Condition()
        self._queue: deque[_Record] = deque()
        self._poked = False
        self._in_flight: list[_Segment] = []
        self._closing = False
        self._abort_cause = ""
        self._cause = ""
        self._written = 0
        self._unwritten = RecordCounts()
        self._dropped_lines = 0
        self._thread = threading.Thread(target=self._run, name="supervise-output", daemon=True)
        self._thread.start()

    # Any thread -------------------------------------------------------------

    def put(self, kind: RecordKind, line: str, ts: float | None = None) -> None:
        """Queue one record (a JSON line with its newline); never dropped.

        A record with a ``ts`` is written among the log lines by time; one
        without goes after the lines read with it.
        """
        record = _Record(kind, line, ts)
        with self._cond:
            if self._cause:
                self._unwritten += _count((record,))
                return
            self._queue.append(record)
            self._cond.notify()

    def poke(self) -> None:
        """New log lines may be waiting: read them."""
        with self._cond:
            self._poked = True
            self._cond.notify()

    def close(self, timeout: float) -> OutputReport:
        """Write what is left within ``timeout`` seconds; report what did not get out."""
        late = f"stdout did not take them within {timeout:g} s"
        with self._cond:
            self._closing = True
            self._abort_cause = late
            self._cond.notify()
        self._thread.join(timeout)
        if self._thread.is_alive() and self._sink.can_abort:
            self._sink.abort()
            self._thread.join(timeout)
        with self._cond:
            if self._thread.is_alive():
                self._give_up(late, 0)
            else:
                self._sink.close()
                if self._cause:
                    self._unwritten += _count((self._read_logs_now(),))
            return OutputReport(
                written=self._written,
                unwritten=self._unwritten,
                dropped_lines=self._dropped_lines,
                cause=self._cause if self._unwritten.total else "",
            )

    # The writer thread ------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._poked and not self._closing:
                    self._cond.wait()
                records = list(self._queue)
                self._queue.clear()
                self._poked = False
                closing = self._closing
            lines = self._read_logs()
            if not records and not lines:
                if closing:
                    return
                continue
            segments = _interleave(records, lines)
            with self._cond:
                self._in_flight = segments
            text = _render(segments)
            try:
                self._sink.write("".join(text).encode("ascii"))
            except SinkError as exc:
                with self._cond:
                    cause = exc.cause or self._abort_cause
                    self._give_up(cause, _whole_records(text, exc.written))
                return
            with self._cond:
                self._written += len(text)
                self._in_flight = []
                if lines:
                    self._poked = True

    def _read_logs(self) -> Sequence[LogLine]:
        if self._logs is None:
            return ()
        with self._read_lock:
            lines = self._logs()
        dropped = sum(line.dropped for line in lines if line.dropped)
        if dropped:
            with self._cond:
                self._dropped_lines += dropped
        return lines

    def _give_up(self, cause: str, done: int) -> None:
        """Stop writing: count what is in flight (past ``done`` records), queued and unread."""
        self._cause = self._cause or cause
        self._written += done
        unread = self._read_logs_now()
        self._unwritten += (
            _count(self._in_flight, skip=done) + _count(self._queue) + _count((unread,))
        )
        self._in_flight = []
        self._queue.clear()

    def _read_logs_now(self) -> Sequence[LogLine]:
        """The lines nobody will write now (called with the condition held)."""
        if self._logs is None or not self._read_lock.acquire(timeout=1.0):
            return ()
        try:
            lines = self._logs()
        finally:
            self._read_lock.release()
        self._dropped_lines += sum(line.dropped for line in lines if line.dropped)
        return lines


def _interleave(records: list[_Record], lines: Sequence[LogLine]) -> list[_Segment]:
    """Records placed among the lines by time; untimed records after them."""
    if not records:
        return [lines]
    segments: list[_Segment] = []
    start = 0
    for record in records:
        if record.ts is None:
            continue
        cut = bisect.bisect_right(lines, record.ts, lo=start, key=_line_ts)
        if cut > start:
            segments.append(lines[start:cut])
        segments.append(record)
        start = cut
    if start < len(lines):
        segments.append(lines[start:])
    segments.extend(record for record in records if record.ts is None)
    return segments


def _line_ts(line: LogLine) -> float:
    return line.ts


def _render(segments: Iterable[_Segment]) -> list[str]:
    text: list[str] = []
    for segment in segments:
        if isinstance(segment, _Record):
            text.append(segment.line)
        else:
            text.extend(log_lines(segment))
    return text


def _whole_records(text: list[str], written: int) -> int:
    """How many whole records the first ``written`` bytes held (every record is ASCII)."""
    done = 0
    for line in text:
        written -= len(line)
        if written < 0:
            break
        done += 1
    return done


def _count(segments: Iterable[_Segment], skip: int = 0) -> RecordCounts:
    """Records of ``segments`` by kind, leaving out the first ``skip``."""
    counts = dict.fromkeys(RecordKind, 0)
    gap_lines = 0
    for segment in segments:
        if isinstance(segment, _Record):
            if skip:
                skip -= 1
            else:
                counts[segment.kind] += 1
            continue
        for line in segment:
            if skip:
                skip -= 1
            elif line.dropped:
                counts[RecordKind.GAP] += 1
                gap_lines += line.dropped
            else:
                counts[RecordKind.LOG] += 1
    return RecordCounts(
        log=counts[RecordKind.LOG],
        state=counts[RecordKind.STATE],
        signal=counts[RecordKind.SIGNAL],
        gap=counts[RecordKind.GAP],
        gap_lines=gap_lines,
    )


def write_within(fd: int, data: bytes, timeout: float) -> bool:
    """Write ``data`` to ``fd`` unless it takes longer than ``timeout`` s; True when it got out.

    For the last words on stderr, which may be the same stalled pipe as stdout.
    """
    sink = Sink(fd)
    failed: list[SinkError] = []

    def write() -> None:
        try:
            sink.write(data)
        except SinkError as exc:
            failed.append(exc)

    thread = threading.Thread(target=write, name="supervise-stderr", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive() and sink.can_abort:
        sink.abort()
        thread.join(timeout)
    if thread.is_alive():
        return False
    sink.close()
    return not failed
