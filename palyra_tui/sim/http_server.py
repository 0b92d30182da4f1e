"""A small asyncio HTTP/1.1 server for the reference daemons.

Keep-alive, ``Content-Length`` bodies up to 64 KiB (palyrad's limit), JSON
replies.  Routes are ``(method, pattern)`` pairs whose ``{name}`` segments are
handed to the handler.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

MAX_BODY = 64 * 1024
MAX_HEAD = 16 * 1024


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    peer: str = ""

    def json(self) -> dict[str, Any]:
        """The body as a JSON object (``{}`` when empty); ValueError when malformed."""
        if not self.body.strip():
            return {}
        document = json.loads(self.body)
        if not isinstance(document, dict):
            raise ValueError("body must be a JSON object")
        return document

    def cookie(self, name: str) -> str:
        """One cookie's value, or ``""``."""
        for part in self.headers.get("cookie", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == name:
                return value
        return ""


@dataclass(slots=True)
class Response:
    """One HTTP response."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, status: int, document: object, *headers: tuple[str, str]) -> Response:
        """A JSON response."""
        body = json.dumps(document, separators=(",", ":")).encode()
        return cls(status, body, [("content-type", "application/json"), *headers])


HANG_UP = 0
"""A response with this status closes the connection unanswered, as a refused TLS
handshake does."""

Handler = Callable[[Request], Awaitable[Response]]


class Router:
    """Maps ``METHOD /path/{param}`` to handlers."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` and a path ``pattern``."""
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
        self._routes.append((method, re.compile(regex), handler))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        """The handler and its path parameters, or None."""
        for route_method, regex, handler in self._routes:
            found = regex.match(path)
            if found is not None and route_method == method:
                return handler, {key: unquote(value) for key, value in found.groupdict().items()}
        return None


class HttpServer:
    """Serves a :class:`Router`; ``before`` may answer a request itself (rate limits)."""

    def __init__(
        self,
        router: Router,
        *,
        not_found: Callable[[Request], Response],
        before: Callable[[Request], Response | None] | None = None,
        after: Callable[[Request, Response], None] | None = None,
    ) -> None:
        self._router = router
        self._not_found = not_found
        self._before = before
        self._after = after
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Bind and start serving; returns the bound address."""
        self._server = await asyncio.start_server(self._serve, host, port, limit=MAX_HEAD)
        address = self._server.sockets[0].getsockname()
        return str(address[0]), int(address[1])

    async def close(self) -> None:
        """Stop accepting and close."""
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        peer_ip = str(peer[0]) if peer else ""
        try:
            while True:
                request = await _read_request(reader, peer_ip)
                if request is None:
                    break
                response = await self._dispatch(request)
                if response.status == HANG_UP:
                    break
                keep = request.headers.get("connection", "").lower() != "close"
                _write_response(writer, response, keep)
                await writer.drain()
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except _BadRequest as bad:
            _write_response(writer, Response.json(400, {"error": str(bad)}), False)
        finally:
            writer.close()

    async def _dispatch(self, request: Request) -> Response:
        if self._before is not None:
            early = self._before(request)
            if early is not None:
                return early
        found = self._router.match(request.method, request.path)
        if found is None:
            return self._not_found(request)
        handler, params = found
        response = await handler(
            Request(
                request.method,
                request.path,
                request.query,
                request.headers,
                request.body,
                params,
                request.peer,
            )
        )
        if self._after is not None:
            self._after(request, response)
        return response


class _BadRequest(Exception):
    pass


async def _read_request(reader: asyncio.StreamReader, peer: str) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise _BadRequest("malformed request line")
    method, target, _ = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or "0")
    if length > MAX_BODY:
        raise _BadRequest("request body too large")
    body = await reader.readexactly(length) if length else b""
    split = urlsplit(target)
    return Request(
        method=method.upper(),
        path=split.path,
        query=dict(parse_qsl(split.query)),
        headers=headers,
        body=body,
        peer=peer,
    )


def _write_response(writer: asyncio.StreamWriter, response: Response, keep: bool) -> None:
    reason = (
        HTTPStatus(response.status).phrase
        if response.status in HTTPStatus._value2member_map_
        else ""
    )
    lines = [f"HTTP/1.1 {response.status} {reason}"]
    for name, value in response.headers:
        lines.append(f"{name}: {value}")
    lines.append(f"content-length: {len(response.body)}")
    lines.append(f"connection: {'keep-alive' if keep else 'close'}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body)
