"""Bounded, thread-safe log storage with cursor-based readers.

Each service has a ring buffer of :class:`~palyra_tui.models.LogLine` with a
per-service ``seq`` that never repeats.  Readers keep the last ``seq`` they saw
per service and ask for what came after it; when the lines they need have
already rotated out, they get a gap record that says how many they missed.
Nothing is dropped without a count and a mark.

A ring is bounded by lines and by bytes, and all rings together by a total
byte budget: a line count alone let four services writing 16 KiB lines hold
640 MiB.  A line costs :func:`~palyra_tui.models.logs.line_bytes`: the strings
it holds as Python stores them, plus an estimate of the tuple, numbers and ring
slots around them.  When the total is over budget, the service holding the
most bytes loses its oldest lines first, so one flooding service cannot erase
the others' history.

The supervisor thread writes; any thread reads.  One lock guards the rings and
is held only for an ``extend`` with the rotation it causes, or a slice copy.
"""

from __future__ import annotations

import heapq
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, islice

from palyra_tui.models import LogCounters, LogLevel, LogLine, LogStream
from palyra_tui.models.logs import line_costs

MIB = 1024 * 1024


@dataclass(slots=True)
class _Ring:
    lines: deque[LogLine]
    costs: deque[int]
    next_seq: int = 1
    truncated: int = 0
    hidden: int = 0
    bytes_read: int = 0
    held: int = 0

    @property
    def first_seq(self) -> int:
        return self.next_seq - len(self.lines)


class LogStore:
    """The log rings of every service of one supervisor.

    ``capacity`` lines and ``service_bytes`` per service, ``total_bytes`` for all
    of them; the bytes held (each line's
    :func:`~palyra_tui.models.logs.line_bytes`) never exceed either budget once
    a write returns.
    """

    def __init__(
        self, capacity: int, *, service_bytes: int = 64 * MIB, total_bytes: int = 256 * MIB
    ) -> None:
        self.capacity = capacity
        self.service_bytes = service_bytes
        self.total_bytes = total_bytes
        self._lock = threading.Lock()
        self._rings: dict[str, _Ring] = {}
        self._held = 0
        self._taps: tuple[LogTap, ...] = ()
        self.appended = 0
        """Lines stored so far, all services together."""

    def add_service(self, service: str) -> LogWriter:
        """Create the ring for ``service`` and return the writer that fills it."""
        with self._lock:
            ring = self._rings.get(service)
            if ring is None:
                ring = _Ring(deque(maxlen=self.capacity), deque(maxlen=self.capacity))
                self._rings[service] = ring
            return LogWriter(self, service, ring.next_seq)

    def bytes_held(self) -> int:
        """The bytes all retained lines count against ``total_bytes``."""
        with self._lock:
            return self._held

    def services(self) -> tuple[str, ...]:
        """Names of all services with a ring, in the order they were added."""
        with self._lock:
            return tuple(self._rings)

    def next_seq(self, service: str) -> int:
        """The ``seq`` the next line of ``service`` will get."""
        with self._lock:
            return self._rings[service].next_seq

    def _append(
        self, service: str, lines: Sequence[LogLine], bytes_read: int, truncated: int, hidden: int
    ) -> None:
        every = lines
        if len(lines) > self.capacity:
            lines = lines[-self.capacity :]
        costs = line_costs(lines) if lines else []
        with self._lock:
            ring = self._rings[service]
            for tap in self._taps:
                tap.push(service, every)
            if lines:
                added = sum(costs)
                pushed_out = len(ring.lines) + len(lines) - self.capacity
                if pushed_out > 0:
                    added -= sum(islice(ring.costs, pushed_out))
                ring.lines.extend(lines)
                ring.costs.extend(costs)
                ring.next_seq = lines[-1].seq + 1
                ring.held += added
                self._held += added
                self._rotate(ring)
            self.appended += len(every)
            ring.truncated += truncated
            ring.hidden += hidden
            ring.bytes_read += bytes_read

    def _rotate(self, ring: _Ring) -> None:
        """Drop the oldest lines until both byte budgets hold (the lock is held).

        The deques' ``maxlen`` already dropped what was over the line count.
        """
        while ring.held > self.service_bytes:
            ring.lines.popleft()
            cost = ring.costs.popleft()
            ring.held -= cost
            self._held -= cost
        while self._held > self.total_bytes:
            biggest = max(self._rings.values(), key=_held_by)
            biggest.lines.popleft()
            cost = biggest.costs.popleft()
            biggest.held -= cost
            self._held -= cost

    def counters(self, service: str) -> LogCounters:
        """Totals for one service."""
        with self._lock:
            ring = self._rings.get(service)
            if ring is None:
                return LogCounters()
            total = ring.next_seq - 1
            retained = len(ring.lines)
            return LogCounters(
                total=total,
                retained=retained,
                evicted=total - retained,
                truncated=ring.truncated,
                bytes_read=ring.bytes_read,
                retained_bytes=ring.held,
                hidden=ring.hidden,
            )

    def tail(
        self, service: str, count: int, stream: LogStream | None = None
    ) -> tuple[LogLine, ...]:
        """The last ``count`` lines of ``service`` (of one stream, if given)."""
        with self._lock:
            ring = self._rings.get(service)
            if ring is None:
                return ()
            if stream is None:
                picked = list(islice(reversed(ring.lines), count))
            else:
                picked = list(
                    islice((line for line in reversed(ring.lines) if line.stream is stream), count)
                )
        picked.reverse()
        return tuple(picked)

    def since(self, service: str, after: int, limit: int | None = None) -> tuple[LogLine, ...]:
        """Lines of ``service`` with ``seq > after``, oldest first.

        When some of them are no longer retained, the result starts with a gap
        record whose ``dropped`` says how many.  ``limit`` keeps only the newest
        lines (the skipped ones are counted in the gap).
        """
        with self._lock:
            ring = self._rings.get(service)
            if ring is None:
                return ()
            newest = ring.next_seq - 1
            if newest <= after:
                return ()
            first = ring.first_seq
            wanted = newest - max(after, first - 1)
            if limit is not None:
                wanted = min(wanted, limit)
            picked = list(islice(reversed(ring.lines), wanted))
        picked.reverse()
        start_seq = picked[0].seq if picked else newest + 1
        missed = start_seq - after - 1
        if missed > 0:
            gap_ts = picked[0].ts if picked else 0.0
            return (gap_record(service, after + missed, gap_ts, missed), *picked)
        return tuple(picked)

    def tap(self, services: Iterable[str], limit: int) -> LogTap:
        """Start handing every new line of ``services`` to a :class:`LogTap`."""
        tap = LogTap(frozenset(services), limit, self._lock)
        with self._lock:
            self._taps = (*self._taps, tap)
        return tap

    def untap(self, tap: LogTap) -> None:
        """Stop filling ``tap``."""
        with self._lock:
            self._taps = tuple(t for t in self._taps if t is not tap)

    def merged(self, services: Iterable[str] | None = None) -> list[LogLine]:
        """Every retained line of the given services, merged on one time axis."""
        names = tuple(services) if services is not None else self.services()
        with self._lock:
            copies = [list(self._rings[name].lines) for name in names if name in self._rings]
        return list(heapq.merge(*copies, key=lambda line: line.ts))

    def clear(self, service: str) -> None:
        """Forget the retained lines of ``service`` (counters and seq go on)."""
        with self._lock:
            ring = self._rings.get(service)
            if ring is not None:
                ring.lines.clear()
                ring.costs.clear()
                self._held -= ring.held
                ring.held = 0


class LogTap:
    """New lines of some services, kept for one reader until it takes them.

    The rings keep the newest lines and let a slow reader find out what it
    missed; a tap keeps the lines a reader has not taken yet, up to ``limit``,
    whatever the ring size.  It is filled by the thread that stores the lines,
    so a reader whose thread is scheduled late loses nothing until the limit.
    Past it, lines are counted per service and a gap record takes their place.
    The sequences stored are kept as they are (writers never change them).
    """

    def __init__(self, services: frozenset[str], limit: int, lock: threading.Lock) -> None:
        self._services = services
        self._limit = limit
        self._lock = lock
        self._batches: list[Sequence[LogLine]] = []
        self._count = 0
        self._missed: dict[str, tuple[int, int, float]] = {}

    def push(self, service: str, lines: Sequence[LogLine]) -> None:
        """Keep ``lines`` of ``service``, or count them when the tap is full (store lock held)."""
        if service not in self._services:
            return
        missed = self._missed.get(service)
        if self._count + len(lines) > self._limit:
            dropped = missed[0] if missed is not None else 0
            self._missed[service] = (dropped + len(lines), lines[-1].seq, lines[-1].ts)
            return
        if missed is not None:
            del self._missed[service]
            self._batches.append((gap_record(service, missed[1], lines[0].ts, missed[0]),))
            self._count += 1
        self._batches.append(lines)
        self._count += len(lines)

    def take(self) -> tuple[LogLine, ...]:
        """Everything kept since the last call, oldest first, with gap records where full."""
        with self._lock:
            batches, self._batches, self._count = self._batches, [], 0
            missed, self._missed = self._missed, {}
        taken = tuple(chain.from_iterable(batches))
        if missed:
            taken += tuple(
                gap_record(service, seq, ts, dropped)
                for service, (dropped, seq, ts) in missed.items()
            )
        return taken


class LogWriter:
    """Appends the lines of one service; used from a single thread only.

    The writer numbers lines itself (``take_seq``) so that lines can be built
    as immutable values before they are stored.
    """

    def __init__(self, store: LogStore, service: str, next_seq: int) -> None:
        self._store = store
        self.service = service
        self.next_seq = next_seq

    def take_seq(self, count: int) -> int:
        """Reserve ``count`` consecutive seqs and return the first."""
        first = self.next_seq
        self.next_seq += count
        return first

    def append(
        self,
        lines: Sequence[LogLine],
        *,
        bytes_read: int = 0,
        truncated: int = 0,
        hidden: int = 0,
    ) -> None:
        """Store ``lines`` (numbered by :meth:`take_seq`) and count bytes read, cut
        lines and lines hidden as private-key material."""
        if lines or bytes_read or truncated or hidden:
            self._store._append(self.service, lines, bytes_read, truncated, hidden)

    def note(self, ts: float, message: str, level: LogLevel = LogLevel.INFO) -> LogLine:
        """Store a line written by the supervisor itself about this service."""
        line = LogLine(
            seq=self.take_seq(1),
            ts=ts,
            service=self.service,
            stream=LogStream.SUPERVISOR,
            message=message,
            level=level,
        )
        self.append((line,))
        return line


def _held_by(ring: _Ring) -> int:
    return ring.held


def gap_record(service: str, seq: int, ts: float, dropped: int) -> LogLine:
    """A line that stands for ``dropped`` lines a reader did not get."""
    noun = "line" if dropped == 1 else "lines"
    return LogLine(
        seq=seq,
        ts=ts,
        service=service,
        stream=LogStream.SUPERVISOR,
        message=f"⟂ {dropped:,} {noun} dropped: no longer in the buffer",
        level=LogLevel.WARN,
        dropped=dropped,
    )
