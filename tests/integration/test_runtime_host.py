"""The runtime host as a real process: attach, detach, decide once, lose it, stop it."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomli_w

from palyra_tui.cli.demo import demo_document, sim_command
from palyra_tui.config import Config, load_config
from palyra_tui.host.client import HostClient
from palyra_tui.host.launcher import ensure_host, stop_host
from palyra_tui.host.protocol import ClientInfo
from palyra_tui.host.remote import SocketRuntime
from palyra_tui.models import ServiceState
from palyra_tui.models.gateway import ApprovalAnswer
from palyra_tui.state.chat import StatusItem
from palyra_tui.state.runtime_api import DecisionError, LinkChanged, RuntimeMessage
from tests.conftest import child, eventually, pids_alive

StartHost = Callable[..., Awaitable["Host"]]


@dataclass
class Host:
    config: Config
    path: Path
    pid: int


def write_config(root: Path, extra: dict[str, object] | None = None) -> Path:
    document = demo_document(root / "state")
    services = document["services"]
    assert isinstance(services, dict)
    services["browserd"] = {"command": sim_command("browserd", "--port", "0"), "enabled": False}
    services.update(extra or {})
    path = root / "tui.toml"
    path.write_text(tomli_w.dumps(document))
    return path


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[StartHost]:
    """``await host(extra_services)`` starts a detached host; it is stopped afterwards."""
    started: list[Host] = []

    async def start(extra: dict[str, object] | None = None) -> Host:
        path = write_config(tmp_path, extra)
        os.environ["PALYRA_TUI_CONFIG"] = str(path)
        config = load_config(path)
        info = await ensure_host(config, path)
        started.append(Host(config, path, info.host_pid))
        return started[-1]

    yield start
    os.environ.pop("PALYRA_TUI_CONFIG", None)
    for running in started:
        try:
            await stop_host(running.config, 60)
        finally:
            if pids_alive([running.pid]):
                os.kill(running.pid, signal.SIGKILL)


async def attach(config: Config, name: str = "test") -> SocketRuntime:
    client = HostClient.for_state_root(config.state_root, client=ClientInfo.current(name))
    runtime = SocketRuntime(client)
    await runtime.open()
    return runtime


def recorded(runtime: SocketRuntime) -> list[RuntimeMessage]:
    messages: list[RuntimeMessage] = []
    feed = runtime.subscribe()

    async def read() -> None:
        async for message in feed:
            messages.append(message)

    asyncio.get_running_loop().create_task(read())
    return messages


def running(runtime: SocketRuntime, name: str) -> int | None:
    service = runtime.view().snapshot.supervisor.get(name)
    if service is None or service.state is not ServiceState.RUNNING:
        return None
    return service.pid


async def pending_approval(runtime: SocketRuntime) -> str:
    """Start a run that asks for an approval; returns the approval's id."""
    assert await eventually(lambda: bool(runtime.view().dashboard_url) and _connected(runtime))
    session = await runtime.new_session()
    await runtime.send(session.session_id, "run ls -la")
    assert await eventually(lambda: bool(runtime.view().inbox))
    return runtime.view().inbox[0].approval_id


def _connected(runtime: SocketRuntime) -> bool:
    return runtime.view().snapshot.gateway_health is not None


async def test_services_outlive_a_detached_client(host: StartHost) -> None:
    started = await host()
    first = await attach(started.config)
    assert await eventually(lambda: running(first, "gateway") is not None)
    gateway = running(first, "gateway")
    await first.close()
    second = await attach(started.config)
    try:
        assert running(second, "gateway") == gateway
        assert second.view().clients == 1
    finally:
        await second.close()


async def test_a_run_waiting_for_approval_survives_a_detach(host: StartHost) -> None:
    started = await host()
    first = await attach(started.config)
    approval = await pending_approval(first)
    session_id = first.view().inbox[0].session_id
    await first.close()
    second = await attach(started.config)
    try:
        assert [entry.approval_id for entry in second.view().inbox] == [approval]
        await second.decide(approval, ApprovalAnswer.allow_once())

        async def completed() -> bool:
            items = (await second.transcript(session_id)).items
            return any(isinstance(i, StatusItem) and i.text == "run completed" for i in items)

        for _ in range(400):
            if await completed():
                break
            await asyncio.sleep(0.05)
        assert await completed()
    finally:
        await second.close()


async def test_two_clients_see_one_decision_sent_once(host: StartHost) -> None:
    started = await host()
    one = await attach(started.config, "one")
    two = await attach(started.config, "two")
    try:
        assert await eventually(lambda: one.view().clients == 2 and two.view().clients == 2)
        approval = await pending_approval(one)
        assert await eventually(lambda: bool(two.view().inbox))
        await one.decide(approval, ApprovalAnswer.deny("not now"))
        assert await eventually(lambda: not two.view().inbox)
        with pytest.raises(
            DecisionError,
            match=r"already decided by another client: denied \(not now\) at \d\d:\d\d:\d\d",
        ):
            await two.decide(approval, ApprovalAnswer.allow_once())
    finally:
        await one.close()
        await two.close()


async def test_a_killed_host_takes_its_services_and_the_client_hears_of_it(
    host: StartHost,
) -> None:
    started = await host()
    runtime = await attach(started.config)
    messages = recorded(runtime)
    try:
        assert await eventually(lambda: running(runtime, "gateway") is not None)
        pids = [s.pid for s in runtime.view().snapshot.supervisor.services if s.pid is not None]
        os.kill(started.pid, signal.SIGKILL)
        assert await eventually(lambda: any(isinstance(m, LinkChanged) for m in messages))
        lost = next(m for m in messages if isinstance(m, LinkChanged))
        assert not lost.connected and "runtime host" in lost.reason
        assert await eventually(lambda: pids_alive(pids) == [])
    finally:
        await runtime.close()


async def test_down_stops_services_that_ignore_sigterm(host: StartHost) -> None:
    stubborn = {"command": child("hang", "--ignore-term"), "stop_timeout": 0.5}
    started = await host({"stubborn": stubborn})
    runtime = await attach(started.config)
    assert await eventually(lambda: running(runtime, "stubborn") is not None)
    pids = [s.pid for s in runtime.view().snapshot.supervisor.services if s.pid is not None]
    await runtime.close()
    stopped = await stop_host(started.config, 60)
    assert stopped is not None and stopped.host_pid == started.pid
    assert pids_alive([*pids, started.pid]) == []
    assert await stop_host(started.config, 5) is None


async def test_supervise_is_a_host_in_the_foreground(tmp_path: Path) -> None:
    """A service manager runs ``supervise``: it keeps its JSON lines, and UIs attach to it."""
    import json
    import subprocess
    import sys

    path = write_config(tmp_path)
    config = load_config(path)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "palyra_tui",
        "supervise",
        "--config",
        str(path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        while True:
            record = json.loads(await process.stdout.readline())
            if record.get("service") == "gateway" and record.get("state") == "running":
                break
        runtime = await attach(config)
        try:
            assert running(runtime, "gateway") == record["pid"]
        finally:
            await runtime.close()
        stopped = await stop_host(config, 60)
        assert stopped is not None and stopped.host_pid == process.pid
        rest = [json.loads(line) for line in (await process.stdout.read()).splitlines()]
        assert any(r.get("service") == "gateway" and r.get("state") == "stopped" for r in rest)
        assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_down_ends_the_log_streams_of_attached_clients(host: StartHost) -> None:
    """A UI following logs is told the stream ended when the host stops, instead of being
    cut off once the socket's grace period ran out; ``down`` exits 0 with nothing left."""
    import subprocess
    import sys

    stubborn = {"command": child("hang", "--ignore-term"), "stop_timeout": 0.5}
    started = await host({"stubborn": stubborn})
    runtime = await attach(started.config)
    try:
        assert await eventually(lambda: running(runtime, "stubborn") is not None)
        pids = [s.pid for s in runtime.view().snapshot.supervisor.services if s.pid is not None]
        feed = runtime.subscribe_logs(backlog=True)
        batches: list[int] = []

        async def follow() -> None:
            async for batch in feed:
                batches.append(len(batch))

        following = asyncio.get_running_loop().create_task(follow())
        assert await eventually(lambda: bool(batches))
        down = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "palyra_tui",
            "down",
            "--config",
            str(started.path),
            stdout=subprocess.PIPE,
        )
        out, _ = await down.communicate()
        assert down.returncode == 0
        assert f"stopped the runtime host (pid {started.pid})" in out.decode()
        assert pids_alive([*pids, started.pid]) == []
        await asyncio.wait_for(following, 10)
        assert feed.error == "", "the host ended the stream; nothing cut it off"
    finally:
        await runtime.close()
