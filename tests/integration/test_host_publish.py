"""What the runtime sends its clients over the host socket, and when.

The runtime runs in this process (a :class:`LocalRuntime` served by a real
:class:`HostServer`), so the test counts its gateway polls and can hold them
back; the client is a :class:`SocketRuntime` on the real socket, as a UI is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from palyra_tui.cli.demo import demo_document, sim_command
from palyra_tui.client.identity import ClientIdentity
from palyra_tui.config import Config, parse_config
from palyra_tui.host.client import HostClient
from palyra_tui.host.protocol import ClientInfo
from palyra_tui.host.remote import SocketRuntime
from palyra_tui.host.serve import RuntimeService
from palyra_tui.host.transport import HostServer
from palyra_tui.models import ServiceState
from palyra_tui.state.collector import SnapshotCollector
from palyra_tui.state.local_runtime import LocalRuntime
from palyra_tui.state.runtime_api import RuntimeMessage, RuntimeView, SnapshotChanged
from palyra_tui.state.snapshot import AppSnapshot
from palyra_tui.supervisor import Supervisor
from tests.conftest import child, eventually

NEVER = 3600.0
"""The runtime's interval: it polls only when asked to."""


@pytest.fixture(autouse=True)
def no_runtime_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


@dataclass
class Polls:
    """The runtime's gateway polls through the real collector, counted; while
    :attr:`open` is clear, what a poll collected is held back from the runtime."""

    collector: SnapshotCollector | None = None
    collected: int = 0
    count: int = 0
    open: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self) -> AppSnapshot:
        assert self.collector is not None
        snapshot = await self.collector.collect()
        self.collected += 1
        await self.open.wait()
        self.count += 1
        return snapshot


@dataclass
class Served:
    supervisor: Supervisor
    runtime: LocalRuntime
    polls: Polls
    client: SocketRuntime
    messages: list[RuntimeMessage]

    async def poll(self) -> None:
        """Ask for a poll through the socket, as a UI does, and wait until it ran."""
        before = self.polls.count
        self.client.refresh()
        assert await eventually(lambda: self.polls.count > before)

    def snapshots(self) -> list[SnapshotChanged]:
        return [m for m in self.messages if isinstance(m, SnapshotChanged)]


Serve = Callable[[Config], Awaitable[Served]]


def config_of(root: Path, services: dict[str, object], gateway: bool = False) -> Config:
    """The demo's config with only ``gateway`` (if asked for) and ``services``."""
    document = demo_document(root / "state")
    ports = ("--port", "0", "--grpc-port", "0")
    document["services"] = {
        "gateway": {"command": sim_command("gateway", *ports), "enabled": gateway},
        "browserd": {"command": sim_command("browserd", *ports), "enabled": False},
        "node_host": {"command": sim_command("node", "run", "--json"), "enabled": False},
        **services,
    }
    return parse_config(document, root / "tui.toml", {})


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """``await serve(config)``: supervisor, runtime and socket in this process, and one
    attached client whose messages are recorded from the first one."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(config: Config) -> Served:
            supervisor = Supervisor(config)
            await asyncio.to_thread(supervisor.open)
            stack.push_async_callback(supervisor.aclose, 20)
            identity = ClientIdentity(
                admin_token=supervisor.tokens.admin_token,
                principal=config.runtime.principal,
                device_id=config.runtime.device_id,
            )
            polls = Polls()
            polls.open.set()
            runtime = LocalRuntime(
                supervisor, identity, config.runtime, interval=NEVER, collect=polls
            )
            polls.collector = SnapshotCollector(supervisor, runtime.link, runtime.clock)
            server = HostServer(config.state_root)
            RuntimeService(runtime, lambda: None).register(server)
            await server.start()
            stack.push_async_callback(server.stop, 0)
            await runtime.open()
            stack.push_async_callback(runtime.close)
            await supervisor.start_all()
            client = SocketRuntime(
                HostClient.for_state_root(config.state_root, client=ClientInfo.current("test"))
            )
            messages: list[RuntimeMessage] = []
            feed = client.subscribe()

            async def record() -> None:
                async for message in feed:
                    messages.append(message)

            reader = asyncio.get_running_loop().create_task(record())
            stack.callback(reader.cancel)
            await client.open()
            stack.push_async_callback(client.close)
            return Served(supervisor, runtime, polls, client, messages)

        yield start


async def test_an_idle_host_sends_no_snapshot(tmp_path: Path, serve: Serve) -> None:
    """Polls that find nothing new send nothing; the next real change still arrives."""
    config = config_of(
        tmp_path, {"worker": {"command": child("hang"), "enabled": False, "start_grace": 0}}
    )
    served = await serve(config)
    assert await eventually(lambda: served.polls.count >= 1 and bool(served.snapshots()))
    await served.poll()
    before = len(served.snapshots())
    for _ in range(5):
        await served.poll()
    await served.client.start("worker")

    def worker_up(message: SnapshotChanged) -> bool:
        service = message.snapshot.supervisor.get("worker")
        return service is not None and service.state.is_up

    assert await eventually(lambda: any(worker_up(m) for m in served.snapshots()[before:]))
    sent = served.snapshots()[before:]
    idle = [m for m in sent if not worker_up(m)]
    assert idle == [], f"{len(idle)} snapshots sent by five polls that found nothing new"
    await served.client.stop("worker")
    assert await eventually(
        lambda: served.client.services().get("worker").state is ServiceState.STOPPED  # type: ignore[union-attr]
    )


async def until_connected(served: Served) -> None:
    """Poll until the client sees the gateway answer (the runtime polls only when asked)."""
    for _ in range(600):
        if served.client.view().snapshot.gateway_health is not None:
            return
        await served.poll()
        await asyncio.sleep(0.05)
    raise AssertionError("the gateway never answered")


def names(view: RuntimeView) -> dict[str, str]:
    return {s.session_id: view.chat.name(s) for s in view.snapshot.sessions}


async def test_a_new_name_reaches_every_client_when_the_gateway_took_it(
    tmp_path: Path, serve: Serve
) -> None:
    """The rename after the first message goes out at once, while the next poll is still
    on its way; a poll that collected before the rename does not bring the old name back."""
    served = await serve(config_of(tmp_path, {}, gateway=True))
    await until_connected(served)
    session = await served.client.new_session()
    assert await eventually(lambda: session.session_id in names(served.client.view()))
    assert names(served.client.view())[session.session_id].startswith("chat ")
    served.polls.open.clear()
    collected = served.polls.collected
    served.client.refresh()
    assert await eventually(lambda: served.polls.collected > collected)
    before, held = len(served.messages), served.polls.count
    await served.client.send(session.session_id, "please check the disk usage on the build host")
    title = "please check the disk usage on …"
    assert await eventually(lambda: names(served.client.view())[session.session_id] == title, 15)
    assert names(served.runtime.view())[session.session_id] == title
    assert served.polls.count == held, "no poll was delivered meanwhile"
    served.polls.open.set()
    assert await eventually(lambda: served.polls.count >= held + 2)
    await served.poll()
    shown = [
        names(replace(served.client.view(), snapshot=m.snapshot)).get(session.session_id)
        for m in served.messages[before:]
        if isinstance(m, SnapshotChanged)
    ]
    first = shown.index(title)
    assert shown[first:] == [title] * len(shown[first:]), shown
    assert names(served.client.view())[session.session_id] == title
