"""The reference gateway as a real process on loopback, for the protocol tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import pytest

from palyra_tui.client.grpc import GatewayClient
from palyra_tui.client.http import GatewayHttp
from palyra_tui.client.identity import ClientIdentity

TOKEN = "test-admin-token-0123456789"
PRINCIPAL = "admin:local"


@dataclass
class SimGateway:
    """A running ``palyra-tui sim gateway`` and what it logged."""

    process: subprocess.Popen[str]
    lines: list[dict[str, object]] = field(default_factory=list)
    listen_addr: str = ""
    grpc_addr: str = ""
    node_rpc_addr: str = ""
    ready_at: float = 0.0
    reader: threading.Thread | None = None

    @property
    def http_url(self) -> str:
        return f"http://{self.listen_addr}"

    def stop(self, signum: int = signal.SIGINT, timeout: float = 10) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        code = self.process.wait(timeout)
        if self.reader is not None:
            self.reader.join(timeout)
        return code

    def close(self) -> None:
        """Kill the process if it still runs and close its pipes."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def messages(self) -> list[str]:
        messages = []
        for line in self.lines:
            fields = line.get("fields")
            messages.append(str(fields.get("message", "")) if isinstance(fields, dict) else "")
        return messages


def launch(*args: str, env: dict[str, str] | None = None, wait: bool = True) -> SimGateway:
    """Start the reference gateway on free ports and wait for its bound addresses."""
    environ = {
        **os.environ,
        "PALYRA_ADMIN_TOKEN": TOKEN,
        "PALYRA_ADMIN_BOUND_PRINCIPAL": PRINCIPAL,
        "PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED": "true",
        **(env or {}),
    }
    command = [sys.executable, "-m", "palyra_tui", "sim", "gateway"]
    if "--port" not in args:
        command += ["--port", "0"]
    if "--grpc-port" not in args:
        command += ["--grpc-port", "0"]
    process = subprocess.Popen(
        [*command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    gateway = SimGateway(process)
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            gateway.lines.append(record)
            fields = record.get("fields", {})
            if "listen_addr" in fields:
                gateway.listen_addr = fields["listen_addr"]
            if "grpc_listen_addr" in fields:
                gateway.grpc_addr = fields["grpc_listen_addr"]
            if "node_rpc_listen_addr" in fields:
                gateway.node_rpc_addr = fields["node_rpc_listen_addr"]
                gateway.ready_at = time.monotonic()
                ready.set()
        ready.set()

    gateway.reader = threading.Thread(target=pump, daemon=True)
    gateway.reader.start()
    if wait:
        ready.wait(60)
        if not gateway.node_rpc_addr:
            gateway.stop(signal.SIGKILL)
            err = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"reference gateway did not start: {err}")
    return gateway


Launch = Callable[..., SimGateway]


@pytest.fixture
def sim() -> Iterator[Launch]:
    """``sim(*flags, env={...})`` starts a reference gateway, stopped after the test."""
    started: list[SimGateway] = []

    def start(*args: str, env: dict[str, str] | None = None, wait: bool = True) -> SimGateway:
        gateway = launch(*args, env=env, wait=wait)
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.close()


def identity(token: str = TOKEN, principal: str = PRINCIPAL) -> ClientIdentity:
    return ClientIdentity(admin_token=token, principal=principal)


@pytest.fixture
async def clients() -> AsyncIterator[Callable[..., Awaitable[GatewayClient]]]:
    """``await clients(gateway, **identity)``: a gRPC client closed after the test."""
    made: list[GatewayClient | GatewayHttp] = []

    async def make(gateway: SimGateway, **kwargs: str) -> GatewayClient:
        client = GatewayClient(gateway.grpc_addr, identity(**kwargs))
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


@pytest.fixture
async def http_clients() -> AsyncIterator[Callable[..., GatewayHttp]]:
    """``http_clients(gateway, **identity)``: an HTTP client closed after the test."""
    made: list[GatewayHttp] = []

    def make(gateway: SimGateway, **kwargs: str) -> GatewayHttp:
        client = GatewayHttp(gateway.http_url, identity(**kwargs))
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()
