"""A new channel does not inherit another channel's failed connection attempt."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from palyra_tui.client.grpc.channel import CHANNEL_OPTIONS as GATEWAY_OPTIONS
from palyra_tui.host.channel import CHANNEL_OPTIONS as HOST_OPTIONS
from palyra_tui.host.channel import grpc

ROUNDS = 40


def _answer(request: bytes, context: object) -> bytes:
    return b"ok"


async def _ask(channel: grpc.aio.Channel) -> bytes:
    ask: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary("/t.T/Ask")
    return await ask(b"", timeout=10)


@pytest.mark.parametrize("options", [HOST_OPTIONS, GATEWAY_OPTIONS], ids=["host", "gateway"])
async def test_a_client_made_after_a_failed_probe_connects(
    tmp_path: Path, options: tuple[tuple[str, int], ...]
) -> None:
    """A probe finds the socket of a host that is not listening yet and fails; the host
    then listens and a client attaches at once.  With grpc's shared subchannels that
    client failed at once with the probe's old error, about one attach in ten."""
    path = tmp_path / "host.sock"
    target = f"unix:{path}"
    handlers = grpc.method_handlers_generic_handler(
        "t.T", {"Ask": grpc.unary_unary_rpc_method_handler(_answer)}
    )
    failures: list[str] = []
    for _ in range(ROUNDS):
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(str(path))
        stale.close()
        probe = grpc.aio.insecure_channel(target, options=list(options))
        with pytest.raises(grpc.aio.AioRpcError):
            await _ask(probe)
        await probe.close()
        os.unlink(path)
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((handlers,))
        server.add_insecure_port(target)
        await server.start()
        client = grpc.aio.insecure_channel(target, options=list(options))
        try:
            assert await _ask(client) == b"ok"
        except grpc.aio.AioRpcError as error:
            failures.append(error.details() or error.code().name)
        finally:
            await client.close()
            await server.stop(None)
        if path.exists():
            path.unlink()
    assert failures == []
