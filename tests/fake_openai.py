"""A stand-in for OpenAI's ``GET /v1/models``, which palyrad (and the reference gateway)
call to check an API key before keeping it; it records every key it was shown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from palyra_tui.sim.http_server import HttpServer, Request, Response, Router

GOOD_KEY = "sk-test-accepted-0123456789abcdef"


@dataclass
class FakeOpenAi:
    """Accepts :data:`GOOD_KEY` only; ``base_url`` is what the gateway is given."""

    base_url: str = ""
    keys_seen: list[str] = field(default_factory=list)

    async def models(self, request: Request) -> Response:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.keys_seen.append(bearer)
        if bearer != GOOD_KEY:
            return Response.json(401, {"error": {"message": "Incorrect API key provided"}})
        return Response.json(200, {"object": "list", "data": [{"id": "gpt-4o-mini"}]})


@asynccontextmanager
async def fake_openai() -> AsyncIterator[FakeOpenAi]:
    """The fake on a free loopback port, on the caller's loop."""
    fake = FakeOpenAi()
    router = Router()
    router.add("GET", "/v1/models", fake.models)
    server = HttpServer(router, not_found=lambda _: Response.json(404, {"error": "not found"}))
    host, port = await server.start("127.0.0.1", 0)
    fake.base_url = f"http://{host}:{port}/v1"
    try:
        yield fake
    finally:
        await server.close()
