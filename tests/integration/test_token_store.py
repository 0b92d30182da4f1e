"""The stored tokens with a real runtime host: where they go, where they never go, and that
a new host of the same state root gives its gateway the same admin token."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import keyring.core
import psutil
import pytest

from palyra_tui.cli.demo import sim_command
from palyra_tui.config import Config
from palyra_tui.secrets import RuntimeSecrets, SecretStore
from tests.conftest import child
from tests.integration.cli_support import Host, Ran, StartHost, start_hosts, until_cli
from tests.keyrings import KEYRING_FILE_ENV, JsonKeyring

SERVICES = ("gateway", "browserd", "node_host", "worker")
ALLOWED = {
    "gateway": {"admin_token", "browser_token"},
    "browserd": {"browser_token"},
    "node_host": set[str](),
    "worker": set[str](),
}
"""Which tokens each service's environment may hold: palyrad needs both, browserd its own."""


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[StartHost]:
    async for starter in start_hosts(tmp_path):
        yield starter


async def start_all(start: StartHost) -> tuple[Host, dict[str, int]]:
    """A host running the reference gateway, browserd and the node host (enrolled) and a
    service of our own; returns it and each service's pid once all run."""
    host = await start(
        {
            "browserd": {
                "command": sim_command("browserd", "--port", "0", "--grpc-port", "0"),
                "enabled": True,
            },
            "worker": {"command": child("hang")},
        }
    )
    gateway = await until_cli(
        host.path,
        ("status", "--json"),
        lambda ran: ran.code == 0 and ran.json()["services"][0]["health"]["state"] == "healthy",
    )
    assert gateway.code == 0, gateway.err
    enrolled = await host.cli("node", "enroll", "--yes", timeout=300)
    assert enrolled.code == 0, enrolled.err

    def settled(ran: Ran) -> bool:
        if ran.code != 0:
            return False
        states = {s["name"]: s["state"] for s in ran.json()["services"]}
        return all(states.get(name) == "running" for name in SERVICES)

    ran = await until_cli(host.path, ("status", "--json"), settled)
    assert settled(ran), ran.out + ran.err
    pids = {s["name"]: s["pid"] for s in ran.json()["services"]}
    return host, pids


def stored(config: Config) -> RuntimeSecrets:
    secrets = SecretStore.for_config(config).read()
    assert secrets is not None
    return secrets


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(errors="replace"): value.decode(errors="replace") for key, value in pairs}


def holders(data: bytes, secrets: RuntimeSecrets) -> set[str]:
    """Which tokens ``data`` contains."""
    return {
        name
        for name, value in (
            ("admin_token", secrets.admin_token),
            ("browser_token", secrets.browser_token),
        )
        if value.encode() in data
    }


def files_with_tokens(root: Path, secrets: RuntimeSecrets, store: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        if path == store or path.is_symlink() or not path.is_file():
            continue
        if holders(path.read_bytes(), secrets):
            found.append(str(path.relative_to(root)))
    return found


@pytest.mark.parametrize("backend", ["file", "keyring"])
async def test_the_tokens_are_nowhere_but_in_their_store_and_the_daemons_that_need_them(
    start: StartHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    if backend == "keyring":
        monkeypatch.setenv("PALYRA_TUI_SECRET_BACKEND", "keyring")
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.keyrings.JsonKeyring")
        monkeypatch.setenv(KEYRING_FILE_ENV, str(tmp_path / "keyring.json"))
        monkeypatch.setattr(keyring.core, "_keyring_backend", JsonKeyring())  # type: ignore[no-untyped-call]
        store = tmp_path / "keyring.json"
    host, pids = await start_all(start)
    if backend == "file":
        store = host.config.state_dir / "secrets" / "tokens.json"
    secrets = stored(host.config)
    assert holders(store.read_bytes(), secrets) == {"admin_token", "browser_token"}

    outputs = [
        await host.cli(*command)
        for command in (("status", "--json"), ("status",), ("logs",), ("sessions", "--json"))
    ]
    assert [ran.code for ran in outputs] == [0, 0, 0, 0], [ran.err for ran in outputs]
    for ran in outputs:
        assert not holders((ran.out + ran.err).encode(), secrets)

    host_process = psutil.Process(host.pid)
    processes = [host_process, *host_process.children(recursive=True)]
    assert set(pids.values()) <= {process.pid for process in processes}
    for process in processes:
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        assert not holders(cmdline, secrets), process.cmdline()
    services = {pid: name for name, pid in pids.items()}
    for process in processes:
        name = services.get(process.pid)
        allowed = ALLOWED[name] if name is not None else set()
        environ = Path(f"/proc/{process.pid}/environ").read_bytes()
        assert holders(environ, secrets) <= allowed, (name, process.cmdline())
    assert holders(Path(f"/proc/{pids['gateway']}/environ").read_bytes(), secrets) == {
        "admin_token",
        "browser_token",
    }

    assert files_with_tokens(tmp_path, secrets, store) == []
    down = await host.cli("down")
    assert down.code == 0, down.err
    assert files_with_tokens(tmp_path, secrets, store) == []
    assert json.loads((host.config.state_dir / "secrets" / "backend.json").read_text()) == (
        {"backend": "file"}
        if backend == "file"
        else {"backend": "keyring", "keyring": "tests.keyrings.JsonKeyring"}
    )


async def test_a_new_host_gives_the_gateway_the_same_admin_token(start: StartHost) -> None:
    first, pids = await start_all(start)
    token = stored(first.config).admin_token
    assert environ_of(pids["gateway"])["PALYRA_ADMIN_TOKEN"] == token
    assert (await first.cli("down")).code == 0

    second, again = await start_all(start)
    assert second.pid != first.pid and again["gateway"] != pids["gateway"]
    assert environ_of(again["gateway"])["PALYRA_ADMIN_TOKEN"] == token
    assert stored(second.config).admin_token == token
    sessions = await second.cli("sessions", "--json")
    assert sessions.code == 0, sessions.err


async def test_tokens_an_older_state_file_kept_move_into_the_store(
    start: StartHost, tmp_path: Path
) -> None:
    """The first host on a state root whose state file holds plaintext tokens gives the
    gateway those tokens, keeps them in the store, and rewrites the file without them."""
    legacy = RuntimeSecrets(admin_token="A" * 52, browser_token="B" * 52)
    state_dir = tmp_path / "state" / "tui"
    state_dir.mkdir(parents=True, mode=0o700)
    state_file = state_dir / "state.json"
    state_file.write_text(
        json.dumps(
            {
                "schema_version": 1,
                "admin_token": legacy.admin_token,
                "browser_token": legacy.browser_token,
            }
        )
    )
    state_file.chmod(0o600)
    host, pids = await start_all(start)
    assert stored(host.config) == legacy
    assert environ_of(pids["gateway"])["PALYRA_ADMIN_TOKEN"] == legacy.admin_token
    document = json.loads(state_file.read_text())
    assert document["schema_version"] == 2
    assert not holders(state_file.read_bytes(), legacy)
