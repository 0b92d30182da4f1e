"""Health probes against real HTTP servers on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from palyra_tui.models import HealthState
from palyra_tui.supervisor.health import HealthProber, SteadyLatency

Responder = Callable[[], bytes]


class Server:
    """A loopback HTTP/1.1 server whose replies a test chooses."""

    def __init__(self, respond: Responder) -> None:
        self.respond = respond
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests.append(head)
                reply = self.respond()
                if not reply:
                    await asyncio.sleep(30)
                writer.write(reply)
                await writer.drain()
                if b"Connection: close" in reply:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()


def reply(status: int, body: bytes, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


Serve = Callable[[Responder], Awaitable[tuple["Server", int]]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[Server] = []

    async def start(respond: Responder) -> tuple[Server, int]:
        server = Server(respond)
        servers.append(server)
        return server, await server.start()

    yield start
    for server in servers:
        await server.close()


HEALTHY = json.dumps({"status": "ok", "version": "1.2.3", "service": "palyrad"}).encode()


async def test_healthy_gateway_and_connection_reuse(serve: Serve) -> None:
    server, port = await serve(lambda: reply(200, HEALTHY))
    prober = HealthProber(lambda: 42.0)
    url = f"http://127.0.0.1:{port}/healthz"
    for _ in range(5):
        result = await prober.probe(url, 10.0)
        assert result.state is HealthState.HEALTHY
        assert result.version == "1.2.3"
        assert result.latency_ms is not None and result.latency_ms >= 0
        assert result.checked_at == 42.0
    assert server.connections == 1
    assert server.requests[0].startswith(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:")
    await prober.aclose()


async def test_status_not_ok_and_http_errors_are_unhealthy(serve: Serve) -> None:
    _, degraded = await serve(lambda: reply(200, b'{"status":"degraded"}'))
    _, failing = await serve(lambda: reply(503, b"{}"))
    prober = HealthProber()
    result = await prober.probe(f"http://127.0.0.1:{degraded}/healthz", 10.0)
    assert result.state is HealthState.UNHEALTHY and "degraded" in result.reason
    result = await prober.probe(f"http://127.0.0.1:{failing}/healthz", 10.0)
    assert (result.state, result.reason) == (HealthState.UNHEALTHY, "HTTP 503")
    await prober.aclose()


async def test_chunked_and_close_delimited_bodies(serve: Serve) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'6\r\n{"stat\r\n9\r\nus":"ok"}\r\n0\r\n\r\n'
    )
    _, port_chunked = await serve(lambda: chunked)
    _, port_close = await serve(lambda: b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nfine")
    prober = HealthProber()
    assert (await prober.probe(f"http://127.0.0.1:{port_chunked}/", 10.0)).state is (
        HealthState.HEALTHY
    )
    assert (await prober.probe(f"http://127.0.0.1:{port_close}/", 10.0)).state is (
        HealthState.HEALTHY
    )
    await prober.aclose()


async def test_refused_and_silent_servers_are_unhealthy_with_a_reason(serve: Serve) -> None:
    _, silent = await serve(lambda: b"")
    prober = HealthProber()
    result = await prober.probe(f"http://127.0.0.1:{silent}/healthz", 0.2)
    assert result.state is HealthState.UNHEALTHY
    assert "no answer within 0.2 s" in result.reason
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    free_port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    result = await prober.probe(f"http://127.0.0.1:{free_port}/healthz", 10.0)
    assert result.state is HealthState.UNHEALTHY
    assert result.reason.startswith("cannot connect")
    await prober.aclose()


async def test_a_bad_url_is_a_result_not_an_exception() -> None:
    prober = HealthProber()
    for url in ("http://127.0.0.1:99999/healthz", "http://[::1/healthz", "ftp://host/"):
        result = await prober.probe(url, 10.0)
        assert result.state is HealthState.UNHEALTHY and result.reason
    await prober.aclose()


async def test_garbage_replies_are_unhealthy(serve: Serve) -> None:
    _, port = await serve(lambda: b"SSH-2.0-OpenSSH\r\n\r\n")
    prober = HealthProber()
    result = await prober.probe(f"http://127.0.0.1:{port}/healthz", 10.0)
    assert (result.state, result.reason) == (HealthState.UNHEALTHY, "not an HTTP response")
    await prober.aclose()


async def test_a_pooled_connection_closed_by_the_server_is_replaced(serve: Serve) -> None:
    replies = iter([reply(200, HEALTHY, "Connection: close\r\n"), reply(200, HEALTHY)])
    server, port = await serve(lambda: next(replies))
    prober = HealthProber()
    url = f"http://127.0.0.1:{port}/healthz"
    assert (await prober.probe(url, 10.0)).state is HealthState.HEALTHY
    assert (await prober.probe(url, 10.0)).state is HealthState.HEALTHY
    assert server.connections == 2
    await prober.aclose()


# Measured: the reference gateway probed over loopback every 0.5 s, with nothing wrong.
LOOPBACK_MS = [1.711, 0.557, 1.948, 0.789, 0.783, 0.652, 1.576, 2.417, 0.61, 0.701, 0.777]
LOOPBACK_MS += [3.922, 0.646, 0.755, 0.662, 0.79, 2.059, 1.194, 0.718, 0.635, 1.19, 1.571]
LOOPBACK_MS += [1.428, 1.426, 1.596, 0.609, 1.425, 0.763, 0.689, 4.258, 0.639, 4.083, 0.575]


def test_latency_jitter_of_a_healthy_service_leaves_the_figure_still() -> None:
    latency = SteadyLatency()
    shown = [latency.add(value) for value in LOOPBACK_MS]
    assert shown[0] == LOOPBACK_MS[0], "the first probe shows at once"
    assert len(set(shown)) == 1, shown


def test_a_service_that_slows_down_shows_it_within_three_probes() -> None:
    latency = SteadyLatency()
    for value in LOOPBACK_MS[:10]:
        latency.add(value)
    shown = [latency.add(40.0 + index) for index in range(3)]
    assert shown[-1] is not None and shown[-1] >= 40.0, shown
    assert latency.add(None) is None, "no answer: no figure"
    assert latency.add(7.5) == 7.5, "the next answer shows at once"
