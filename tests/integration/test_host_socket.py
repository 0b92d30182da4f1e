"""The host socket on disk: private modes, stale recovery, no stealing, other users refused."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from palyra_tui.errors import (
    HostAlreadyRunning,
    HostConnectFailed,
    HostNotRunning,
    HostUnsafeDirectory,
)
from palyra_tui.host.paths import host_paths
from palyra_tui.host.transport import HostClient, HostServer
from tests.integration.host_toy import toy_server

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534


@pytest.fixture(autouse=True)
def no_runtime_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Without its chmod, the socket would be bound 0777 under this umask."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
async def servers() -> AsyncIterator[list[HostServer]]:
    started: list[HostServer] = []
    yield started
    for server in started:
        await server.stop(grace=0)


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[str]]]:
    spawned: list[subprocess.Popen[str]] = []
    yield spawned
    for child in spawned:
        if child.poll() is None:
            child.kill()
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()


def serve_in_child(state_root: Path, spawned: list[subprocess.Popen[str]]) -> Path:
    """A toy host in another process; returns its socket once it listens."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.host_toy", "serve", str(state_root)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    spawned.append(child)
    assert child.stdout is not None
    word, _, path = child.stdout.readline().strip().partition(" ")
    assert word == "ready", f"the child host did not start (exit {child.poll()})"
    return Path(path)


async def start(state_root: Path, started: list[HostServer]) -> HostServer:
    server, _ = toy_server(state_root)
    await server.start()
    started.append(server)
    return server


async def host_pid(socket_path: Path) -> int:
    async with HostClient(socket_path) as client:
        assert client.host is not None
        return client.host.host_pid


async def test_the_socket_is_0600_in_a_0700_directory(
    tmp_path: Path, servers: list[HostServer], open_umask: None
) -> None:
    server = await start(tmp_path / "state", servers)
    info = server.paths.socket.lstat()
    assert stat.S_ISSOCK(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert stat.S_IMODE(server.paths.directory.stat().st_mode) == 0o700
    assert server.paths.socket == tmp_path / "state" / "tui" / "host" / "host.sock"


async def test_a_socket_left_by_a_killed_host_is_recovered(
    tmp_path: Path, servers: list[HostServer], children: list[subprocess.Popen[str]]
) -> None:
    state_root = tmp_path / "state"
    path = serve_in_child(state_root, children)
    assert await host_pid(path) == children[0].pid
    children[0].send_signal(signal.SIGKILL)
    children[0].wait(10)
    assert stat.S_ISSOCK(path.lstat().st_mode)
    with pytest.raises(HostNotRunning, match="the socket is left from a host that stopped"):
        await HostClient(path).connect()
    server = await start(state_root, servers)
    assert server.paths.socket == path
    assert await host_pid(path) == os.getpid()


async def test_a_connect_that_fails_while_something_listens_is_tried_again(
    tmp_path: Path,
) -> None:
    """A listener whose backlog is full fails a connect (EAGAIN), which is not "nobody
    listens": the handshake waits a moment for the channel, then says why it failed."""
    directory = tmp_path / "host"
    directory.mkdir(mode=0o700)
    path = directory / "host.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen(0)
        waiting: list[socket.socket] = []
        try:
            while True:
                queued = socket.socket(socket.AF_UNIX)
                queued.setblocking(False)
                waiting.append(queued)
                try:
                    queued.connect(str(path))
                except BlockingIOError:
                    break
            client = HostClient(path)
            try:
                with pytest.raises(
                    HostConnectFailed, match="could not connect to the runtime host"
                ):
                    await client.connect(timeout=1.0)
            finally:
                await client.close()
        finally:
            for queued in waiting:
                queued.close()


async def test_an_abandoned_socket_file_is_recovered(
    tmp_path: Path, servers: list[HostServer]
) -> None:
    paths = host_paths(tmp_path / "state")
    paths.directory.mkdir(parents=True, mode=0o700)
    abandoned = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abandoned.bind(os.fspath(paths.socket))  # bound, never listening: connect is refused
    abandoned.close()
    await start(tmp_path / "state", servers)
    assert await host_pid(paths.socket) == os.getpid()


async def test_a_live_host_keeps_its_socket(
    tmp_path: Path, children: list[subprocess.Popen[str]]
) -> None:
    state_root = tmp_path / "state"
    path = serve_in_child(state_root, children)
    before = path.lstat().st_ino
    server, _ = toy_server(state_root)
    with pytest.raises(HostAlreadyRunning) as caught:
        await server.start()
    assert str(caught.value) == (
        f"a runtime host (pid {children[0].pid}) is already listening on {path}: "
        "attach to it, or stop it with `palyra-tui down`"
    )
    assert path.lstat().st_ino == before
    assert await host_pid(path) == children[0].pid


async def test_a_listener_that_is_not_a_host_is_not_stolen(tmp_path: Path) -> None:
    paths = host_paths(tmp_path / "state")
    paths.directory.mkdir(parents=True, mode=0o700)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(os.fspath(paths.socket))
    listener.listen()
    try:
        server, _ = toy_server(tmp_path / "state")
        with pytest.raises(HostAlreadyRunning, match="something is already listening on"):
            await server.start()
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.connect(os.fspath(paths.socket))  # still the listener's socket
        probe.close()
    finally:
        listener.close()


async def test_a_file_in_the_sockets_place_is_refused(tmp_path: Path) -> None:
    paths = host_paths(tmp_path / "state")
    paths.directory.mkdir(parents=True, mode=0o700)
    paths.socket.write_text("not a socket")
    server, _ = toy_server(tmp_path / "state")
    with pytest.raises(HostUnsafeDirectory, match="exists and is not a socket"):
        await server.start()
    assert paths.socket.read_text() == "not a socket"


async def test_a_directory_open_to_others_stops_the_host(tmp_path: Path) -> None:
    paths = host_paths(tmp_path / "state")
    paths.directory.mkdir(parents=True, mode=0o700)
    paths.directory.chmod(0o755)
    server, _ = toy_server(tmp_path / "state")
    with pytest.raises(HostUnsafeDirectory, match="has mode 0755, open to other users"):
        await server.start()
    assert not paths.socket.exists()


@pytest.fixture
def shared_base() -> Iterator[Path]:
    """A state root another user can walk to, as a home directory usually is."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed")
    if os.geteuid() != 0:
        pytest.skip("running a client as nobody needs root")
    base = Path(tempfile.mkdtemp(prefix="palyra-host-"))
    try:
        for directory in (base, base / "state", base / "state" / "tui"):
            directory.mkdir(exist_ok=True)
            directory.chmod(0o711)
        yield base
    finally:
        shutil.rmtree(base)


async def attach_as_nobody(socket_path: Path) -> dict[str, object]:
    process = await asyncio.create_subprocess_exec(
        "setpriv",
        f"--reuid={NOBODY}",
        f"--regid={NOBODY}",
        "--clear-groups",
        sys.executable,
        "-m",
        "tests.integration.host_toy",
        "attach",
        str(socket_path),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    report: dict[str, object] = json.loads(out)
    assert report["uid"] == NOBODY
    return report


RAW_CONNECT = """
import socket, sys
client = socket.socket(socket.AF_UNIX)
try:
    client.connect(sys.argv[1])
    print("connected")
except OSError as error:
    print(error.strerror)
"""


async def as_nobody(*argv: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        "setpriv",
        f"--reuid={NOBODY}",
        f"--regid={NOBODY}",
        "--clear-groups",
        *argv,
        cwd="/",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def raw_connect_as_nobody(socket_path: Path) -> str:
    """What the kernel says to another user connecting; needs only the interpreter."""
    interpreter = os.path.realpath(sys.executable)
    code, out, err = await as_nobody(interpreter, "-I", "-S", "-c", RAW_CONNECT, str(socket_path))
    assert code == 0, err
    return out.strip()


async def nobody_can_run_this_checkout() -> bool:
    """A checkout in a private directory (a fresh clone under ``mktemp -d``) is not."""
    code, _, _ = await as_nobody(
        sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); import tests"
    )
    return code == 0


async def test_a_client_of_another_user_is_refused(
    shared_base: Path, servers: list[HostServer]
) -> None:
    server = await start(shared_base / "state", servers)
    assert await raw_connect_as_nobody(server.paths.socket) == "Permission denied"
    server.paths.directory.chmod(0o711)
    assert await raw_connect_as_nobody(server.paths.socket) == "Permission denied", (
        "with the directory opened up, the socket's own 0600 still refuses"
    )
    server.paths.directory.chmod(0o700)
    assert await host_pid(server.paths.socket) == os.getpid()
    if not await nobody_can_run_this_checkout():
        pytest.skip("another user cannot read this checkout, so only the kernel's refusal ran")
    report = await attach_as_nobody(server.paths.socket)
    assert report["error"] == "HostPermissionDenied"
    assert report["message"] == (
        f"permission denied reaching the runtime host's socket {server.paths.socket}: "
        "it belongs to another user"
    )
    server.paths.directory.chmod(0o711)
    report = await attach_as_nobody(server.paths.socket)
    assert report["error"] == "HostPermissionDenied"
    assert report["message"] == (
        f"permission denied: the runtime host's socket {server.paths.socket} belongs to "
        f"uid 0, not to you (uid {NOBODY})"
    )
