"""What lasts: drafts and the place on show survive a restart of the runtime and of its host."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from palyra_tui.client.errors import ClientError
from palyra_tui.client.identity import ClientIdentity
from palyra_tui.config import Config
from palyra_tui.host.client import HostClient
from palyra_tui.host.protocol import ClientInfo
from palyra_tui.host.remote import SocketRuntime
from palyra_tui.models.handoff import HandoffScope
from palyra_tui.state.handoff import NOT_HEALTHY
from palyra_tui.state.kept import AdoptSecrets
from palyra_tui.state.local_runtime import LocalRuntime
from palyra_tui.state.persisted import LegacySecrets, Place, Preferences, RolloutFlags, Section
from palyra_tui.state.runtime_api import (
    MessageNotSent,
    PreferencesChanged,
    RolloutChanged,
    StateNotice,
)
from palyra_tui.state.settings import PreferencesUpdate, RolloutUpdate
from palyra_tui.state.snapshot import AppSnapshot
from palyra_tui.state.state_file import state_path
from palyra_tui.supervisor import Supervisor
from tests.conftest import eventually, make_config, pids_alive
from tests.integration.cli_support import StartHost, start_hosts

NO_GATEWAY = {"gateway": {"enabled": False}}
SESSION = "01JQ7P4NQ2T7K5XG0C9M3E8AAA"


def kept_texts(config: Config) -> list[str]:
    """The draft texts the state file holds now ([] while it is absent or being replaced)."""
    try:
        document = json.loads(state_path(config.state_dir).read_text())
    except (OSError, ValueError):
        return []
    drafts = document["profile_states"]["local"]["offline_drafts"]
    return [draft["text"] for draft in drafts]


# In process ----------------------------------------------------------------------------

Build = Callable[..., Awaitable[LocalRuntime]]


@pytest.fixture
async def runtimes(tmp_path: Path) -> AsyncIterator[Build]:
    """``runtimes(**kwargs)`` builds a LocalRuntime over a fresh supervisor of one state root;
    the previous one is closed first, as a restart would."""
    config = make_config(tmp_path, {})
    running: list[tuple[LocalRuntime, Supervisor]] = []

    async def close_last() -> None:
        if running:
            runtime, supervisor = running.pop()
            await runtime.close()
            await supervisor.aclose(timeout=20)

    async def collect() -> AppSnapshot:
        return AppSnapshot()

    async def build(adopt_secrets: AdoptSecrets | None = None) -> LocalRuntime:
        await close_last()
        supervisor = Supervisor(config).open()
        identity = ClientIdentity(admin_token=supervisor.tokens.admin_token)
        runtime = LocalRuntime(
            supervisor,
            identity,
            config.runtime,
            interval=3600,
            collect=collect,
            adopt_secrets=adopt_secrets,
        )
        running.append((runtime, supervisor))
        return runtime

    yield build
    await close_last()


async def test_drafts_and_the_place_outlive_the_runtime(runtimes: Build) -> None:
    first = await runtimes()
    config = first.supervisor.config
    await first.open()
    await first.send(SESSION, "typed before the restart")
    await first.send(SESSION, "typed before the restart")
    await first.send("", "a second one")
    await first.remember_place(Place(Section.CHAT, SESSION))
    assert await eventually(lambda: len(kept_texts(config)) == 2), "written without a close"
    (draft, _) = first.view().chat.drafts
    second = await runtimes()
    await second.open()
    assert second.view().chat.drafts[0] == draft
    assert [d.text for d in second.view().chat.drafts] == [
        "typed before the restart",
        "a second one",
    ]
    assert second.view().place == Place(Section.CHAT, SESSION)
    await second.discard_draft(draft.draft_id)
    third = await runtimes()
    await third.open()
    assert [d.text for d in third.view().chat.drafts] == ["a second one"]


async def test_with_offline_drafts_off_a_failed_send_raises(
    runtimes: Build, tmp_path: Path
) -> None:
    path = state_path(tmp_path / "state" / "tui")
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_text(json.dumps({"schema_version": 2, "rollout": {"offline_drafts_enabled": False}}))
    runtime = await runtimes()
    await runtime.open()
    with pytest.raises(MessageNotSent, match="offline drafts are off: the gateway is not running"):
        await runtime.send(SESSION, "nowhere to go")
    assert runtime.view().chat.drafts == ()


async def test_a_corrupt_state_file_is_a_notice_not_a_crash(
    runtimes: Build, tmp_path: Path
) -> None:
    path = state_path(tmp_path / "state" / "tui")
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_text('{"offline_drafts": [{"text": 5}]')
    runtime = await runtimes()
    feed = runtime.subscribe()
    await runtime.open()
    notice = runtime.view().state_notice
    assert notice.startswith(f"The state file {path} cannot be read: it is not JSON")
    assert "moved to state.json.corrupt-" in notice
    feed.close()
    messages = [message async for message in feed]
    assert StateNotice(notice) in messages
    assert [p.name[:19] for p in path.parent.glob("state.json.*")] == ["state.json.corrupt-"]


async def test_legacy_tokens_go_to_the_secret_store_and_leave_the_file(
    runtimes: Build, tmp_path: Path
) -> None:
    path = state_path(tmp_path / "state" / "tui")
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_text(json.dumps({"admin_token": "plain-admin", "browser_token": "plain-browser"}))
    adopted: list[LegacySecrets] = []

    async def adopt(secrets: LegacySecrets) -> None:
        assert "plain-admin" in path.read_text(), "still in the file until the store has it"
        adopted.append(secrets)

    runtime = await runtimes(adopt_secrets=adopt)
    await runtime.open()
    assert adopted == [LegacySecrets("plain-admin", "plain-browser")]
    assert await eventually(lambda: "plain-admin" not in path.read_text())
    assert "plain-browser" not in path.read_text()


async def test_tokens_the_secret_store_refuses_stay_in_the_file(
    runtimes: Build, tmp_path: Path
) -> None:
    path = state_path(tmp_path / "state" / "tui")
    path.parent.mkdir(parents=True, mode=0o700)
    original = json.dumps({"admin_token": "plain-admin"})
    path.write_text(original)

    async def refuse(_secrets: LegacySecrets) -> None:
        raise OSError("the keyring is locked (plain-admin)")

    runtime = await runtimes(adopt_secrets=refuse)
    await runtime.open()
    await runtime.send(SESSION, "kept in memory")
    await runtime.close()
    assert path.read_text() == original
    notice = runtime.view().state_notice
    assert "could not be moved into the secret store" in notice
    assert "plain-admin" not in notice and "[redacted]" in notice


# The runtime host ----------------------------------------------------------------------


@pytest.fixture
async def hosts(tmp_path: Path) -> AsyncIterator[StartHost]:
    async for start in start_hosts(tmp_path):
        yield start


async def attach(config: Config) -> SocketRuntime:
    client = HostClient.for_state_root(config.state_root, client=ClientInfo.current("test"))
    runtime = SocketRuntime(client)
    await runtime.open()
    return runtime


async def type_a_draft(config: Config, text: str) -> SocketRuntime:
    runtime = await attach(config)
    await runtime.send(SESSION, text)
    assert await eventually(lambda: [d.text for d in runtime.view().chat.drafts] == [text])
    return runtime


async def test_drafts_typed_before_a_host_restart_are_there_after_it(hosts: StartHost) -> None:
    host = await hosts(NO_GATEWAY)
    first = await type_a_draft(host.config, "typed before the restart")
    await first.remember_place(Place(Section.CHAT, SESSION))
    (draft,) = first.view().chat.drafts
    await first.shutdown()
    await first.close()
    assert await eventually(lambda: not pids_alive([host.pid]))
    again = await hosts(NO_GATEWAY)
    assert again.pid != host.pid
    second = await attach(again.config)
    try:
        assert second.view().chat.drafts == (draft,)
        assert second.view().place == Place(Section.CHAT, SESSION)
    finally:
        await second.close()


async def test_drafts_outlive_a_killed_host_once_written(hosts: StartHost) -> None:
    host = await hosts(NO_GATEWAY)
    first = await type_a_draft(host.config, "typed before the kill")
    assert await eventually(lambda: kept_texts(host.config) == ["typed before the kill"])
    os.kill(host.pid, signal.SIGKILL)
    assert await eventually(lambda: not pids_alive([host.pid]))
    await first.close()
    again = await hosts(NO_GATEWAY)
    second = await attach(again.config)
    try:
        assert [d.text for d in second.view().chat.drafts] == ["typed before the kill"]
    finally:
        await second.close()


async def test_with_offline_drafts_off_a_send_through_the_host_raises(
    hosts: StartHost, tmp_path: Path
) -> None:
    path = state_path(tmp_path / "state" / "tui")
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_text(json.dumps({"schema_version": 2, "rollout": {"offline_drafts_enabled": False}}))
    host = await hosts(NO_GATEWAY)
    runtime = await attach(host.config)
    try:
        with pytest.raises(MessageNotSent, match="offline drafts are off"):
            await runtime.send(SESSION, "nowhere to go")
        assert runtime.view().chat.drafts == ()
    finally:
        await runtime.close()


async def test_notifications_are_kept_read_or_not_across_a_restart(runtimes: Build) -> None:
    """A message kept as a draft is a notification; marking it read lasts too."""
    first = await runtimes()
    await first.open()
    await first.send(SESSION, "no gateway to take it")
    (note,) = first.view().notifications
    assert note.title == "Message kept as a draft" and not note.read
    assert "offline draft" in note.detail
    second = await runtimes()
    await second.open()
    assert second.view().notifications == (note,)
    await second.mark_read((note.notification_id,))
    assert second.view().notifications[0].read
    third = await runtimes()
    await third.open()
    assert third.view().notifications[0].read
    assert [d.text for d in third.view().chat.drafts] == ["no gateway to take it"]


# The operator's settings ---------------------------------------------------------------


async def test_preferences_and_rollout_flags_outlive_the_runtime(runtimes: Build) -> None:
    first = await runtimes()
    await first.open()
    feed = first.subscribe()
    await first.update_preferences(PreferencesUpdate(theme="nord"))
    await first.update_preferences(PreferencesUpdate(notifications=False))
    await first.update_rollout(RolloutUpdate(voice_capture_enabled=True, release_channel=" "))
    feed.close()
    changes = [m async for m in feed if isinstance(m, PreferencesChanged | RolloutChanged)]
    assert changes[-1] == RolloutChanged(RolloutFlags(voice_capture_enabled=True))
    assert changes[-2] == PreferencesChanged(Preferences(notifications=False, theme="nord"))
    second = await runtimes()
    await second.open()
    assert second.view().preferences == Preferences(notifications=False, theme="nord")
    assert second.view().rollout == RolloutFlags(voice_capture_enabled=True)


async def test_offline_drafts_switched_off_at_run_time_make_a_failed_send_an_error(
    runtimes: Build,
) -> None:
    runtime = await runtimes()
    await runtime.open()
    await runtime.update_rollout(RolloutUpdate(offline_drafts_enabled=False))
    with pytest.raises(MessageNotSent, match="offline drafts are off"):
        await runtime.send(SESSION, "nowhere to go")
    assert runtime.view().chat.drafts == ()


async def test_rollout_set_reaches_an_attached_ui_and_the_next_host(hosts: StartHost) -> None:
    host = await hosts(NO_GATEWAY)
    ui = await attach(host.config)
    try:
        await ui.update_preferences(PreferencesUpdate(theme="dracula"))
        ran = await host.cli(
            "rollout", "set", "desktop_notifications_enabled=off", "tts_playback_enabled=ON"
        )
        assert ran.code == 0, ran.err
        assert "desktop_notifications_enabled    false\n" in ran.out
        assert await eventually(lambda: not ui.view().rollout.desktop_notifications_enabled)
        assert ui.view().rollout.tts_playback_enabled

        path = state_path(host.config.state_dir)
        assert await eventually(lambda: b'"tts_playback_enabled": true' in path.read_bytes())
        before = path.read_bytes()
        for bad, said in (
            (("voice=on",), "'voice' is not a rollout flag"),
            (("tts_playback_enabled=maybe",), "takes true, false, on or off"),
        ):
            refused = await host.cli("rollout", "set", "offline_drafts_enabled=off", *bad)
            assert refused.code == 2 and said in refused.err and refused.out == ""
        listed = await host.cli("rollout", "--json")
        assert listed.code == 0, listed.err
        assert listed.json()["offline_drafts_enabled"] is True
        assert listed.json()["release_channel"] == "preview"
        assert path.read_bytes() == before
        await ui.shutdown()
    finally:
        await ui.close()
    assert await eventually(lambda: not pids_alive([host.pid]))
    again = await hosts(NO_GATEWAY)
    second = await attach(again.config)
    try:
        assert second.view().preferences.theme == "dracula"
        assert not second.view().rollout.desktop_notifications_enabled
    finally:
        await second.close()


async def test_a_refused_dashboard_handoff_is_an_onboarding_failure(runtimes: Build) -> None:
    runtime = await runtimes()
    await runtime.open()
    for _ in range(2):
        with pytest.raises(ClientError, match=NOT_HEALTHY):
            await runtime.dashboard_handoff(HandoffScope.overview())
    onboarding = runtime.kept.profile().onboarding
    assert onboarding.last_failure is not None
    assert onboarding.last_failure.step == "dashboard_handoff"
    assert onboarding.last_failure.message == NOT_HEALTHY
    assert onboarding.failure_step_counts == (("dashboard_handoff", 2),)
    assert onboarding.dashboard_handoff_at is None
    path = state_path(runtime.supervisor.config.state_dir)
    assert await eventually(lambda: path.exists() and '"dashboard_handoff": 2' in path.read_text())
