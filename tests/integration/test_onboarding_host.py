"""Onboarding through a real runtime host over the reference daemons."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import tomli_w

from palyra_tui.cli.demo import demo_document, sim_command
from palyra_tui.config import Config, load_config
from palyra_tui.host.client import HostClient
from palyra_tui.host.launcher import ensure_host, host_log, stop_host
from palyra_tui.host.protocol import ClientInfo
from palyra_tui.host.remote import SocketRuntime
from palyra_tui.state.onboarding import OnboardingAction, OnboardingStatus, StepKey, StepStatus
from palyra_tui.state.runtime_api import OnboardingRefused
from tests.conftest import child, eventually, pids_alive
from tests.fake_openai import GOOD_KEY, fake_openai

WRONG_KEY = "sk-test-refused-9876543210fedcba"

StartHost = Callable[..., Awaitable[Config]]


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[StartHost]:
    """``await host(gateway_env={...}, document=...)`` starts a detached host over the
    reference gateway (browserd and the node host off); every host is stopped after."""
    started: list[tuple[Config, int]] = []

    async def start(
        gateway_env: dict[str, str] | None = None, document: dict[str, object] | None = None
    ) -> Config:
        if document is None:
            document = demo_document(tmp_path / "state")
            services = document["services"]
            assert isinstance(services, dict)
            services["gateway"]["env"] = gateway_env or {}
            services["browserd"] = {"command": sim_command("browserd"), "enabled": False}
            services["node_host"] = {"enabled": False}
        path = tmp_path / "tui.toml"
        path.write_text(tomli_w.dumps(document))
        config = load_config(path)
        info = await ensure_host(config, path)
        started.append((config, info.host_pid))
        return config

    yield start
    for config, pid in started:
        try:
            await stop_host(config, 60)
        finally:
            if pids_alive([pid]):
                os.kill(pid, signal.SIGKILL)


async def attach(config: Config) -> SocketRuntime:
    client = HostClient.for_state_root(config.state_root, client=ClientInfo.current("test"))
    runtime = SocketRuntime(client)
    await runtime.open()
    return runtime


def status(runtime: SocketRuntime) -> OnboardingStatus:
    onboarding = runtime.view().onboarding
    assert onboarding is not None
    return onboarding


def checked(runtime: SocketRuntime) -> bool:
    onboarding = runtime.view().onboarding
    return onboarding is not None and onboarding.preflight is not None


def complete(runtime: SocketRuntime, key: StepKey) -> bool:
    onboarding = runtime.view().onboarding
    return onboarding is not None and onboarding.step(key).status is StepStatus.COMPLETE


async def test_an_openai_key_reaches_the_gateway_once_and_is_kept_nowhere(
    host: StartHost,
) -> None:
    async with fake_openai() as openai:
        config = await host({"PALYRA_MODEL_PROVIDER_OPENAI_BASE_URL": openai.base_url})
        runtime = await attach(config)
        try:
            assert await eventually(lambda: complete(runtime, StepKey.OPERATOR_AUTH), 60)
            assert status(runtime).step(StepKey.OPENAI).status is not StepStatus.COMPLETE
            with pytest.raises(OnboardingRefused) as refused:
                await runtime.connect_openai(WRONG_KEY)
            sentence = str(refused.value)
            assert "OpenAI credential is invalid" in sentence and WRONG_KEY not in sentence
            assert sentence.count(".") == 1 and sentence.endswith(".")
            assert await eventually(lambda: status(runtime).recovery is not None)
            failed = status(runtime).recovery
            assert failed is not None and failed.step is StepKey.OPENAI
            assert failed.message == sentence
            connected = await runtime.connect_openai(GOOD_KEY)
            assert openai.keys_seen == [WRONG_KEY, GOOD_KEY]
            assert connected.step(StepKey.OPENAI).status is StepStatus.COMPLETE
            assert connected.openai_profile_id.startswith("openai-")
            assert connected.recovery is None
            kinds = [event.kind for event in connected.recent_events]
            assert kinds[-2:] == ["failure", "openai_connected"]
            lines = await runtime.tail("gateway", 10_000)
            assert lines and not any(
                key in line.message or key in str(line.fields)
                for line in lines
                for key in (GOOD_KEY, WRONG_KEY)
            )
        finally:
            await runtime.close()
        await stop_host(config, 60)
    leaks = [
        str(path)
        for path in config.state_root.rglob("*")
        if path.is_file()
        and any(key.encode() in path.read_bytes() for key in (GOOD_KEY, WRONG_KEY))
    ]
    assert leaks == []
    assert host_log(config).is_file()
    state = (config.state_dir / "state.json").read_text()
    assert connected.openai_profile_id in state


async def test_onboarding_progress_survives_a_new_host(host: StartHost) -> None:
    config = await host()
    runtime = await attach(config)
    try:
        assert await eventually(lambda: runtime.view().onboarding is not None)
        assert status(runtime).current is StepKey.WELCOME
        await runtime.onboarding_step(OnboardingAction.ACKNOWLEDGE_WELCOME)
        with pytest.raises(OnboardingRefused, match="must stay within"):
            await runtime.confirm_state_root("/tmp")
        chosen = await runtime.confirm_state_root("")
        assert chosen.step(StepKey.STATE_ROOT).status is StepStatus.COMPLETE
        await runtime.onboarding_step(OnboardingAction.SKIP_DISCORD)
        before = status(runtime)
        assert await eventually(lambda: checked(runtime), 60)
        assert status(runtime).step(StepKey.ENVIRONMENT).status is StepStatus.COMPLETE
    finally:
        await runtime.close()
    await stop_host(config, 60)
    again = await host()
    assert again.state_root == config.state_root
    runtime = await attach(again)
    try:
        assert await eventually(lambda: runtime.view().onboarding is not None)
        after = status(runtime)
        assert after.flow_id == before.flow_id
        for key in (StepKey.WELCOME, StepKey.STATE_ROOT, StepKey.DISCORD):
            assert after.step(key).status is StepStatus.COMPLETE, key
        kinds = [event.kind for event in after.recent_events]
        assert kinds[:4] == [
            "welcome_acknowledged",
            "failure",
            "state_root_selected",
            "discord_skipped",
        ]
        assert after.failure_step_counts == (("state_root", 1),)
        assert await eventually(lambda: complete(runtime, StepKey.GATEWAY_INIT), 60)
    finally:
        await runtime.close()


async def test_a_newcomer_without_palyra_is_told_what_is_missing(
    host: StartHost, tmp_path: Path
) -> None:
    document: dict[str, object] = {
        "state_root": str(tmp_path / "newcomer"),
        "runtime": {"admin_port": 0, "grpc_port": 0, "quic_port": 0, "browserd_port": 0},
        "services": {"browserd": {"enabled": False}, "node_host": {"enabled": False}},
    }
    config = await host(document=document)
    runtime = await attach(config)
    try:
        assert await eventually(lambda: checked(runtime), 60)
        newcomer = status(runtime)
        assert newcomer.step(StepKey.ENVIRONMENT).status is StepStatus.BLOCKED
        assert "Gateway binary" in newcomer.step(StepKey.ENVIRONMENT).detail
        gateway = newcomer.step(StepKey.GATEWAY_INIT).detail
        assert "palyrad" in gateway and "palyra-tui demo" in gateway
        assert newcomer.recovery is not None and newcomer.recovery.step is StepKey.ENVIRONMENT
        assert any("palyra-tui demo" in a for a in newcomer.recovery.suggested_actions)
    finally:
        await runtime.close()


async def test_gateway_init_starts_the_runtime_and_says_why_the_gateway_does_not_run(
    host: StartHost, tmp_path: Path
) -> None:
    document = demo_document(tmp_path / "state")
    services = document["services"]
    assert isinstance(services, dict)
    services["gateway"] = {"command": child("exit", "3"), "restart": "never"}
    services["browserd"] = {"enabled": False}
    services["node_host"] = {"enabled": False}
    config = await host(document=document)
    runtime = await attach(config)
    try:
        assert await eventually(lambda: "does not run" in gateway_detail(runtime), 60)
        await runtime.stop("gateway")
        before = len(status(runtime).recent_events)
        started = await runtime.onboarding_step(OnboardingAction.START_GATEWAY)
        assert started.recent_events[before:][0].kind == "runtime_start_requested"
        assert await eventually(lambda: "exited with code 3" in gateway_detail(runtime), 60)
        assert status(runtime).step(StepKey.GATEWAY_INIT).status is not StepStatus.COMPLETE
    finally:
        await runtime.close()


def gateway_detail(runtime: SocketRuntime) -> str:
    onboarding = runtime.view().onboarding
    return onboarding.step(StepKey.GATEWAY_INIT).detail if onboarding is not None else ""


async def test_operator_auth_says_when_the_gateway_refuses_the_stored_token(
    host: StartHost,
) -> None:
    config = await host({"PALYRA_ADMIN_TOKEN": "another-installation-token-0123456789"})
    runtime = await attach(config)
    try:
        assert await eventually(lambda: complete(runtime, StepKey.GATEWAY_INIT), 60)
        assert await eventually(lambda: "login failed" in auth_detail(runtime), 60)
        step = status(runtime).step(StepKey.OPERATOR_AUTH)
        assert step.status is not StepStatus.COMPLETE
        assert "admin token rejected" in step.detail
        with pytest.raises(OnboardingRefused):
            await runtime.connect_openai(GOOD_KEY)
    finally:
        await runtime.close()


def auth_detail(runtime: SocketRuntime) -> str:
    onboarding = runtime.view().onboarding
    return onboarding.step(StepKey.OPERATOR_AUTH).detail if onboarding is not None else ""
