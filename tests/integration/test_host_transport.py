"""The host transport over a real Unix socket: handshake, versions, errors, streams."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from palyra_tui.errors import (
    HostDisconnected,
    HostNotRunning,
    HostProtocolError,
    HostRemoteError,
    HostTimeout,
    HostVersionMismatch,
    PalyraError,
)
from palyra_tui.host import PROTOCOL_VERSION
from palyra_tui.host.transport import HostClient, HostServer
from palyra_tui.models import SupervisorSnapshot
from palyra_tui.models.clock import ManualClock
from tests.conftest import eventually
from tests.integration.host_toy import Count, Echo, Empty, Item, ToyApi, toy_server
from tests.unit.test_host_codec import SERVICE

Started = tuple[HostServer, ToyApi]


@pytest.fixture(autouse=True)
def no_runtime_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[Callable[..., Started]]:
    """``await host(protocol=…)``-style factory: servers are stopped after the test."""
    servers: list[HostServer] = []

    def make(protocol: int = PROTOCOL_VERSION) -> Started:
        server, api = toy_server(tmp_path / "state", protocol=protocol)
        servers.append(server)
        return server, api

    yield make
    for server in servers:
        await server.stop(grace=0)


@pytest.fixture
async def clients() -> AsyncIterator[list[HostClient]]:
    opened: list[HostClient] = []
    yield opened
    for client in opened:
        await client.close()


async def attach(server: HostServer, opened: list[HostClient]) -> HostClient:
    client = HostClient.for_state_root(server.state_root)
    opened.append(client)
    await client.connect()
    return client


async def test_handshake_says_who_the_host_is(
    tmp_path: Path, clients: list[HostClient], host: Callable[..., Started]
) -> None:
    clock = ManualClock(1_234.5)
    server = HostServer(tmp_path / "state", clock=clock)
    try:
        await server.start()
        client = await attach(server, clients)
        assert client.host is not None
        assert client.host.protocol == PROTOCOL_VERSION == 1
        assert client.host.host_pid == os.getpid()
        assert client.host.state_root == str(tmp_path / "state")
        assert client.host.started_at == 1_234.5
    finally:
        await server.stop()


async def test_typed_calls_carry_the_models(
    host: Callable[..., Started], clients: list[HostClient]
) -> None:
    server, _ = host()
    await server.start()
    client = await attach(server, clients)
    assert await client.call("Echo", Echo("quiet"), Echo) == Echo("QUIET")
    snapshot = SupervisorSnapshot(services=(SERVICE,), state_root="/srv", taken_at=5.0)
    back = await client.call("Mirror", snapshot, SupervisorSnapshot)
    assert back == snapshot and back.taken_at == 5.0


async def test_a_host_of_another_version_is_named_in_one_sentence(
    host: Callable[..., Started], clients: list[HostClient]
) -> None:
    server, _ = host(protocol=2)
    await server.start()
    client = HostClient(server.paths.socket)
    clients.append(client)
    with pytest.raises(HostVersionMismatch) as caught:
        await asyncio.wait_for(client.connect(), 30)
    assert str(caught.value) == (
        "the runtime host speaks protocol 2, this palyra-tui speaks 1: "
        "restart the host with `palyra-tui down`, then start palyra-tui again"
    )
    assert (caught.value.host_version, caught.value.client_version) == (2, 1)


async def test_a_host_restarted_with_another_version_refuses_every_call(
    host: Callable[..., Started], clients: list[HostClient]
) -> None:
    old, _ = host()
    await old.start()
    client = await attach(old, clients)
    await old.stop(grace=0)
    new, _ = host(protocol=2)
    await new.start()

    async def next_call() -> PalyraError:
        while True:
            try:
                await client.call("Echo", Echo("x"), Echo)
            except (HostNotRunning, HostDisconnected):
                # The old host's connection breaks, then the channel reconnects.
                await asyncio.sleep(0.05)
                continue
            except PalyraError as error:
                return error
            raise AssertionError("a call of protocol 1 was served by a protocol 2 host")

    error = await asyncio.wait_for(next_call(), 30)
    assert isinstance(error, HostVersionMismatch)
    assert "speaks protocol 2, this palyra-tui speaks 1" in str(error)


async def test_handler_failures_come_back_as_sentences(
    host: Callable[..., Started], clients: list[HostClient]
) -> None:
    server, _ = host()
    await server.start()
    client = await attach(server, clients)
    with pytest.raises(HostRemoteError, match=r"^unknown service: refuse$") as refused:
        await client.call("Echo", Echo("refuse"), Echo)
    assert refused.value.remote_type == "SupervisorError"
    with pytest.raises(HostRemoteError, match="the runtime host failed Echo: KeyError") as crash:
        await client.call("Echo", Echo("crash"), Echo)
    assert crash.value.remote_type == "KeyError"
    with pytest.raises(HostProtocolError, match="does not know Missing"):
        await client.call("Missing", Echo("x"), Echo)
    with pytest.raises(HostProtocolError, match=r"cannot decode Echo at text: the field is miss"):
        await client.call("Echo", Empty(), Echo)
    with pytest.raises(HostProtocolError, match=r"reply to Echo does not fit .* at n: the field"):
        await client.call("Echo", Echo("x"), Count)
    assert await client.call("Echo", Echo("still fine"), Echo) == Echo("STILL FINE")


async def test_every_call_has_a_deadline(
    host: Callable[..., Started], clients: list[HostClient]
) -> None:
    server, _ = host()
    await server.start()
    client = await attach(server, clients)
    with pytest.raises(HostTimeout, match=r"did not answer Hang within 0\.2 s"):
        await client.call("Hang", Empty(), Empty, timeout=0.2)


async def test_no_host_is_reported_at_once(tmp_path: Path, clients: list[HostClient]) -> None:
    client = HostClient.for_state_root(tmp_path / "state")
    clients.append(client)
    with pytest.raises(HostNotRunning, match="no runtime host is running: nothing listens at"):
        await client.connect()


async def test_a_stream_delivers_100000_small_items_in_order(
    host: Callable[..., Started], clients: list[HostClient]
) -> None:
    server, _ = host()
    await server.start()
    client = await attach(server, clients)
    received = 0
    async for item in client.stream("Count", Count(100_000), Item):
        assert item.index == received
        received += 1
        if received % 20_000 == 0:
            await asyncio.sleep(0.05)  # a reader that falls behind now and then
    assert received == 100_000


async def test_a_reader_that_stops_holds_the_producer_back(
    host: Callable[..., Started], clients: list[HostClient]
) -> None:
    server, api = host()
    await server.start()
    client = await attach(server, clients)
    total = 100_000  # 100 MiB of items: more than any buffer on the way could hold
    received = 0
    stalled_at = -1
    async for item in client.stream("Count", Count(total, pad=1024), Item):
        assert item.index == received
        received += 1
        if received == 100:
            stalled_at = await producer_stalls(api)
        if received == 5_000:
            break
    assert 100 <= stalled_at < total // 10


async def producer_stalls(api: ToyApi) -> int:
    """Wait until the server's producer stops advancing; how far it got."""
    seen = -1
    for _ in range(600):
        if api.produced == seen:
            return seen
        seen = api.produced
        await asyncio.sleep(0.05)
    return seen


async def test_a_failing_stream_delivers_its_items_then_the_error(
    host: Callable[..., Started], clients: list[HostClient]
) -> None:
    server, _ = host()
    await server.start()
    client = await attach(server, clients)
    received: list[int] = []
    with pytest.raises(HostRemoteError, match=r"^stopped after 2500 items$"):
        async for item in client.stream("Count", Count(10_000, fail_after=2_500), Item):
            received.append(item.index)
    assert received == list(range(2_500))


async def test_leaving_a_stream_early_cancels_it_on_the_host(
    host: Callable[..., Started], clients: list[HostClient]
) -> None:
    server, api = host()
    await server.start()
    client = await attach(server, clients)
    async for item in client.stream("Count", Count(-1), Item):
        if item.index == 10:
            break
    produced = await producer_stalls(api)
    assert produced < 1_000_000
    assert await client.call("Echo", Echo("after"), Echo) == Echo("AFTER")


async def test_server_shutdown_ends_streams_with_a_clear_error(
    host: Callable[..., Started], clients: list[HostClient]
) -> None:
    server, _ = host()
    await server.start()
    client = await attach(server, clients)
    received: list[int] = []

    async def read() -> None:
        async for item in client.stream("Count", Count(-1, pad=64), Item):
            received.append(item.index)

    reader = asyncio.create_task(read())
    assert await eventually(lambda: len(received) > 10)
    await server.stop(grace=0.1)
    with pytest.raises(HostDisconnected, match="the runtime host closed the connection during Co"):
        await asyncio.wait_for(reader, 30)
    assert received == list(range(len(received)))
    assert not server.paths.socket.exists()
