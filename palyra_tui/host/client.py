"""The client side of the host socket: handshake, typed calls, typed streams."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

from palyra_tui.errors import (
    CodecError,
    HostConnectFailed,
    HostError,
    HostNotRunning,
    HostPermissionDenied,
    HostProtocolError,
    HostTimeout,
    HostVersionMismatch,
)
from palyra_tui.host.channel import CHANNEL_OPTIONS, DEFAULT_TIMEOUT, HANDSHAKE_TIMEOUT, grpc
from palyra_tui.host.codec import Codec, codec_for, encode, sequence_codec
from palyra_tui.host.paths import candidates, host_paths
from palyra_tui.host.protocol import (
    HANDSHAKE,
    PROTOCOL_VERSION,
    VERSION_KEY,
    ClientInfo,
    HandshakeRequest,
    HostInfo,
    method_path,
    version_mismatch_sentence,
)
from palyra_tui.host.status import map_rpc_error

Resp = TypeVar("Resp")
Item = TypeVar("Item")


RETRY_WINDOW = 1.0
"""Seconds a handshake whose connect failed (not refused) waits for the channel."""


class HostClient:
    """Calls the runtime host; :meth:`connect` first, which checks the protocol version."""

    def __init__(
        self,
        socket: Path,
        *,
        client: ClientInfo | None = None,
        protocol: int = PROTOCOL_VERSION,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.socket = socket
        self.protocol = protocol
        self.timeout = timeout
        self.host: HostInfo | None = None
        self._client = client if client is not None else ClientInfo.current()
        self._metadata = grpc.aio.Metadata((VERSION_KEY, str(protocol)))
        self._channel: grpc.aio.Channel | None = None

    @property
    def info(self) -> ClientInfo:
        """Who this client says it is in the handshake."""
        return self._client

    @classmethod
    def for_state_root(cls, state_root: Path, **kwargs: Any) -> HostClient:
        """A client for the host of ``state_root``, wherever its socket is."""
        places = candidates(state_root)
        found = [place for place in places if os.path.lexists(place.socket)]
        chosen = found or list(places)
        if not chosen:
            chosen = [host_paths(state_root)]  # raises HostPathTooLong
        return cls(chosen[0].socket, **kwargs)

    async def connect(self, timeout: float = HANDSHAKE_TIMEOUT) -> HostInfo:
        """Open the channel and shake hands; the host's answer says who it is."""
        self._check_socket()
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(
                f"unix:{self.socket}", options=list(CHANNEL_OPTIONS)
            )
        hello = HandshakeRequest(self.protocol, self._client)
        try:
            try:
                host = await self.call(HANDSHAKE, hello, HostInfo, timeout)
            except HostConnectFailed as failed:
                # Nobody refused, but this connect failed: wait a moment for the channel to
                # connect.  A socket that still answers nothing is no host after all.
                window = min(timeout, RETRY_WINDOW)
                try:
                    host = await self.call(HANDSHAKE, hello, HostInfo, window, wait_for_ready=True)
                except HostTimeout:
                    raise failed from None
        except BaseException:
            await self.close()
            raise
        if host.protocol != self.protocol:
            await self.close()
            raise HostVersionMismatch(
                version_mismatch_sentence(host.protocol, self.protocol),
                host_version=host.protocol,
                client_version=self.protocol,
            )
        self.host = host
        return host

    def _check_socket(self) -> None:
        """Refuse before connecting: no socket, someone else's, or one we cannot reach."""
        try:
            info = os.stat(self.socket)
        except FileNotFoundError:
            raise HostNotRunning(
                f"no runtime host is running: nothing listens at {self.socket}"
            ) from None
        except PermissionError:
            raise HostPermissionDenied(
                f"permission denied reaching the runtime host's socket {self.socket}: "
                "it belongs to another user"
            ) from None
        if not stat.S_ISSOCK(info.st_mode):
            raise HostNotRunning(f"no runtime host is running: {self.socket} is not a socket")
        uid = os.geteuid()
        if info.st_uid != uid:
            raise HostPermissionDenied(
                f"permission denied: the runtime host's socket {self.socket} belongs to "
                f"uid {info.st_uid}, not to you (uid {uid})"
            )

    async def call(
        self,
        method: str,
        request: object,
        response_type: type[Resp],
        timeout: float | None = None,
        *,
        wait_for_ready: bool = False,
    ) -> Resp:
        """One request, one reply of ``response_type``, within ``timeout`` seconds; with
        ``wait_for_ready``, a channel that cannot connect yet is waited for, not failed."""
        deadline = self.timeout if timeout is None else timeout
        multi: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = self._open().unary_unary(
            method_path(method)
        )
        try:
            raw = await multi(
                encode(request),
                timeout=deadline,
                metadata=self._metadata,
                wait_for_ready=wait_for_ready,
            )
        except grpc.aio.AioRpcError as error:
            raise self._error(error, method, deadline) from None
        return _decode(codec_for(response_type), raw, method)

    async def stream(
        self,
        method: str,
        request: object,
        item_type: type[Item],
        timeout: float | None = None,
    ) -> AsyncIterator[Item]:
        """Items of ``item_type`` as the host sends them; no deadline unless given.

        Fails at once when no host listens.  Leaving the loop early cancels the
        call on the host.
        """
        batches = self.stream_batches(method, request, item_type, timeout)
        async with contextlib.aclosing(batches):
            async for batch in batches:
                for item in batch:
                    yield item

    async def stream_batches(
        self,
        method: str,
        request: object,
        item_type: type[Item],
        timeout: float | None = None,
    ) -> AsyncGenerator[tuple[Item, ...]]:
        """Like :meth:`stream`, in the batches the host sent: what was ready at once."""
        codec = sequence_codec(item_type)
        multi: grpc.aio.UnaryStreamMultiCallable[bytes, bytes] = self._open().unary_stream(
            method_path(method)
        )
        call = multi(
            encode(request), timeout=timeout, metadata=self._metadata, wait_for_ready=False
        )
        try:
            async for raw in call:
                yield _decode(codec, raw, method)
        except grpc.aio.AioRpcError as error:
            raise self._error(error, method, timeout) from None
        finally:
            call.cancel()

    def _open(self) -> grpc.aio.Channel:
        if self._channel is None:
            raise RuntimeError("HostClient.connect() must succeed before calls")
        return self._channel

    def _error(self, error: grpc.aio.AioRpcError, method: str, timeout: float | None) -> HostError:
        return map_rpc_error(
            error,
            method=method,
            socket=self.socket,
            timeout=timeout,
            client_version=self.protocol,
        )

    async def close(self) -> None:
        """Close the channel; running streams end."""
        channel, self._channel = self._channel, None
        if channel is not None:
            await channel.close()

    async def __aenter__(self) -> HostClient:
        await self.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


def _decode(codec: Codec[Resp], raw: bytes, method: str) -> Resp:
    try:
        return codec.decode(raw)
    except CodecError as error:
        raise HostProtocolError(
            f"the runtime host's reply to {method} does not fit this palyra-tui: {error}"
        ) from None
