"""Protocol benchmarks: unary latency, per-token client overhead, stream throughput."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Generator

import grpc
import pytest

from palyra_tui.client.grpc import GatewayClient
from palyra_tui.client.grpc._generated.palyra.v1 import common_pb2 as common
from palyra_tui.models.ids import new_ulid
from palyra_tui.models.run_events import TokenEvent
from tests.bench.conftest import median, percentile, report
from tests.protocol.conftest import identity, launch

pytestmark = pytest.mark.bench

TOKEN_SERVER = r"""
import asyncio, sys, time
import grpc
from palyra_tui.client.grpc._generated.palyra.v1 import common_pb2 as common

COUNT, GAP = int(sys.argv[1]), float(sys.argv[2])

async def run_stream(requests, context):
    first = await requests.__anext__()
    run_id = first.run_id
    def event(**body):
        return common.RunStreamEvent(v=1, run_id=run_id, **body)
    await context.write(event(status=common.StreamStatus(kind=1, message="accepted")))
    for index in range(COUNT):
        if GAP:
            await asyncio.sleep(GAP)
        token = common.ModelToken(token=str(time.time_ns()), is_final=index == COUNT - 1)
        await context.write(event(model_token=token))
    async for _ in requests:
        pass
    await context.write(event(status=common.StreamStatus(kind=3, message="completed")))

async def main():
    server = grpc.aio.server()
    handler = grpc.stream_stream_rpc_method_handler(
        run_stream,
        request_deserializer=common.RunStreamRequest.FromString,
        response_serializer=common.RunStreamEvent.SerializeToString,
    )
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
        "palyra.gateway.v1.GatewayService", {"RunStream": handler})])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    await server.wait_for_termination()

asyncio.run(main())
"""


def token_server(count: int, gap: float) -> Generator[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", TOKEN_SERVER, str(count), str(gap)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        yield f"127.0.0.1:{int(process.stdout.readline())}"
    finally:
        process.kill()
        process.wait()
        process.stdout.close()


async def test_unary_rpc_latency() -> None:
    gateway = launch()
    client = GatewayClient(gateway.grpc_addr, identity())
    try:
        for _ in range(200):
            await client.list_sessions()
        samples = []
        for _ in range(2000):
            started = time.perf_counter()
            await client.list_sessions()
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        await client.close()
        gateway.close()
    report(
        "unary_list_sessions_ms",
        calls=len(samples),
        p50=round(median(samples), 3),
        p99=round(percentile(samples, 0.99), 3),
    )


async def _bare_latencies(target: str) -> list[float]:
    async with grpc.aio.insecure_channel(target) as channel:
        call = channel.stream_stream(
            "/palyra.gateway.v1.GatewayService/RunStream",
            request_serializer=common.RunStreamRequest.SerializeToString,
            response_deserializer=common.RunStreamEvent.FromString,
        )()
        await call.write(common.RunStreamRequest(v=1, run_id=common.CanonicalId(ulid=new_ulid())))
        latencies: list[float] = []
        while True:
            message = await call.read()
            if message is grpc.aio.EOF:
                break
            assert isinstance(message, common.RunStreamEvent)
            if message.WhichOneof("body") == "model_token":
                latencies.append((time.time_ns() - int(message.model_token.token)) / 1e6)
                if message.model_token.is_final:
                    await call.done_writing()
    return latencies


async def _client_latencies(target: str) -> list[float]:
    client = GatewayClient(target, identity())
    latencies: list[float] = []
    try:
        async for event in client.run(new_ulid(), "bench"):
            if isinstance(event, TokenEvent):
                latencies.append((time.time_ns() - int(event.text)) / 1e6)
    finally:
        await client.close()
    return latencies


async def test_latency_added_per_token() -> None:
    count = 500
    rounds: dict[str, list[float]] = {"bare": [], "client": []}
    for _ in range(3):
        for name, measure in (("bare", _bare_latencies), ("client", _client_latencies)):
            servers = token_server(count, 0.004)
            target = next(servers)
            rounds[name].extend(await measure(target))
            servers.close()
    bare, ours = median(rounds["bare"]), median(rounds["client"])
    report(
        "token_latency_ms",
        tokens=len(rounds["client"]),
        bare_p50=round(bare, 3),
        client_p50=round(ours, 3),
        added_p50=round(ours - bare, 3),
        client_p99=round(percentile(rounds["client"], 0.99), 3),
    )
    assert len(rounds["client"]) == 3 * count


async def test_tokens_per_second_through_one_stream() -> None:
    count = 20_000
    servers = token_server(count, 0.0)
    target = next(servers)
    client = GatewayClient(target, identity())
    received = 0
    try:
        started = time.perf_counter()
        async for event in client.run(new_ulid(), "bench"):
            if isinstance(event, TokenEvent):
                received += 1
        elapsed = time.perf_counter() - started
    finally:
        await client.close()
        servers.close()
    report(
        "stream_tokens_per_second",
        tokens=received,
        seconds=round(elapsed, 3),
        tokens_per_second=round(received / elapsed),
    )
    assert received == count
