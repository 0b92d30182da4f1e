"""A toy API over the host transport, for tests: in-process, or as a child process.

``python -m tests.integration.host_toy serve STATE_ROOT`` serves it until killed
and prints ``ready <socket>``; ``attach SOCKET`` tries to use a host and prints
what happened as one JSON line (run as another user by the permission test).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from palyra_tui.errors import PalyraError, SupervisorError
from palyra_tui.host.protocol import PROTOCOL_VERSION
from palyra_tui.host.transport import HostClient, HostServer
from palyra_tui.models import SupervisorSnapshot


@dataclass(frozen=True, slots=True)
class Echo:
    text: str


@dataclass(frozen=True, slots=True)
class Count:
    n: int
    pad: int = 0
    fail_after: int = -1


@dataclass(frozen=True, slots=True)
class Item:
    index: int
    pad: str = ""


@dataclass(frozen=True, slots=True)
class Empty:
    pass


class ToyApi:
    """Echo, a counted stream, a snapshot mirror, a call that never answers, failures."""

    def __init__(self) -> None:
        self.produced = 0
        self.never = asyncio.Event()

    async def echo(self, request: Echo) -> Echo:
        if request.text == "refuse":
            raise SupervisorError("unknown service: refuse")
        if request.text == "crash":
            raise KeyError("crash")
        return Echo(request.text.upper())

    async def count(self, request: Count) -> AsyncIterator[Item]:
        pad = "x" * request.pad
        index = 0
        while request.n < 0 or index < request.n:
            if index == request.fail_after:
                raise SupervisorError(f"stopped after {index} items")
            self.produced = index + 1
            yield Item(index, pad)
            index += 1

    async def mirror(self, request: SupervisorSnapshot) -> SupervisorSnapshot:
        return request

    async def hang(self, request: Empty) -> Empty:
        await self.never.wait()
        return Empty()


def toy_server(state_root: Path, *, protocol: int = PROTOCOL_VERSION) -> tuple[HostServer, ToyApi]:
    """A server with the toy API registered (not started)."""
    api = ToyApi()
    server = HostServer(state_root, protocol=protocol)
    server.add_unary("Echo", Echo, Echo, api.echo)
    server.add_unary("Mirror", SupervisorSnapshot, SupervisorSnapshot, api.mirror)
    server.add_unary("Hang", Empty, Empty, api.hang)
    server.add_stream("Count", Count, Item, api.count)
    return server, api


async def _serve(state_root: Path) -> None:
    server, _ = toy_server(state_root)
    await server.start()
    print(f"ready {server.paths.socket}", flush=True)
    await server.wait_stopped()


async def _attach(path: Path) -> dict[str, object]:
    report: dict[str, object] = {"uid": os.geteuid()}
    client = HostClient(path)
    try:
        await client.connect()
        report["echo"] = (await client.call("Echo", Echo("hi"), Echo)).text
    except PalyraError as error:
        report["error"] = type(error).__name__
        report["message"] = str(error)
    finally:
        await client.close()
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(os.fspath(path))
        report["raw_connect"] = "connected"
    except OSError as error:
        report["raw_connect"] = error.strerror or str(error)
    finally:
        probe.close()
    return report


def main(argv: list[str]) -> None:
    command, target = argv[0], Path(argv[1])
    if command == "serve":
        asyncio.run(_serve(target))
    elif command == "attach":
        print(json.dumps(asyncio.run(_attach(target))), flush=True)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv[1:])
