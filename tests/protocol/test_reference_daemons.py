"""The reference daemons as processes: flags, env, logs, signals, faults, raw contract."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from palyra_tui.client.errors import GatewayUnavailable
from palyra_tui.client.grpc._generated.palyra.v1 import browser_pb2 as browser
from palyra_tui.client.grpc._generated.palyra.v1 import common_pb2 as common
from palyra_tui.client.grpc._generated.palyra.v1 import gateway_pb2 as gateway_pb
from palyra_tui.client.http import GatewayHttp
from palyra_tui.config import Config
from palyra_tui.models import HealthState, ServiceState
from palyra_tui.models.ids import new_ulid
from palyra_tui.supervisor import Supervisor
from tests.conftest import eventually, next_state
from tests.protocol.conftest import TOKEN, Launch, identity

METADATA = (
    ("authorization", f"Bearer {TOKEN}"),
    ("x-palyra-principal", "admin:local"),
    ("x-palyra-device-id", new_ulid()),
)


def test_logs_are_palyrad_json_lines_and_sigint_is_graceful(sim: Launch) -> None:
    gateway = sim()
    first = gateway.lines[0]
    assert set(first) == {"timestamp", "level", "fields", "target"}
    assert first["level"] == "INFO" and str(first["timestamp"]).endswith("Z")
    assert gateway.messages()[:3] == [
        "gateway startup",
        "daemon listening",
        "gateway gRPC listening",
    ]
    assert gateway.stop(signal.SIGINT) == 0
    assert "gateway stopped" in gateway.messages()


def test_sigterm_is_not_handled(sim: Launch) -> None:
    gateway = sim()
    assert gateway.stop(signal.SIGTERM) == -signal.SIGTERM


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PALYRA_ADMIN_TOKEN": ""}, "admin auth is enabled but no admin token is configured"),
        ({"PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED": "1"}, "must be 'true' or 'false'"),
    ],
)
def test_startup_errors_are_error_lines_with_exit_code_1(env: dict[str, str], message: str) -> None:
    environ = {
        **os.environ,
        "PALYRA_ADMIN_TOKEN": TOKEN,
        "PALYRA_ADMIN_BOUND_PRINCIPAL": "admin:local",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-m", "palyra_tui", "sim", "gateway", "--port", "0", "--grpc-port", "0"],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ") and message in result.stderr


def test_crash_fault_switch(sim: Launch) -> None:
    gateway = sim("--crash-after", "0.3")
    assert gateway.process.wait(10) == 70


async def test_health_fault_switch(sim: Launch) -> None:
    gateway = sim("--health-fail")
    http = GatewayHttp(gateway.http_url, identity())
    try:
        with pytest.raises(GatewayUnavailable):
            await http.healthz()
    finally:
        await http.close()


async def test_log_flood_fault_switch(sim: Launch) -> None:
    gateway = sim("--log-flood", "2000")

    def floods() -> int:
        return sum(1 for message in gateway.messages() if message == "flood line")

    assert await eventually(lambda: floods() >= 1000), f"only {floods()} flood lines"


async def test_raw_contract_metadata_and_version(sim: Launch) -> None:
    gateway = sim()
    async with grpc.aio.insecure_channel(gateway.grpc_addr) as channel:
        list_sessions = channel.unary_unary(
            "/palyra.gateway.v1.GatewayService/ListSessions",
            request_serializer=gateway_pb.ListSessionsRequest.SerializeToString,
            response_deserializer=gateway_pb.ListSessionsResponse.FromString,
        )
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await list_sessions(gateway_pb.ListSessionsRequest(v=1))
        assert missing.value.code() is grpc.StatusCode.PERMISSION_DENIED
        assert "authorization header is missing" in (missing.value.details() or "")
        bad_device = (*METADATA[:2], ("x-palyra-device-id", "not-a-ulid"))
        with pytest.raises(grpc.aio.AioRpcError) as device:
            await list_sessions(gateway_pb.ListSessionsRequest(v=1), metadata=bad_device)
        assert "canonical ULID" in (device.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as version:
            await list_sessions(gateway_pb.ListSessionsRequest(v=2), metadata=METADATA)
        assert version.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert version.value.details() == "unsupported protocol major version"


async def _run_stream_until_approval(
    channel: grpc.aio.Channel,
) -> tuple[grpc.aio.StreamStreamCall[Any, common.RunStreamEvent], str, str]:
    call = channel.stream_stream(
        "/palyra.gateway.v1.GatewayService/RunStream",
        request_serializer=common.RunStreamRequest.SerializeToString,
        response_deserializer=common.RunStreamEvent.FromString,
    )(metadata=METADATA)
    session_id, run_id = new_ulid(), new_ulid()
    await call.write(
        common.RunStreamRequest(
            v=1,
            session_id=common.CanonicalId(ulid=session_id),
            run_id=common.CanonicalId(ulid=run_id),
            input=common.MessageEnvelope(v=1, content=common.MessageContent(text="run ls")),
        )
    )
    while True:
        event = await call.read()
        assert isinstance(event, common.RunStreamEvent)
        if event.WhichOneof("body") == "tool_approval_request":
            return call, session_id, run_id


async def _rest(call: grpc.aio.StreamStreamCall[Any, common.RunStreamEvent]) -> list[Any]:
    bodies = []
    while (event := await call.read()) is not grpc.aio.EOF:
        assert isinstance(event, common.RunStreamEvent)
        bodies.append(event)
    return bodies


async def test_half_close_before_an_answer_denies_with_error(sim: Launch) -> None:
    gateway = sim()
    async with grpc.aio.insecure_channel(gateway.grpc_addr) as channel:
        call, _, _ = await _run_stream_until_approval(channel)
        await call.done_writing()
        bodies = await _rest(call)
        response = next(e for e in bodies if e.WhichOneof("body") == "tool_approval_response")
        assert not response.tool_approval_response.approved
        assert "no interactive approval channel" in response.tool_approval_response.reason
        assert bodies[-1].status.kind == common.StreamStatus.STATUS_KIND_DONE


async def test_input_while_an_approval_waits_denies_it_as_an_error(sim: Launch) -> None:
    # palyrad turns an answer it cannot take into a denial with
    # "approval_response_error: …" and carries on; the stream does not fail.
    gateway = sim()
    async with grpc.aio.insecure_channel(gateway.grpc_addr) as channel:
        call, session_id, run_id = await _run_stream_until_approval(channel)
        await call.write(
            common.RunStreamRequest(
                v=1,
                session_id=common.CanonicalId(ulid=session_id),
                run_id=common.CanonicalId(ulid=run_id),
                input=common.MessageEnvelope(content=common.MessageContent(text="again")),
            )
        )
        await call.done_writing()
        bodies = await _rest(call)
        response = next(e for e in bodies if e.WhichOneof("body") == "tool_approval_response")
        assert not response.tool_approval_response.approved
        assert response.tool_approval_response.reason == (
            "approval_response_error: "
            "received prompt payload while waiting for tool approval response"
        )
        assert bodies[-1].status.kind == common.StreamStatus.STATUS_KIND_DONE
        assert await call.code() is grpc.StatusCode.OK


@pytest.mark.parametrize(
    ("proposal_id", "problem"),
    [
        ("call_1", "tool_approval_response.proposal_id must be a canonical ULID"),
        (
            "01ARZ3NDEKTSV4RRFFQ69G5FAV",
            "tool approval response proposal_id does not match pending tool proposal",
        ),
    ],
)
async def test_an_answer_for_another_proposal_is_refused(
    sim: Launch, proposal_id: str, problem: str
) -> None:
    gateway = sim()
    async with grpc.aio.insecure_channel(gateway.grpc_addr) as channel:
        call, session_id, run_id = await _run_stream_until_approval(channel)
        await call.write(
            common.RunStreamRequest(
                v=1,
                session_id=common.CanonicalId(ulid=session_id),
                run_id=common.CanonicalId(ulid=run_id),
                tool_approval_response=common.ToolApprovalResponse(
                    proposal_id=common.CanonicalId(ulid=proposal_id), approved=True
                ),
            )
        )
        await call.done_writing()
        bodies = await _rest(call)
        response = next(e for e in bodies if e.WhichOneof("body") == "tool_approval_response")
        assert not response.tool_approval_response.approved
        assert response.tool_approval_response.reason == f"approval_response_error: {problem}"


async def test_browserd_health(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "palyra_tui", "sim", "browserd", "--port", "0", "--grpc-port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PALYRA_BROWSERD_AUTH_TOKEN": "browser-token-123"},
    )
    try:
        assert process.stdout is not None
        fields: dict[str, str] = {}
        while "grpc_listen_addr" not in fields:
            fields.update(json.loads(process.stdout.readline())["fields"])
        http = GatewayHttp(f"http://{fields['listen_addr']}", identity())
        health = await http.healthz()
        await http.close()
        assert health.service == "palyra-tui-sim-browserd"
        async with grpc.aio.insecure_channel(fields["grpc_listen_addr"]) as channel:
            health_rpc = channel.unary_unary(
                "/palyra.browser.v1.BrowserService/Health",
                request_serializer=browser.BrowserHealthRequest.SerializeToString,
                response_deserializer=browser.BrowserHealthResponse.FromString,
            )
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await health_rpc(browser.BrowserHealthRequest(v=1))
            assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
            ok = await health_rpc(
                browser.BrowserHealthRequest(v=1),
                metadata=(("authorization", "Bearer browser-token-123"),),
            )
            assert ok.status == "ok"
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.parametrize(
    ("args", "env", "engine", "chromium"),
    [
        ((), {}, "chromium", None),
        (
            ("--engine-mode", "chromium"),
            {"PALYRA_BROWSERD_ENGINE_MODE": " SIMULATED "},
            "simulated",
            None,
        ),
        (
            ("--engine-mode", "simulated"),
            {"PALYRA_BROWSERD_ENGINE_MODE": "firefox"},
            "simulated",
            None,
        ),
        ((), {"PALYRA_BROWSERD_CHROMIUM_PATH": "/env/chrome"}, "chromium", "/env/chrome"),
        (
            ("--chromium-path", "/flag/chrome"),
            {"PALYRA_BROWSERD_CHROMIUM_PATH": "/env/chrome"},
            "chromium",
            "/flag/chrome",
        ),
    ],
)
def test_browserd_takes_its_engine_settings_as_palyra_browserd_does(
    args: tuple[str, ...], env: dict[str, str], engine: str, chromium: str | None
) -> None:
    """The environment's engine mode wins over the flag when it names one; the flag's
    Chromium path wins over the environment's.  The startup line says what was taken."""
    environ = {
        key: value for key, value in os.environ.items() if not key.startswith("PALYRA_BROWSERD_")
    }
    command = [sys.executable, "-m", "palyra_tui", "sim", "browserd", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--grpc-port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
        env={**environ, **env},
    )
    try:
        assert process.stdout is not None
        startup = json.loads(process.stdout.readline())["fields"]
        assert startup["message"] == "browser service startup"
        assert startup["engine_mode"] == engine
        assert startup.get("chromium_path") == chromium
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def test_browserd_refuses_an_unknown_engine_mode_flag() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "palyra_tui", "sim", "browserd", "--engine-mode", "firefox"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "invalid choice: 'firefox'" in result.stderr


def test_node_run_without_pairing_fails_as_palyra_does(tmp_path: Path) -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "palyra_tui", "sim", "node", "run", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "PALYRA_STATE_ROOT": str(tmp_path)},
        timeout=60,
    )
    assert ran.returncode == 2 and ran.stdout == ""
    assert ran.stderr.startswith("error[validation_error] trace_id=")
    assert ran.stderr.rstrip().endswith(
        "node pairing bootstrap requires --method when local pairing material is absent"
    )


async def test_supervisor_runs_the_reference_gateway_on_port_zero(
    config_factory: Callable[..., Config], open_supervisor: Callable[..., Supervisor]
) -> None:
    command = [
        sys.executable,
        "-m",
        "palyra_tui",
        "sim",
        "gateway",
        "--port",
        "0",
        "--grpc-port",
        "0",
    ]
    config = config_factory(
        {"gateway": {"command": command, "health_interval": 0.1}},
        runtime={"admin_port": 0, "grpc_port": 0},
    )
    supervisor = open_supervisor(config, tick_interval=0.05)
    events = supervisor.subscribe_events()
    await supervisor.start("gateway")
    await next_state(events, "gateway", ServiceState.STARTING)
    assert await eventually(
        lambda: supervisor.snapshot().get("gateway").health.state is HealthState.HEALTHY  # type: ignore[union-attr]
    )
    snapshot = supervisor.snapshot().get("gateway")
    assert snapshot is not None
    endpoints = dict(snapshot.endpoints)
    assert endpoints["listen_addr"].startswith("127.0.0.1:")
    assert endpoints["grpc_listen_addr"].startswith("127.0.0.1:")
    assert snapshot.health.version == "0.1.0-sim"
    await supervisor.stop("gateway")
    stopped = supervisor.snapshot().get("gateway")
    assert stopped is not None and stopped.last_exit is not None
    assert stopped.last_exit.code == 0, "SIGINT is the gateway's clean shutdown"
    notes = [line.text for line in supervisor.tail("gateway", 20)]
    assert not any("did not stop within" in note for note in notes)
