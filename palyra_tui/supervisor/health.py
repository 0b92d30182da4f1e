"""Health probes: ``GET /healthz`` over kept-alive HTTP/1.1 connections.

The supervisor probes every service twice a second.  An ``httpx.AsyncClient``
request costs about 1.5 ms of CPU, a plain asyncio request about 75 µs, and
20 services at 2 Hz must stay under 1 % of a core, so the prober speaks the
little HTTP it needs itself: one request, a status line, headers, a
``Content-Length`` or chunked body of at most 64 KiB.
Connections are pooled per origin and reused, like one long-lived client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from palyra_tui.models import HealthState, HealthStatus
from palyra_tui.text import sanitize_line

MAX_BODY = 64 * 1024
MAX_HEADERS = 16 * 1024
LATENCY_PROBES = 5
"""Probes whose median latency is shown."""
LATENCY_STEP_MS = 2.0
LATENCY_STEP = 0.25
"""The shown latency moves when the median moves by more than 2 ms and a quarter of it."""
PROBE_RECORDS = 1_000
"""Runs of alike probe results kept (:class:`ProbeHistory`)."""


class ProbeError(Exception):
    """A probe failed before a complete HTTP response arrived."""


@dataclass(frozen=True, slots=True)
class _Origin:
    scheme: str
    host: str
    port: int


_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class SteadyLatency:
    """The latency to show for one service: the median of its last five probes, moved
    only when that median moves by more than 2 ms and by more than a quarter.

    A loopback probe takes 0.5 ms one time and 4 ms the next with nothing wrong; shown
    as measured, the figure changed with every probe, and every attached screen
    repainted for it.  A service that really slows down shows within three probes.
    """

    def __init__(self) -> None:
        self._recent: deque[float] = deque(maxlen=LATENCY_PROBES)
        self._shown: float | None = None

    def add(self, latency: float | None) -> float | None:
        """Record one probe's latency (None: no answer); returns the figure to show."""
        if latency is None:
            self._recent.clear()
            self._shown = None
            return None
        self._recent.append(latency)
        median = statistics.median(self._recent)
        shown = self._shown
        if shown is None or abs(median - shown) > max(LATENCY_STEP_MS, shown * LATENCY_STEP):
            self._shown = round(median, 3)
        return self._shown


@dataclass(frozen=True, slots=True)
class ProbeRecord:
    """A run of alike probe results of one service: the same state, reason and version,
    from ``first_at`` to ``last_at``, ``count`` probes."""

    service: str
    state: HealthState
    reason: str
    version: str | None
    first_at: float
    last_at: float
    count: int = 1
    latency_ms: float | None = None
    """The last probe's latency as measured (not steadied); None without an answer."""
    max_latency_ms: float | None = None


class ProbeHistory:
    """What the probes said, as runs of alike results: the current run of each service
    and the newest :data:`PROBE_RECORDS` finished ones.

    A service probed twice a second for a day is one record while nothing changes, so
    the history reaches back to the changes that matter.  Written on the supervisor's
    loop, read from any thread.
    """

    def __init__(self, limit: int = PROBE_RECORDS) -> None:
        self._finished: deque[ProbeRecord] = deque(maxlen=limit)
        self._current: dict[str, ProbeRecord] = {}
        self._lock = threading.Lock()

    def record(self, service: str, result: HealthStatus) -> None:
        """Add one probe's result for ``service``."""
        at = result.checked_at if result.checked_at is not None else 0.0
        latency = result.latency_ms
        with self._lock:
            current = self._current.get(service)
            if current is not None and (current.state, current.reason, current.version) == (
                result.state,
                result.reason,
                result.version,
            ):
                highest = current.max_latency_ms
                if latency is not None and (highest is None or latency > highest):
                    highest = latency
                self._current[service] = replace(
                    current,
                    last_at=at,
                    count=current.count + 1,
                    latency_ms=latency,
                    max_latency_ms=highest,
                )
                return
            if current is not None:
                self._finished.append(current)
            self._current[service] = ProbeRecord(
                service, result.state, result.reason, result.version, at, at, 1, latency, latency
            )

    def records(self) -> tuple[ProbeRecord, ...]:
        """Every record kept, by when its run began (any thread)."""
        with self._lock:
            kept = (*self._finished, *self._current.values())
        return tuple(sorted(kept, key=lambda record: record.first_at))


class HealthProber:
    """Probes health URLs; one instance per event loop, closed with :meth:`aclose`."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._ssl: ssl.SSLContext | None = None

    async def probe(self, url: str, timeout: float) -> HealthStatus:
        """Probe ``url``; never raises, the result says what went wrong."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                status, body = await self._get(url)
        except TimeoutError:
            return self._result(HealthState.UNHEALTHY, f"no answer within {timeout:g} s", None)
        except ProbeError as exc:
            return self._result(HealthState.UNHEALTHY, str(exc), None)
        except (OSError, ssl.SSLError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return self._result(HealthState.UNHEALTHY, f"cannot connect: {reason}", None)
        except asyncio.LimitOverrunError:
            return self._result(HealthState.UNHEALTHY, "response lines too long", None)
        except ValueError as exc:
            return self._result(HealthState.UNHEALTHY, f"bad health URL: {exc}", None)
        latency = (time.perf_counter() - started) * 1000.0
        return self._judge(status, body, latency)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for _, writer in connections:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()

    def _judge(self, status: int, body: bytes, latency: float) -> HealthStatus:
        if not 200 <= status < 300:
            return self._result(HealthState.UNHEALTHY, f"HTTP {status}", latency)
        try:
            document = json.loads(body) if body else None
        except ValueError:
            document = None
        if not isinstance(document, dict):
            return self._result(HealthState.HEALTHY, "", latency)
        version = document.get("version")
        version_text = sanitize_line(version)[:64] if isinstance(version, str) else None
        reported = document.get("status")
        if isinstance(reported, str) and reported.strip().lower() != "ok":
            reason = f"status {sanitize_line(reported)[:64]!r}"
            return self._result(HealthState.UNHEALTHY, reason, latency, version_text)
        return self._result(HealthState.HEALTHY, "", latency, version_text)

    def _result(
        self, state: HealthState, reason: str, latency: float | None, version: str | None = None
    ) -> HealthStatus:
        return HealthStatus(
            state=state,
            reason=reason,
            latency_ms=round(latency, 3) if latency is not None else None,
            version=version,
            checked_at=self._clock(),
        )

    async def _get(self, url: str) -> tuple[int, bytes]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProbeError("not an http(s) URL")
        origin = _Origin(
            parts.scheme,
            parts.hostname,
            parts.port or (443 if parts.scheme == "https" else 80),
        )
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        host_header = parts.netloc.rpartition("@")[2]
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: palyra-tui\r\n"
            "Accept: application/json\r\n\r\n"
        ).encode("ascii", errors="replace")
        pooled = self._idle.get(origin)
        if pooled:
            connection = pooled.pop()
            try:
                return await self._exchange(origin, connection, request)
            except (ProbeError, OSError, asyncio.IncompleteReadError):
                pass
        connection = await self._connect(origin)
        try:
            return await self._exchange(origin, connection, request)
        except asyncio.IncompleteReadError:
            raise ProbeError("connection closed before a complete response") from None

    async def _connect(self, origin: _Origin) -> _Connection:
        context: ssl.SSLContext | None = None
        if origin.scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        return await asyncio.open_connection(
            origin.host, origin.port, ssl=context, limit=MAX_HEADERS
        )

    async def _exchange(
        self, origin: _Origin, connection: _Connection, request: bytes
    ) -> tuple[int, bytes]:
        reader, writer = connection
        try:
            writer.write(request)
            await writer.drain()
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                raise ProbeError("response headers too large") from None
            status, headers = _parse_head(head)
            body = await _read_body(reader, headers)
        except BaseException:
            writer.close()
            raise
        if headers.get("connection", "").lower() == "close":
            writer.close()
        else:
            self._idle.setdefault(origin, []).append(connection)
        return status, body


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/"):
        raise ProbeError("not an HTTP response")
    try:
        status = int(status_line[1])
    except ValueError:
        raise ProbeError("malformed HTTP status line") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ProbeError("malformed chunked body") from None
            if size == 0:
                await reader.readuntil(b"\r\n")
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise ProbeError("health response body too large")
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    length_text = headers.get("content-length")
    if length_text is None:
        headers["connection"] = "close"
        body = b""
        while len(body) <= MAX_BODY:
            chunk = await reader.read(MAX_BODY + 1 - len(body))
            if not chunk:
                return body
            body += chunk
        raise ProbeError("health response body too large")
    try:
        length = int(length_text)
    except ValueError:
        raise ProbeError("malformed Content-Length") from None
    if length > MAX_BODY:
        raise ProbeError("health response body too large")
    return await reader.readexactly(length)
