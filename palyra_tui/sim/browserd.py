"""``palyra-tui sim browserd``: palyra-browserd's health endpoints.

``GET /healthz`` without auth; gRPC ``palyra.browser.v1.BrowserService/Health``
with ``authorization: Bearer <token>`` when a token is set (``--auth-token`` or
``PALYRA_BROWSERD_AUTH_TOKEN``).

It takes browserd's engine settings as browserd does (``--engine-mode``, which
``PALYRA_BROWSERD_ENGINE_MODE`` overrides when it names a mode; ``--chromium-path``,
else ``PALYRA_BROWSERD_CHROMIUM_PATH``) and logs them in its startup line, so
that a test can see what it was given.  It starts no browser in either mode.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time
from collections.abc import Mapping, Sequence
from typing import Any

import grpc

from palyra_tui.client.grpc._generated.palyra.v1 import browser_pb2 as browser
from palyra_tui.models.browser import (
    CHROMIUM_PATH_ENV,
    ENGINE_MODE_ENV,
    BrowserEngine,
    engine_from_env,
)
from palyra_tui.sim.http_server import HttpServer, Request, Response, Router
from palyra_tui.sim.logs import JsonLog, fatal
from palyra_tui.sim.store import token_matches

SERVICE_NAME = "palyra-tui-sim-browserd"
TARGET = "palyra_tui::sim::browserd"


def main(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    """Serve until SIGINT."""
    env = os.environ if environ is None else environ
    parse = argparse.ArgumentParser(prog="palyra-tui sim browserd")
    parse.add_argument("--bind", default="127.0.0.1")
    parse.add_argument("--port", type=int, default=7143)
    parse.add_argument("--grpc-bind", default="127.0.0.1")
    parse.add_argument("--grpc-port", type=int, default=7543)
    parse.add_argument("--auth-token")
    parse.add_argument(
        "--engine-mode", choices=[mode.value for mode in BrowserEngine], default="chromium"
    )
    parse.add_argument("--chromium-path")
    args = parse.parse_args(argv)
    token = (args.auth_token or env.get("PALYRA_BROWSERD_AUTH_TOKEN", "")).strip()
    engine = engine_from_env(env.get(ENGINE_MODE_ENV), BrowserEngine(args.engine_mode))
    chromium_path = args.chromium_path or env.get(CHROMIUM_PATH_ENV)
    if args.bind not in ("127.0.0.1", "localhost", "::1") and not token:
        return fatal("refusing to bind browserd to a non-loopback address without an auth token")
    try:
        return asyncio.run(_serve(args, token, engine, chromium_path))
    except OSError as error:
        return fatal(f"failed to bind browserd listener: {error.strerror}")


async def _serve(
    args: argparse.Namespace, token: str, engine: BrowserEngine, chromium_path: str | None
) -> int:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set)
    log = JsonLog(TARGET)
    started = time.monotonic()

    def uptime() -> int:
        return int(time.monotonic() - started)

    async def healthz(_: Request) -> Response:
        return Response.json(
            200,
            {
                "service": SERVICE_NAME,
                "status": "ok",
                "version": "0.1.0-sim",
                "git_hash": "unknown",
                "build_profile": "sim",
                "uptime_seconds": uptime(),
            },
        )

    async def health(
        request: browser.BrowserHealthRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> browser.BrowserHealthResponse:
        if token:
            supplied = dict((key, value) for key, value in context.invocation_metadata() or ())
            header = str(supplied.get("authorization", "")).strip()
            if not token_matches(header, f"Bearer {token}"):
                await context.abort(
                    grpc.StatusCode.UNAUTHENTICATED, "missing or invalid browser service token"
                )
        return browser.BrowserHealthResponse(v=1, status="ok", uptime_seconds=uptime())

    router = Router()
    router.add("GET", "/healthz", healthz)
    http = HttpServer(router, not_found=lambda _: Response.json(404, {"error": "not found"}))
    server = grpc.aio.server()
    methods: dict[str, grpc.RpcMethodHandler[Any, Any]] = {
        "Health": grpc.unary_unary_rpc_method_handler(
            health,
            request_deserializer=browser.BrowserHealthRequest.FromString,
            response_serializer=browser.BrowserHealthResponse.SerializeToString,
        )
    }
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("palyra.browser.v1.BrowserService", methods)]
    )
    grpc_port = server.add_insecure_port(f"{args.grpc_bind}:{args.grpc_port}")
    host, port = await http.start(args.bind, args.port)
    chromium = {"chromium_path": chromium_path} if chromium_path else {}
    log.info(
        "browser service startup",
        auth_enabled=bool(token),
        state_persistence_enabled=False,
        health_port=args.port,
        grpc_port=args.grpc_port,
        engine_mode=engine.value,
        **chromium,
    )
    await server.start()
    log.info("browserd health endpoint ready", listen_addr=f"{host}:{port}")
    log.info("browserd gRPC endpoint ready", grpc_listen_addr=f"{args.grpc_bind}:{grpc_port}")
    await stop.wait()
    await http.close()
    await server.stop(grace=1.0)
    log.info("browserd stopped")
    return 0
