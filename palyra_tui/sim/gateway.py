"""``palyra-tui sim gateway``: the reference gateway process.

Flags and environment as palyrad's: ``--bind``, ``--port``, ``--grpc-bind``,
``--grpc-port``; ``PALYRA_ADMIN_TOKEN``,
``PALYRA_ADMIN_REQUIRE_AUTH``, ``PALYRA_ADMIN_BOUND_PRINCIPAL``,
``PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED``, ``PALYRA_MODEL_PROVIDER_OPENAI_BASE_URL``
(where OpenAI API keys are checked), ``PALYRA_DAEMON_*`` and
``PALYRA_GATEWAY_GRPC_*`` (flags win over environment).  Port 0 binds a free
port and the bound addresses appear in the ``daemon listening``,
``gateway gRPC listening`` and ``node RPC listener initialized`` log lines (the
node RPC port is the gRPC port + 1, or a free one when that is 0).  The node RPC
requires a client certificate unless ``PALYRA_ALLOW_INSECURE_NODE_RPC_WITHOUT_MTLS``
is ``true``.  SIGINT shuts down gracefully; SIGTERM is
left to its default, so it ends the process at once, as with palyrad.

Test-only fault switches (flag or ``PALYRA_SIM_*`` environment):
``--crash-after S``, ``--health-delay-ms N``, ``--health-fail``,
``--log-flood N`` (lines per second), ``--hang-after S``,
``--approval-timeout-ms N``, ``--token-delay-ms N``, ``--no-tool-followup`` (the
model does not answer after a tool result, so the run's turn ends there).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import grpc

from palyra_tui.sim.console import ConsoleApi, HealthFaults
from palyra_tui.sim.grpc_service import SERVICE_NAME, VERSION, GatewayServices
from palyra_tui.sim.logs import JsonLog, fatal
from palyra_tui.sim.node_rpc import NodeRpc
from palyra_tui.sim.store import Settings, Store

TARGET = "palyra_tui::sim::gateway"


def parser() -> argparse.ArgumentParser:
    """The gateway's flags."""
    parse = argparse.ArgumentParser(
        prog="palyra-tui sim gateway",
        description="Reference gateway with palyrad's contract (not Palyra).",
    )
    parse.add_argument("--bind")
    parse.add_argument("--port", type=int)
    parse.add_argument("--grpc-bind")
    parse.add_argument("--grpc-port", type=int)
    parse.add_argument("--crash-after", type=float)
    parse.add_argument("--health-delay-ms", type=int)
    parse.add_argument("--health-fail", action="store_true", default=None)
    parse.add_argument("--log-flood", type=int)
    parse.add_argument("--hang-after", type=float)
    parse.add_argument("--approval-timeout-ms", type=int)
    parse.add_argument("--token-delay-ms", type=int)
    parse.add_argument("--no-tool-followup", action="store_true", default=None)
    return parse


def main(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    """Run the gateway until SIGINT; returns the exit code."""
    env = os.environ if environ is None else environ
    args = parser().parse_args(argv)
    try:
        options = _Options.read(args, env)
    except ValueError as error:
        return fatal(str(error))
    try:
        return asyncio.run(_serve(options))
    except _Startup as error:
        return fatal(str(error))
    except KeyboardInterrupt:
        return 0


class _Startup(Exception):
    """A startup failure, printed as ``Error: …``."""


class _Options:
    def __init__(self) -> None:
        self.bind = "127.0.0.1"
        self.port = 7142
        self.grpc_bind = "127.0.0.1"
        self.grpc_port = 7443
        self.settings = Settings(admin_token="")
        self.faults = HealthFaults()
        self.crash_after: float | None = None
        self.log_flood = 0
        self.hang_after: float | None = None
        self.node_mtls_required = True
        self.state_root: Path | None = None

    @classmethod
    def read(cls, args: argparse.Namespace, env: Mapping[str, str]) -> _Options:
        options = cls()
        options.bind = args.bind or env.get("PALYRA_DAEMON_BIND_ADDR") or options.bind
        options.port = _port(args.port, env.get("PALYRA_DAEMON_PORT"), options.port)
        options.grpc_bind = (
            args.grpc_bind or env.get("PALYRA_GATEWAY_GRPC_BIND_ADDR") or options.grpc_bind
        )
        options.grpc_port = _port(
            args.grpc_port, env.get("PALYRA_GATEWAY_GRPC_PORT"), options.grpc_port
        )
        root = env.get("PALYRA_STATE_ROOT", "").strip()
        options.state_root = Path(root) if root else None
        options.node_mtls_required = not _bool(
            env, "PALYRA_ALLOW_INSECURE_NODE_RPC_WITHOUT_MTLS", False
        )
        settings = options.settings
        settings.admin_token = env.get("PALYRA_ADMIN_TOKEN", "").strip()
        settings.require_auth = _bool(env, "PALYRA_ADMIN_REQUIRE_AUTH", True)
        settings.bound_principal = env.get("PALYRA_ADMIN_BOUND_PRINCIPAL", "").strip()
        settings.openai_base_url = env.get("PALYRA_MODEL_PROVIDER_OPENAI_BASE_URL", "").strip()
        settings.runloop_enabled = _bool(env, "PALYRA_ORCHESTRATOR_RUNLOOP_V1_ENABLED", False)
        settings.approval_timeout_s = (
            _number(args.approval_timeout_ms, env, "PALYRA_SIM_APPROVAL_TIMEOUT_MS", 60_000) / 1000
        )
        settings.token_delay_s = (
            _number(args.token_delay_ms, env, "PALYRA_SIM_TOKEN_DELAY_MS", 0) / 1000
        )
        settings.tool_followup = not (
            bool(args.no_tool_followup) or _bool(env, "PALYRA_SIM_NO_TOOL_FOLLOWUP", False)
        )
        if settings.require_auth and not settings.admin_token:
            raise ValueError(
                "admin auth is enabled but no admin token is configured; "
                "set PALYRA_ADMIN_TOKEN or admin.auth_token in config"
            )
        options.faults.delay_s = (
            _number(args.health_delay_ms, env, "PALYRA_SIM_HEALTH_DELAY_MS", 0) / 1000
        )
        options.faults.fail = bool(args.health_fail) or _bool(env, "PALYRA_SIM_HEALTH_FAIL", False)
        crash = (
            args.crash_after if args.crash_after is not None else env.get("PALYRA_SIM_CRASH_AFTER")
        )
        options.crash_after = float(crash) if crash not in (None, "") else None
        options.log_flood = int(_number(args.log_flood, env, "PALYRA_SIM_LOG_FLOOD", 0))
        hang = args.hang_after if args.hang_after is not None else env.get("PALYRA_SIM_HANG_AFTER")
        options.hang_after = float(hang) if hang not in (None, "") else None
        return options


async def _serve(options: _Options) -> int:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    log = JsonLog(TARGET)
    store = Store(options.settings)
    services = GatewayServices(store, log)
    root = os.environ.get("PALYRA_STATE_ROOT", "")
    api = ConsoleApi(
        store, options.faults, Path(root) / "sim-gateway" / "devices.json" if root else None
    )
    http = api.server()
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers(services.handlers())
    try:
        grpc_port = server.add_insecure_port(f"{options.grpc_bind}:{options.grpc_port}")
    except RuntimeError as error:
        raise _Startup(
            f"failed to bind gRPC listener {options.grpc_bind}:{options.grpc_port}: {error}"
        ) from None
    try:
        host, port = await http.start(options.bind, options.port)
    except OSError as error:
        raise _Startup(
            f"failed to bind admin listener {options.bind}:{options.port}: {error.strerror}"
        ) from None
    store.settings.admin_port = port
    store.settings.grpc_port = grpc_port
    api.base_url = f"http://{host}:{port}"
    node_rpc = NodeRpc(api.pairing, log, mtls_required=options.node_mtls_required).server()
    node_port = options.grpc_port + 1 if options.grpc_port else 0
    try:
        node_host, node_port = await node_rpc.start(options.grpc_bind, node_port)
    except OSError as error:
        raise _Startup(
            f"failed to bind palyrad node RPC listener {options.grpc_bind}:{node_port}: "
            f"{error.strerror}"
        ) from None
    log.info(
        "gateway startup",
        service=SERVICE_NAME,
        version=VERSION,
        config_source="defaults+env",
        admin_bind_addr=options.bind,
        admin_port=options.port,
        grpc_port=options.grpc_port,
        model_provider_kind="deterministic",
        orchestrator_runloop_v1_enabled=store.settings.runloop_enabled,
        admin_auth_required=store.settings.require_auth,
        admin_token_configured=bool(store.settings.admin_token),
    )
    await server.start()
    log.info("daemon listening", listen_addr=f"{host}:{port}")
    log.info("gateway gRPC listening", grpc_listen_addr=f"{options.grpc_bind}:{grpc_port}")
    log.info(
        "node RPC listener initialized",
        node_rpc_listen_addr=f"{node_host}:{node_port}",
        node_rpc_mtls_required=options.node_mtls_required,
    )
    tasks = [asyncio.create_task(_faults(options, log))]
    await stop.wait()
    log.info("shutdown signal received; stopping listeners")
    for task in tasks:
        task.cancel()
    await http.close()
    await node_rpc.close()
    await server.stop(grace=1.0)
    log.info("gateway stopped")
    return 0


async def _faults(options: _Options, log: JsonLog) -> None:
    started = time.monotonic()
    interval = 1.0 / options.log_flood if options.log_flood else None
    sent = 0
    while True:
        elapsed = time.monotonic() - started
        if options.crash_after is not None and elapsed >= options.crash_after:
            log.emit("ERROR", "simulated crash (fault switch)")
            os._exit(70)
        if options.hang_after is not None and elapsed >= options.hang_after:
            log.emit("WARN", "simulated hang (fault switch)")
            time.sleep(10**9)
        if interval is not None:
            due = int(elapsed * options.log_flood)
            while sent < due:
                log.info("flood line", n=sent)
                sent += 1
        await asyncio.sleep(0.01 if interval is not None else 0.05)


def _port(flag: int | None, env_value: str | None, default: int) -> int:
    if flag is not None:
        value = flag
    elif env_value not in (None, ""):
        try:
            value = int(str(env_value))
        except ValueError:
            raise ValueError(f"invalid port value {env_value!r}") from None
    else:
        value = default
    if not 0 <= value <= 65535:
        raise ValueError(f"port {value} is out of range")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None or value == "":
        return default
    if value not in ("true", "false"):
        raise ValueError(f"{name} must be 'true' or 'false', got {value!r}")
    return value == "true"


def _number(flag: int | None, env: Mapping[str, str], name: str, default: int) -> float:
    if flag is not None:
        return float(flag)
    value = env.get(name)
    if value in (None, ""):
        return float(default)
    try:
        return float(str(value))
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
