"""``palyra-tui doctor`` as a script runs it: fresh state roots, busy ports, our own runtime,
a gateway left running, a broken config, a state root that cannot be written, a keyring
that is gone."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from palyra_tui.cli.demo import sim_command
from palyra_tui.secrets import SecretStore
from tests.conftest import eventually
from tests.integration.cli_support import Ran, StartHost, run_cli, until_cli, write_config
from tests.keyrings import KEYRING_FILE_ENV


def checks(ran: Ran) -> dict[str, dict[str, Any]]:
    document = ran.json()
    return {check["key"]: check for check in document["checks"]}


def statuses(ran: Ran) -> dict[str, str]:
    return {key: check["status"] for key, check in checks(ran).items()}


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_grpc_port() -> int:
    """A free port whose next one is free too: the gateway's node RPC listens there."""
    while True:
        port = free_port()
        with socket.socket() as low, socket.socket() as high:
            try:
                low.bind(("127.0.0.1", port))
                high.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


def runtime(admin: int = 0, grpc: int = 0, quic: int = 0) -> dict[str, int]:
    return {
        "admin_port": admin,
        "grpc_port": grpc,
        "quic_port": quic,
        "browserd_port": 0,
        "browserd_grpc_port": 0,
    }


@pytest.fixture
def held() -> Iterator[list[socket.socket]]:
    """Sockets a test holds ports with; closed afterwards."""
    sockets: list[socket.socket] = []
    yield sockets
    for sock in sockets:
        sock.close()


async def test_a_fresh_state_root_is_ready_and_doctor_creates_no_token(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    ran = await run_cli(path, "doctor", "--json")
    assert ran.code == 0, ran.out + ran.err
    document = ran.json()
    assert document["status"] == "warning" and document["blocked"] == 0
    assert document["state_root"] == str(tmp_path / "state")
    assert list(checks(ran)) == [
        "gateway_binary",
        "browser_binary",
        "cli_binary",
        "state_root",
        "config",
        "gateway_ports",
        "browser_ports",
        "browser_engine",
        "secret_store",
        "operator_auth",
        "dashboard_mode",
    ]
    found = checks(ran)
    assert {key for key, status in statuses(ran).items() if status != "ok"} == {"operator_auth"}
    assert found["operator_auth"]["detail"].startswith("no admin token yet")
    assert found["operator_auth"]["hint"] == "start the runtime: palyra-tui up"
    assert found["config"]["detail"] == f"{path} is valid"
    assert found["gateway_binary"]["detail"].endswith("(configured command)")
    assert "a private file" in found["secret_store"]["detail"]
    assert "root, programs running as you" in found["secret_store"]["detail"]
    state_dir = tmp_path / "state" / "tui"
    assert sorted(p.name for p in state_dir.iterdir()) == []

    text = await run_cli(path, "doctor")
    assert text.code == 0
    lines = text.out.splitlines()
    assert lines[0] == f"state root {tmp_path / 'state'}"
    assert "warning  Operator auth bootstrap" in lines
    assert "         hint: start the runtime: palyra-tui up" in lines
    assert lines[-1] == "nothing blocked, 1 warning"


async def test_a_missing_chromium_is_a_warning_and_a_found_one_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """browserd enabled in its default engine mode, on a PATH that the test controls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("CHROME", raising=False)
    browserd = {"command": sim_command("browserd", "--port", "0"), "enabled": True}
    path = write_config(tmp_path, {"browserd": browserd}, runtime=runtime())
    ran = await run_cli(path, "doctor", "--json")
    assert ran.code == 0, ran.out + ran.err
    engine = checks(ran)["browser_engine"]
    assert (engine["label"], engine["status"]) == ("Browser engine", "warning")
    assert engine["detail"].startswith("chromium: no Chromium or Chrome found")
    assert "every browser session fails" in engine["detail"]
    assert 'browser_engine = "simulated"' in engine["hint"]
    text = await run_cli(path, "doctor")
    assert "warning  Browser engine" in text.out.splitlines()

    chromium = bin_dir / "chromium"
    chromium.write_text("#!/bin/sh\nexit 0\n")
    chromium.chmod(0o755)
    engine = checks(await run_cli(path, "doctor", "--json"))["browser_engine"]
    assert engine["detail"].startswith(f"chromium: {chromium} (found on PATH)")
    if os.geteuid() == 0:
        assert engine["status"] == "warning"
        assert "palyra-tui runs as root" in engine["detail"]
    else:
        assert (engine["status"], engine["hint"]) == ("ok", "")


async def test_busy_tcp_and_udp_ports_block(tmp_path: Path, held: list[socket.socket]) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    quic = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    quic.bind(("127.0.0.1", 0))
    held += [listener, quic]
    admin, udp = listener.getsockname()[1], quic.getsockname()[1]
    path = write_config(tmp_path, runtime=runtime(admin=admin, quic=udp))
    ran = await run_cli(path, "doctor", "--json")
    assert ran.code == 1, ran.out + ran.err
    gateway = checks(ran)["gateway_ports"]
    assert gateway["status"] == "blocked"
    assert gateway["detail"] == (
        f"admin tcp:{admin}, QUIC udp:{udp} are already in use on loopback"
    )
    assert "ss -ltnup" in gateway["hint"]
    assert ran.json()["status"] == "blocked"
    text = await run_cli(path, "doctor")
    assert text.code == 1
    assert "blocked  Gateway ports" in text.out.splitlines()
    assert text.out.splitlines()[-1].startswith("1 check blocked")


async def test_our_own_gateway_may_use_its_ports_and_a_leftover_one_is_named(
    cli_host: StartHost, tmp_path: Path
) -> None:
    admin, grpc = free_port(), free_grpc_port()
    command = sim_command("gateway", "--port", str(admin), "--grpc-port", str(grpc))
    host = await cli_host({"gateway": {"command": command}}, runtime=runtime(admin, grpc))

    def settled(ran: Ran) -> bool:
        return ran.code == 0 and statuses(ran)["operator_auth"] == "ok"

    ran = await until_cli(host.path, ("doctor", "--json"), settled)
    assert settled(ran), ran.out + ran.err
    found = checks(ran)
    services = (await host.cli("status", "--json")).json()["services"]
    pid = {service["name"]: service["pid"] for service in services}["gateway"]
    assert found["gateway_ports"]["status"] == "ok"
    assert found["gateway_ports"]["detail"] == (
        f"admin tcp:{admin}, gRPC tcp:{grpc}, node RPC tcp:{grpc + 1} belong to the runtime "
        f"host's gateway (pid {pid})"
    )
    assert found["operator_auth"]["detail"].endswith("accepts the token")
    assert found["secret_store"]["detail"].startswith("the tokens are kept in a private file")
    assert found["dashboard_mode"]["detail"] == (
        f"local: http://127.0.0.1:{admin} (the gateway serves it)"
    )
    assert (await host.cli("down")).code == 0

    tokens = SecretStore.for_config(host.config).read()
    assert tokens is not None
    async with leftover_gateway(tmp_path, admin, grpc, tokens.admin_token):
        ran = await run_cli(host.path, "doctor", "--json")
        assert ran.code == 1, ran.out + ran.err
        gateway = checks(ran)["gateway_ports"]
        assert gateway["status"] == "blocked"
        assert gateway["detail"].startswith("A Palyra runtime (palyra-tui-sim ")
        assert (
            f"already responding on admin tcp:{admin}, gRPC tcp:{grpc}, node RPC tcp:{grpc + 1}, "
            "and no " in (gateway["detail"])
        )


async def test_a_daemon_on_our_port_is_never_sent_the_admin_token(
    cli_host: StartHost, tmp_path: Path
) -> None:
    """Any local user may bind the admin port and answer /healthz: doctor names what holds
    it and asks it nothing with the token, on every check (ports and operator auth)."""
    admin, grpc = free_port(), free_grpc_port()
    command = sim_command("gateway", "--port", str(admin), "--grpc-port", str(grpc))
    host = await cli_host({"gateway": {"command": command}}, runtime=runtime(admin, grpc))
    assert (await host.cli("down")).code == 0
    tokens = SecretStore.for_config(host.config).read()
    assert tokens is not None
    heard: list[bytes] = []
    with squatter(admin, heard):
        ran = await run_cli(host.path, "doctor", "--json")
    assert ran.code == 1, ran.out + ran.err
    assert checks(ran)["gateway_ports"]["status"] == "blocked"
    assert heard, "the squatter was not asked anything"
    assert not [request for request in heard if tokens.admin_token.encode() in request]


@contextlib.contextmanager
def squatter(port: int, heard: list[bytes]) -> Iterator[None]:
    """A listener on ``port`` that answers every request as a healthy Palyra daemon and
    keeps each request's bytes."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen()
    server.settimeout(0.1)
    stop = threading.Event()
    body = b'{"status":"ok","service":"not-palyra","version":"6.6.6"}'
    reply = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
    )

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(5)
                data = b""
                with contextlib.suppress(OSError):
                    while b"\r\n\r\n" not in data:
                        chunk = connection.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                heard.append(data)
                with contextlib.suppress(OSError):
                    connection.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        server.close()


@contextlib.asynccontextmanager
async def leftover_gateway(
    tmp_path: Path, admin: int, grpc: int, token: str
) -> AsyncIterator[None]:
    """The reference gateway started by hand on fixed ports, as an ended host might leave
    one behind (or another installation runs one)."""
    command = sim_command("gateway", "--port", str(admin), "--grpc-port", str(grpc))
    env = {**os.environ, "PALYRA_ADMIN_TOKEN": token}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path
    )

    def answers() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", admin)) == 0

    try:
        assert await eventually(answers, timeout=60)
        yield
    finally:
        process.kill()
        await asyncio.to_thread(process.wait)


async def test_a_broken_config_is_one_blocked_check(tmp_path: Path) -> None:
    path = write_config(tmp_path, bogus=1)
    ran = await run_cli(path, "doctor", "--json")
    assert ran.code == 1, ran.err
    assert ran.err == ""
    config = checks(ran)["config"]
    assert config["status"] == "blocked"
    assert config["detail"] == f"{path}: bogus: unknown key"
    assert "the other checks used the built-in defaults" in config["hint"]
    assert statuses(ran)["state_root"] == "ok"


async def test_a_state_root_that_cannot_hold_a_directory_blocks(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    path = write_config(tmp_path, state_root=str(tmp_path / "file" / "state"))
    ran = await run_cli(path, "doctor", "--json")
    assert ran.code == 1
    state_root = checks(ran)["state_root"]
    assert state_root["status"] == "blocked"
    assert state_root["detail"] == (
        f"cannot use the state root {tmp_path / 'file' / 'state'}: "
        f"{tmp_path / 'file'} is not a directory"
    )


async def test_a_recorded_keyring_that_is_gone_blocks_with_the_way_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path)
    keyring_env = {
        "PALYRA_TUI_SECRET_BACKEND": "keyring",
        "PYTHON_KEYRING_BACKEND": "tests.keyrings.JsonKeyring",
        KEYRING_FILE_ENV: str(tmp_path / "keyring.json"),
    }
    created = await asyncio.to_thread(
        _create_tokens_in_a_subprocess, path, {**os.environ, **keyring_env}
    )
    assert created.returncode == 0, created.stderr
    monkeypatch.setenv("PALYRA_TUI_SECRET_BACKEND", "auto")
    ran = await run_cli(path, "doctor", "--json")
    assert ran.code == 1
    found = checks(ran)
    store = found["secret_store"]
    assert store["status"] == "blocked"
    assert (
        "are kept in the keyring (tests.keyrings.JsonKeyring), which does not work now"
        in (store["detail"])
    )
    assert "backend.json" in store["hint"] and "desktop session" in store["hint"]
    assert found["operator_auth"]["status"] == "blocked"


def _create_tokens_in_a_subprocess(
    path: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    code = (
        "from palyra_tui.config import load_config\n"
        "from palyra_tui.secrets import SecretStore\n"
        "print(SecretStore.for_config(load_config()).load_or_create().backend.kind.value)\n"
    )
    env = {**env, "PALYRA_TUI_CONFIG": str(path)}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
