"""gRPC over the host's Unix socket, with the frozen models as the schema.

There is no ``.proto`` and no protoc: methods are registered by name through
gRPC's generic handlers, and the codec serializes requests and replies from
the dataclasses' type hints.  gRPC still provides what a hand-rolled socket
protocol would have to reinvent: framing, HTTP/2 flow control (a client that
stops reading holds back the server's stream instead of growing a buffer),
deadlines, cancellation, and a status with every failure.

The server registers typed unary and server-streaming handlers; the client
calls them with the reply type it expects.  Errors cross as status codes and
come out as the typed errors of :mod:`palyra_tui.errors`; no grpc type leaves
this package.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from palyra_tui import __version__
from palyra_tui.errors import CodecError, HostError, PalyraError
from palyra_tui.host.batching import batches
from palyra_tui.host.channel import SERVER_OPTIONS, grpc
from palyra_tui.host.claim import SocketClaim
from palyra_tui.host.client import HostClient
from palyra_tui.host.codec import Codec, codec_for, sequence_codec
from palyra_tui.host.paths import HostPaths, host_paths, prepare_directory
from palyra_tui.host.protocol import (
    ERROR_TYPE_KEY,
    HANDSHAKE,
    PROTOCOL_VERSION,
    SERVICE,
    VERSION_KEY,
    HandshakeRequest,
    HostInfo,
    version_mismatch_sentence,
)
from palyra_tui.models.clock import Clock, SystemClock

log = logging.getLogger(__name__)

Req = TypeVar("Req")
Resp = TypeVar("Resp")
Item = TypeVar("Item")

__all__ = ["HostClient", "HostServer"]

SOCKET_MODE = 0o600

_Context = grpc.aio.ServicerContext[Any, Any]


class _Unreadable:
    """A request the codec refused; the handler answers INVALID_ARGUMENT with the reason."""

    def __init__(self, error: CodecError) -> None:
        self.error = error


def _reader(codec: Codec[Any]) -> Callable[[bytes], object]:
    def read(data: bytes) -> object:
        try:
            return codec.decode(data)
        except CodecError as error:
            return _Unreadable(error)

    return read


class HostServer:
    """Serves registered methods on the host socket of one state root."""

    def __init__(
        self,
        state_root: Path,
        *,
        paths: HostPaths | None = None,
        clock: Clock | None = None,
        protocol: int = PROTOCOL_VERSION,
    ) -> None:
        self.state_root = state_root
        self.paths = paths if paths is not None else host_paths(state_root)
        self.protocol = protocol
        self._clock = clock if clock is not None else SystemClock()
        self._handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
        self._server: grpc.aio.Server | None = None
        self._claim = SocketClaim(self.paths)
        self.info = HostInfo(protocol, os.getpid(), str(state_root), 0.0, __version__)
        self._add_unary(HANDSHAKE, HandshakeRequest, HostInfo, self._handshake, versioned=False)

    def add_unary(
        self,
        name: str,
        request_type: type[Req],
        response_type: type[Resp],
        handler: Callable[[Req], Awaitable[Resp]],
    ) -> None:
        """Serve ``name``: one request, one reply."""
        self._add_unary(name, request_type, response_type, handler, versioned=True)

    def _add_unary(
        self,
        name: str,
        request_type: type[Req],
        response_type: type[Resp],
        handler: Callable[[Req], Awaitable[Resp]],
        *,
        versioned: bool,
    ) -> None:
        """The handshake is answered whatever the client's version; every other call is not."""

        async def behaviour(request: object, context: _Context) -> Resp:
            admitted: Req = await self._admit(name, request, context, versioned=versioned)
            try:
                return await handler(admitted)
            except Exception as error:
                await self._fail(name, error, context)

        self._register(
            name,
            grpc.unary_unary_rpc_method_handler(
                behaviour,
                request_deserializer=_reader(codec_for(request_type)),
                response_serializer=codec_for(response_type).encode,
            ),
        )

    def add_stream(
        self,
        name: str,
        request_type: type[Req],
        item_type: type[Item],
        handler: Callable[[Req], AsyncIterator[Item]],
    ) -> None:
        """Serve ``name``: one request, a stream of items, paced by the client's reading.

        Items travel in tuples of whatever was ready (:mod:`.batching`).
        """
        batch_encode = sequence_codec(item_type).encode

        async def behaviour(request: object, context: _Context) -> AsyncIterator[bytes]:
            admitted: Req = await self._admit(name, request, context, versioned=True)
            try:
                async for frame in batches(handler(admitted), batch_encode):
                    yield frame
            except Exception as error:
                await self._fail(name, error, context)

        self._register(
            name,
            grpc.unary_stream_rpc_method_handler(
                behaviour, request_deserializer=_reader(codec_for(request_type))
            ),
        )

    def _register(self, name: str, handler: grpc.RpcMethodHandler[Any, Any]) -> None:
        if self._server is not None:
            raise RuntimeError("methods must be added before the server starts")
        if name in self._handlers:
            raise ValueError(f"method {name} is already registered")
        self._handlers[name] = handler

    async def start(self) -> HostInfo:
        """Claim the socket (clearing a dead host's), bind it 0600 and serve."""
        if self._server is not None:
            raise RuntimeError("the server is already started")
        prepare_directory(self.paths)
        self._claim.acquire()
        try:
            server = grpc.aio.server(options=list(SERVER_OPTIONS))
            server.add_generic_rpc_handlers(
                (grpc.method_handlers_generic_handler(SERVICE, self._handlers),)
            )
            self._bind(server)
            await server.start()
        except BaseException:
            self._claim.release()
            raise
        self._server = server
        self.info = HostInfo(
            self.protocol, os.getpid(), str(self.state_root), self._clock.time(), __version__
        )
        return self.info

    def _bind(self, server: grpc.aio.Server) -> None:
        socket = self.paths.socket
        try:
            bound = server.add_insecure_port(f"unix:{socket}")
        except RuntimeError as error:
            raise HostError(f"cannot listen on {socket}: {error}") from None
        if not bound:
            raise HostError(f"cannot listen on {socket}")
        # The 0700 directory already keeps other users away from the socket;
        # chmod narrows the file itself without touching the process umask,
        # which every other thread of the host shares.
        os.chmod(socket, SOCKET_MODE)
        self._claim.bound()

    async def stop(self, grace: float = 1.0) -> None:
        """Stop serving; calls still running after ``grace`` seconds are cancelled."""
        server, self._server = self._server, None
        if server is None:
            return
        try:
            await server.stop(grace)
        finally:
            self._claim.release()

    async def wait_stopped(self) -> None:
        """Return once the server has stopped (for a host's main task)."""
        server = self._server
        if server is not None:
            await server.wait_for_termination()

    async def _handshake(self, request: HandshakeRequest) -> HostInfo:
        log.info(
            "client attached: %s %s pid %d, protocol %d",
            request.client.name,
            request.client.version,
            request.client.pid,
            request.protocol,
        )
        return self.info

    async def _admit(
        self, name: str, request: object, context: _Context, *, versioned: bool
    ) -> Any:
        if versioned:
            sent = dict(context.invocation_metadata() or ()).get(VERSION_KEY, "")
            if sent != str(self.protocol):
                client = int(sent) if isinstance(sent, str) and sent.isdigit() else 0
                await context.abort(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    version_mismatch_sentence(self.protocol, client),
                    trailing_metadata=((VERSION_KEY, str(self.protocol)),),
                )
        if isinstance(request, _Unreadable):
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"the request for {name}: {request.error}"
            )
        return request

    async def _fail(self, name: str, error: Exception, context: _Context) -> NoReturn:
        kind = type(error).__name__
        if isinstance(error, PalyraError):
            code, detail = grpc.StatusCode.FAILED_PRECONDITION, str(error)
        else:
            log.exception("%s failed", name)
            code = grpc.StatusCode.INTERNAL
            detail = f"the runtime host failed {name}: {kind}: {error}"
        await context.abort(code, detail, trailing_metadata=((ERROR_TYPE_KEY, kind),))
