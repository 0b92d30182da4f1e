"""A remote profile: another state root's gateway, reached with a token from the secret store."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from palyra_tui.config import Config
from palyra_tui.host.client import HostClient
from palyra_tui.host.protocol import ClientInfo
from palyra_tui.host.remote import SocketRuntime
from palyra_tui.models.handoff import HandoffScope
from palyra_tui.state.snapshot import ConnectionState
from tests.conftest import eventually
from tests.integration.cli_support import (
    Ran,
    StartHost,
    cli_env,
    run_cli,
    start_hosts,
    use_catalog,
    write_config,
)


async def attach(config: Config) -> SocketRuntime:
    client = HostClient.for_state_root(config.state_root, client=ClientInfo.current("test"))
    runtime = SocketRuntime(client)
    await runtime.open()
    return runtime


async def keep_token(path: Path, name: str, token: str) -> Ran:
    """``palyra-tui profile token NAME`` with the token on stdin, as a script would."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "palyra_tui",
        "profile",
        "token",
        name,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(path),
    )
    out, err = await process.communicate(f"{token}\n".encode())
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


def every_file_under(root: Path) -> str:
    return "\n".join(
        p.read_text(errors="replace") for p in root.rglob("*") if p.is_file() and p.stat().st_size
    )


@pytest.fixture
async def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[StartHost]:
    """Hosts of the state root ``a``, with no catalog: the gateway the remote profile names."""
    monkeypatch.setenv("PALYRA_CLI_PROFILES_PATH", "")
    (tmp_path / "a").mkdir()
    async for start in start_hosts(tmp_path / "a"):
        yield start


@pytest.fixture
async def there(tmp_path: Path) -> AsyncIterator[StartHost]:
    """Hosts of the state root ``b``, whose catalog names ``a``'s gateway."""
    (tmp_path / "b").mkdir()
    async for start in start_hosts(tmp_path / "b"):
        yield start


async def test_a_remote_profile_reaches_the_gateway_with_its_own_token(
    here: StartHost, there: StartHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = await attach((await here()).config)
    try:
        assert await eventually(
            lambda: local.view().snapshot.connection is ConnectionState.CONNECTED
        )
        view = local.view()
        secrets = tmp_path / "a" / "state" / "tui" / "secrets" / "tokens.json"
        token = json.loads(secrets.read_text())["admin_token"]
        use_catalog(
            monkeypatch,
            tmp_path / "profiles.toml",
            'default_profile = "far"\n[profiles.far]\nmode = "remote"\n'
            f'daemon_url = "{view.dashboard_url}"\n'
            f'grpc_url = "http://{view.snapshot.gateway_target}"\n',
        )
        path_b = write_config(tmp_path / "b")
        refused = await keep_token(path_b, "local", token)
        assert refused.code == 2 and "built-in" in refused.err
        kept = await keep_token(path_b, "far", token)
        assert kept.code == 0, kept.err
        assert token not in kept.out + kept.err
        remote = await attach((await there()).config)
        try:
            assert remote.view().profile.remote
            assert await eventually(
                lambda: remote.view().snapshot.connection is ConnectionState.CONNECTED
            )
            assert all(s.pid is None for s in remote.services().services)
            session = await remote.new_session()
            assert await eventually(
                lambda: session.session_id in {s.session_id for s in local.view().snapshot.sessions}
            )
            handoff = await remote.dashboard_handoff(HandoffScope.chat(session.session_id))
            assert not handoff.one_time
            assert handoff.url == f"{view.dashboard_url}/#/chat?sessionId={session.session_id}" + (
                "&intent=resume-session"
            )
            printed = (await run_cli(path_b, "dashboard", "--json")).json()
            assert printed["url"] == f"{view.dashboard_url}/#/control/overview"
            assert printed["expires_in"] is None and printed["tunnel"] is None
            again = await run_cli(path_b, "profile", "use", "far")
            assert "already using the profile 'far'; its admin token was read again" in again.out
            listed = await run_cli(path_b, "profile", "list", "--json")
            assert listed.json()["active"] == "far"
            status = await run_cli(path_b, "status")
            assert "profile far" in status.out
            assert "remote, not supervised: the profile 'far' uses the gateway at" in status.out
            assert "SERVICE" not in status.out
            document = (await run_cli(path_b, "status", "--json")).json()
            assert document["profile"] == {"name": "far", "supervised": False}
            assert document["gateway"]["connection"] == "connected"
        finally:
            await remote.close()
        state_b = tmp_path / "b" / "state"
        store = state_b / "tui" / "secrets" / "tokens.json"
        assert json.loads(store.read_text())["profile_admin_token:far"] == token
        store.unlink()
        assert token not in every_file_under(state_b)
    finally:
        await local.close()
