"""Profiles through a real runtime host: resolution at start, switching, and what is per profile."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from palyra_tui.cli.demo import sim_command
from palyra_tui.config import Config
from palyra_tui.errors import SupervisorError
from palyra_tui.host.client import HostClient
from palyra_tui.host.protocol import ClientInfo
from palyra_tui.host.remote import SocketRuntime
from palyra_tui.models import ServiceState
from palyra_tui.state.persisted import Place, Section
from palyra_tui.state.profiles import PAUSED, ProfileRefused
from palyra_tui.state.runtime_api import MessageNotSent
from palyra_tui.state.state_file import state_path
from tests.conftest import child, eventually, pids_alive
from tests.integration.cli_support import StartHost, start_hosts, use_catalog

CATALOG = """
default_profile = "lab"

[profiles.lab]
daemon_url = "http://127.0.0.1:7142"
label = "Lab bench"
config_path = "/srv/lab/palyra.toml"

[profiles.staging]
daemon_url = "http://127.0.0.1:7142"
label = "Staging"
strict_mode = true
"""
SESSION = "01JQ7P4NQ2T7K5XG0C9M3E8AAA"


@pytest.fixture
async def hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[StartHost]:
    use_catalog(monkeypatch, tmp_path / "profiles.toml", CATALOG)
    async for start in start_hosts(tmp_path):
        yield start


def remember(config: Config, active: str) -> None:
    """A state file whose active profile is ``active``."""
    path = state_path(config.state_dir)
    path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    path.write_text(json.dumps({"schema_version": 2, "active_profile": active}))


def kept_active(config: Config) -> str:
    """The active profile the state file holds ("" while it is absent or being replaced)."""
    try:
        document = json.loads(state_path(config.state_dir).read_text())
    except (OSError, ValueError):
        return ""
    active = document["active_profile"]
    assert isinstance(active, str)
    return active


async def attach(config: Config) -> SocketRuntime:
    client = HostClient.for_state_root(config.state_root, client=ClientInfo.current("test"))
    runtime = SocketRuntime(client)
    await runtime.open()
    return runtime


def gateway_pid(runtime: SocketRuntime) -> int | None:
    service = runtime.view().snapshot.supervisor.get("gateway")
    if service is None or service.state is not ServiceState.RUNNING:
        return None
    return service.pid


async def test_the_catalog_default_is_active_on_a_first_start(hosts: StartHost) -> None:
    host = await hosts()
    runtime = await attach(host.config)
    try:
        view = runtime.view()
        assert view.profile.name == "lab"
        assert view.profile.label == "Lab bench"
        assert [p.name for p in view.profiles] == ["local", "lab", "staging"]
        assert next(p for p in view.profiles if p.name == "staging").strict
        assert await eventually(lambda: kept_active(host.config) == "lab")
    finally:
        await runtime.close()


async def test_a_strict_switch_without_the_typed_name_changes_nothing(hosts: StartHost) -> None:
    host = await hosts()
    runtime = await attach(host.config)
    try:
        assert await eventually(lambda: gateway_pid(runtime) is not None)
        pid = gateway_pid(runtime)
        for typed in ("", "STAGING", "stagin"):
            with pytest.raises(ProfileRefused, match="strict: type its name"):
                await runtime.switch_profile("staging", typed)
        with pytest.raises(ProfileRefused, match="'nowhere' is not available"):
            await runtime.switch_profile("nowhere")
        with pytest.raises(ProfileRefused, match="name the profile"):
            await runtime.switch_profile("  ")
        assert runtime.view().profile.name == "lab"
        assert gateway_pid(runtime) == pid
        assert kept_active(host.config) == "lab"
        said = await runtime.switch_profile("lab")
        assert said == "already using the profile 'lab'"
        assert gateway_pid(runtime) == pid
    finally:
        await runtime.close()


async def test_a_switch_stops_the_services_and_does_not_start_them(hosts: StartHost) -> None:
    host = await hosts()
    runtime = await attach(host.config)
    try:
        assert await eventually(lambda: gateway_pid(runtime) is not None)
        pid = gateway_pid(runtime)
        assert pid is not None
        said = await runtime.switch_profile("staging", "staging")
        assert PAUSED in said
        assert "'A' on Health" in said
        assert not pids_alive([pid])
        assert await eventually(lambda: runtime.view().profile.name == "staging")
        services = runtime.services().services
        assert all(s.state is ServiceState.STOPPED and not s.desired for s in services)
        assert all(s.restarts == 0 and s.last_exit is None for s in services)
        assert await runtime.tail("gateway", 100) == ()
        assert kept_active(host.config) == "staging"

        def switched() -> bool:
            status = runtime.view().onboarding
            events = [] if status is None else [(e.kind, e.detail) for e in status.recent_events]
            return ("profile_switched", "from lab to staging") in events

        assert await eventually(switched)
        again = await runtime.switch_profile("local")
        assert PAUSED not in again
    finally:
        await runtime.close()


async def test_drafts_and_the_place_are_per_profile(hosts: StartHost) -> None:
    host = await hosts({"gateway": {"enabled": False}})
    runtime = await attach(host.config)
    try:
        await runtime.send(SESSION, "for the lab")
        await runtime.remember_place(Place(Section.CHAT, SESSION))
        assert await eventually(lambda: [d.text for d in runtime.view().chat.drafts] != [])
        await runtime.switch_profile("local")
        assert await eventually(lambda: runtime.view().profile.name == "local")
        assert runtime.view().chat.drafts == ()
        assert runtime.view().place == Place()
        await runtime.send(SESSION, "for this machine")
        assert await eventually(
            lambda: [d.text for d in runtime.view().chat.drafts] == ["for this machine"]
        )
        await runtime.switch_profile("lab")
        assert await eventually(
            lambda: [d.text for d in runtime.view().chat.drafts] == ["for the lab"]
        )
        assert runtime.view().place == Place(Section.CHAT, SESSION)
    finally:
        await runtime.close()


async def test_the_active_profile_and_its_drafts_survive_a_restart(hosts: StartHost) -> None:
    host = await hosts({"gateway": {"enabled": False}})
    first = await attach(host.config)
    await first.switch_profile("staging", "staging")
    await first.send(SESSION, "typed on staging")
    assert await eventually(lambda: [d.text for d in first.view().chat.drafts] != [])
    await first.shutdown()
    await first.close()
    assert await eventually(lambda: not pids_alive([host.pid]))
    again = await hosts({"gateway": {"enabled": False}})
    second = await attach(again.config)
    try:
        assert second.view().profile.name == "staging"
        assert [d.text for d in second.view().chat.drafts] == ["typed on staging"]
    finally:
        await second.close()


async def test_a_remembered_profile_gone_from_the_catalog_falls_back(
    hosts: StartHost, tmp_path: Path
) -> None:
    host = await hosts({"gateway": {"enabled": False}})
    runtime = await attach(host.config)
    await runtime.shutdown()
    await runtime.close()
    assert await eventually(lambda: not pids_alive([host.pid]))
    remember(host.config, "retired")
    again = await hosts({"gateway": {"enabled": False}})
    second = await attach(again.config)
    try:
        assert second.view().profile.name == "lab"
    finally:
        await second.close()


def cwd_of(runtime: SocketRuntime, name: str) -> str:
    service = runtime.view().snapshot.supervisor.get(name)
    if service is None or service.pid is None or service.state is not ServiceState.RUNNING:
        return ""
    try:
        return os.readlink(f"/proc/{service.pid}/cwd")
    except OSError:
        return ""


def environ_of(runtime: SocketRuntime, name: str) -> dict[str, str]:
    service = runtime.view().snapshot.supervisor.get(name)
    if service is None or service.pid is None:
        return {}
    try:
        raw = Path(f"/proc/{service.pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {key.decode(): value.decode() for key, value in pairs}


async def test_each_profile_runs_its_daemons_in_a_directory_of_its_own(
    hosts: StartHost,
) -> None:
    host = await hosts()
    state_dir = host.config.state_dir
    lab = str(state_dir / "profiles" / "lab" / "runtime")
    runtime = await attach(host.config)
    try:
        assert await eventually(lambda: cwd_of(runtime, "gateway") == lab)
        assert environ_of(runtime, "gateway")["PALYRA_CLI_PROFILE"] == "lab"
        assert environ_of(runtime, "gateway")["PALYRA_CONFIG"] == "/srv/lab/palyra.toml"
        await runtime.switch_profile("local")
        await runtime.start("gateway")
        assert await eventually(lambda: cwd_of(runtime, "gateway") == str(state_dir / "runtime"))
        assert "PALYRA_CLI_PROFILE" not in environ_of(runtime, "gateway")
        await runtime.switch_profile("lab")
        await runtime.start("gateway")
        assert await eventually(lambda: cwd_of(runtime, "gateway") == lab)
        status = runtime.view().onboarding
        assert status is not None and status.runtime_root == lab
    finally:
        await runtime.close()


REMOTE_CATALOG = """
default_profile = "far"

[profiles.far]
daemon_url = "https://gw.example.invalid:7443"
label = "Far away"
"""


@pytest.fixture
async def remote_hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[StartHost]:
    use_catalog(monkeypatch, tmp_path / "remote.toml", REMOTE_CATALOG)
    async for start in start_hosts(tmp_path):
        yield start


async def test_nothing_starts_for_a_remote_profile(remote_hosts: StartHost) -> None:
    host = await remote_hosts()
    runtime = await attach(host.config)
    try:
        view = runtime.view()
        assert view.profile.remote and view.profile.address == "https://gw.example.invalid:7443"
        services = runtime.services().services
        assert services and all(not s.desired and s.pid is None for s in services)
        with pytest.raises(SupervisorError, match="remote, not supervised"):
            await runtime.start("gateway")
        with pytest.raises(SupervisorError, match="remote, not supervised"):
            await runtime.start_all()
        said = await runtime.switch_profile("local")
        assert PAUSED not in said
        await runtime.start("gateway")
        assert await eventually(lambda: gateway_pid(runtime) is not None)
        back = await runtime.switch_profile("far")
        assert PAUSED in back
        assert "no admin token is kept for the profile 'far': palyra-tui profile token far" in back
        same = await runtime.switch_profile("far")
        assert same.startswith("already using the profile 'far'; no admin token is kept")
        assert gateway_pid(runtime) is None
    finally:
        await runtime.close()


async def test_a_broken_catalog_leaves_the_runtime_on_the_built_in_profile_and_says_why(
    hosts: StartHost, tmp_path: Path
) -> None:
    (tmp_path / "profiles.toml").write_text("[profiles.lab]\nstrict_mod = true\n")
    host = await hosts({"gateway": {"enabled": False}})
    runtime = await attach(host.config)
    try:
        view = runtime.view()
        assert view.profile.name == "local"
        assert "unknown key profiles.lab.strict_mod" in view.state_notice
        with pytest.raises(ProfileRefused, match=r"cannot switch profiles: .*strict_mod"):
            await runtime.switch_profile("lab")
    finally:
        await runtime.close()


def state_of(runtime: SocketRuntime, name: str) -> ServiceState | None:
    service = runtime.view().snapshot.supervisor.get(name)
    return service.state if service is not None else None


def kept_drafts(config: Config, profile: str) -> list[str]:
    """The texts of the drafts the state file keeps for ``profile``."""
    document = json.loads(state_path(config.state_dir).read_text())
    kept = document["profile_states"].get(profile, {})
    return [draft["text"] for draft in kept.get("offline_drafts", [])]


async def test_a_message_in_flight_at_a_switch_stays_with_the_profile_it_was_typed_in(
    hosts: StartHost,
) -> None:
    """The switch cuts the send's stream and waits for it to keep its message, before the
    next profile's drafts are taken up: it must not become a draft of that profile (and
    be resent to its gateway), nor be lost."""
    hung = sim_command("gateway", "--port", "0", "--grpc-port", "0", "--hang-after", "0.5")
    host = await hosts({"gateway": {"command": hung, "health_interval": 0.5}})
    runtime = await attach(host.config)
    feed = runtime.subscribe_logs(backlog=True)
    try:
        async with asyncio.timeout(60):
            async for batch in feed:
                if any("simulated hang" in line.message for line in batch):
                    break
        sending = asyncio.create_task(runtime.send(SESSION, "typed for the lab"))
        assert await eventually(lambda: runtime.view().chat.active != () or sending.done())
        await runtime.switch_profile("local")
        await sending
        assert runtime.view().profile.name == "local"
        assert runtime.view().chat.drafts == ()
        assert await eventually(lambda: kept_drafts(host.config, "lab") == ["typed for the lab"])
        assert kept_drafts(host.config, "local") == []
    finally:
        feed.close()
        await runtime.close()


async def test_a_send_during_a_switch_is_refused_and_its_text_given_back(
    hosts: StartHost,
) -> None:
    """A stop that takes its time keeps the switch under way: a message sent meanwhile is
    refused (the composer gets it back) instead of going to the profile being left."""
    slow = {"command": child("hang", "--ignore-term"), "stop_timeout": 10.0}
    host = await hosts({"gateway": {"enabled": False}, "slow": slow})
    runtime = await attach(host.config)
    try:
        assert await eventually(lambda: state_of(runtime, "slow") is ServiceState.RUNNING)
        switching = asyncio.create_task(runtime.switch_profile("local"))
        assert await eventually(lambda: state_of(runtime, "slow") is ServiceState.STOPPING)
        assert not switching.done()
        with pytest.raises(MessageNotSent, match="the profile is being switched"):
            await runtime.send(SESSION, "sent mid-switch")
        await switching
        assert runtime.view().chat.drafts == ()
    finally:
        await runtime.close()
