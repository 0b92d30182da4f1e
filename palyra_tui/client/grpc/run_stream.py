"""One chat turn over ``RunStream``, as the conversation palyrad expects.

palyrad runs the whole turn (model turns and tool calls) and then reads the
client's side again: another ``input`` starts another turn, a half-close ends
the run with ``DONE``.  So the request side must be closed promptly, and the
rule is the palyra CLI's (``run_stream_can_close_request_side``): half-close
as soon as a final model token, a tool result or a tool attestation arrives.
The CLI answers an approval before it reads the next event, so it never closes
with an answer owed; here the operator may take their time, so the request
side stays open while an approval of this run still waits for its answer.

Like the CLI's, this rule means an approval the gateway asks for after the
half-close (a tool call that follows text in the same model turn, or a second
tool round) is denied by palyrad with "no interactive approval channel".

Two timeouts keep a silent gateway from holding a run for ever: no first event
within ``first_event_timeout`` (a hung gateway accepts the connection but
answers nothing), and no event for ``idle_timeout`` while no proposal or
approval is open.  Either closes the call and raises :class:`DeadlineExceeded`.

A ``FAILED`` status followed by an RPC error is reported once, as the
``FAILED`` event.  Responses are read by a task of their own, so a timeout
never cancels a read on the call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeAlias, TypeVar

import grpc

from palyra_tui.client.errors import (
    ClientError,
    DeadlineExceeded,
    GatewayUnavailable,
    InvalidRequest,
)
from palyra_tui.client.grpc import convert
from palyra_tui.client.grpc._generated.palyra.v1 import common_pb2 as common
from palyra_tui.client.grpc.errors import map_rpc_error
from palyra_tui.models.gateway import AbortResult, ApprovalAnswer, RunStatus
from palyra_tui.models.run_events import (
    ApprovalRequestEvent,
    ApprovalResponseEvent,
    RunEvent,
    StatusEvent,
    TokenEvent,
    ToolAttestationEvent,
    ToolProposalEvent,
    ToolResultEvent,
)

PROTOCOL_VERSION = 1
FINAL_STATUS_WAIT = 2.0

RunStreamCall: TypeAlias = grpc.aio.StreamStreamMultiCallable[
    common.RunStreamRequest, common.RunStreamEvent
]
_End = object()
T = TypeVar("T")


class _FirstStatus:
    """The status a call ended with, as first reported.

    When a write fails because the call has just ended, grpcio's asyncio
    client replaces the status the server sent with ``INTERNAL: Internal error
    from Core`` (grpc/grpc#36066), so a gateway that refuses a run at once (run
    loop disabled, token rejected) would read as an internal error.  A done
    callback runs when the real status arrives, before it can be replaced.
    """

    def __init__(self) -> None:
        self.code: grpc.StatusCode | None = None
        self.details = ""

    def record(self, call: grpc.aio.Call) -> None:
        """Done callback: keep the first status."""
        if self.code is None:
            self.code = _settled(call.code())
            self.details = _settled(call.details()) or ""

    @property
    def failed(self) -> bool:
        """True once the call ended with a status other than OK."""
        return self.code is not None and self.code is not grpc.StatusCode.OK

    def error(self) -> grpc.aio.AioRpcError:
        """The status the server sent, as the error grpcio would have raised."""
        assert self.code is not None
        return grpc.aio.AioRpcError(
            self.code, grpc.aio.Metadata(), grpc.aio.Metadata(), self.details
        )

    def unmasked(self, error: grpc.aio.AioRpcError) -> grpc.aio.AioRpcError:
        """``error``, or the server's own status when grpcio replaced it."""
        if (
            error.code() is grpc.StatusCode.INTERNAL
            and self.failed
            and self.code is not grpc.StatusCode.INTERNAL
        ):
            return self.error()
        return error


def _settled(coroutine: Coroutine[Any, Any, T]) -> T | None:
    """The result of a coroutine that finishes without waiting (a finished call's status)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    return None


def closes_request_side(event: RunEvent) -> bool:
    """The palyra CLI's rule: a final model token, a tool result or a tool attestation."""
    if isinstance(event, TokenEvent):
        return event.is_final
    return isinstance(event, ToolResultEvent | ToolAttestationEvent)


class RunConversation:
    """An async iterator of one run's events, plus approval answers and abort."""

    def __init__(
        self,
        multicallable: RunStreamCall,
        metadata: tuple[tuple[str, str], ...],
        *,
        session_id: str,
        text: str,
        run_id: str,
        target: str,
        abort: Callable[[str, str], Awaitable[AbortResult]],
        first_event_timeout: float | None,
        idle_timeout: float | None,
        allow_sensitive_tools: bool,
    ) -> None:
        self.session_id = session_id
        self.run_id = run_id
        self._multicallable = multicallable
        self._metadata = metadata
        self._text = text
        self._target = target
        self._abort = abort
        self._first_event_timeout = first_event_timeout
        self._idle_timeout = idle_timeout
        self._allow_sensitive = allow_sensitive_tools
        self._call: grpc.aio.StreamStreamCall[common.RunStreamRequest, common.RunStreamEvent] | None
        self._call = None
        self._reader: asyncio.Task[None] | None = None
        self._inbox: asyncio.Queue[common.RunStreamEvent | BaseException | object] = asyncio.Queue()
        self._write_lock = asyncio.Lock()
        self._status = _FirstStatus()
        self._half_closed = False
        self._finished = False
        self._failed = False
        self._received = 0
        self._open_proposals: set[str] = set()
        self._pending_approvals: dict[str, ApprovalRequestEvent] = {}
        self._answered: set[str] = set()

    # Public API ------------------------------------------------------------

    @property
    def half_closed(self) -> bool:
        """True once palyra-tui told the gateway the turn is over."""
        return self._half_closed

    @property
    def received(self) -> int:
        """How many events the gateway sent so far (0: it never acknowledged the message)."""
        return self._received

    @property
    def pending_approvals(self) -> tuple[ApprovalRequestEvent, ...]:
        """Approval requests of this run that still wait for an answer."""
        return tuple(self._pending_approvals.values())

    async def answer(self, request: ApprovalRequestEvent, answer: ApprovalAnswer) -> None:
        """Send the decision for ``request`` on this stream; each approval is answered once."""
        if request.approval_id in self._answered:
            raise InvalidRequest(f"approval {request.approval_id} was already answered")
        if self._half_closed or self._finished or self._call is None:
            raise InvalidRequest("this run no longer accepts approval answers")
        self._answered.add(request.approval_id)
        message = common.RunStreamRequest(
            v=PROTOCOL_VERSION,
            session_id=convert.canonical(self.session_id),
            run_id=convert.canonical(self.run_id),
            tool_approval_response=convert.approval_response(request, answer),
        )
        await self._write(message)

    async def abort(self, reason: str = "") -> AbortResult:
        """Ask the gateway to cancel this run (it answers with FAILED "cancelled by request")."""
        return await self._abort(self.run_id, reason)

    async def close(self) -> None:
        """Stop the call and the reader (idempotent)."""
        self._finished = True
        if self._call is not None:
            self._call.cancel()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    def __aiter__(self) -> RunConversation:
        return self

    async def __anext__(self) -> RunEvent:
        if self._call is None:
            await self._start()
        while True:
            if self._finished and self._inbox.empty():
                await self.close()
                raise StopAsyncIteration
            item = await self._next_item()
            if item is _End:
                ended_early = not self._finished
                self._finished = True
                if ended_early:
                    await self.close()
                    raise GatewayUnavailable("the gateway ended the run without a result")
                continue
            if isinstance(item, BaseException):
                self._finished = True
                if isinstance(item, grpc.aio.AioRpcError) and not self._failed:
                    await self.close()
                    raise map_rpc_error(self._status.unmasked(item), self._target) from None
                continue
            assert isinstance(item, common.RunStreamEvent)
            event = convert.run_event(item)
            if event is None:
                continue
            self._received += 1
            self._track(event)
            if closes_request_side(event) and not self._owed_answers():
                await self._half_close()
            return event

    # Internals -------------------------------------------------------------

    async def _start(self) -> None:
        first = common.RunStreamRequest(
            v=PROTOCOL_VERSION,
            session_id=convert.canonical(self.session_id),
            run_id=convert.canonical(self.run_id),
            input=common.MessageEnvelope(
                v=PROTOCOL_VERSION,
                content=common.MessageContent(text=self._text),
            ),
            allow_sensitive_tools=self._allow_sensitive,
        )
        self._call = self._multicallable(metadata=self._metadata)
        self._call.add_done_callback(self._status.record)
        self._reader = asyncio.create_task(self._read_all())
        try:
            await self._write(first)
        except ClientError:
            await self.close()
            raise

    async def _read_all(self) -> None:
        call = self._call
        assert call is not None
        try:
            while True:
                message = await call.read()
                if message is grpc.aio.EOF:
                    break
                assert isinstance(message, common.RunStreamEvent)
                self._inbox.put_nowait(message)
        except asyncio.CancelledError:
            raise
        except BaseException as error:
            self._inbox.put_nowait(error)
        finally:
            self._inbox.put_nowait(_End)

    async def _next_item(self) -> common.RunStreamEvent | BaseException | object:
        """The next inbox item; a silent gateway ends the run with DeadlineExceeded."""
        limit, silence = self._wait_limit()
        if limit is None:
            return await self._inbox.get()
        try:
            async with asyncio.timeout(limit):
                return await self._inbox.get()
        except TimeoutError:
            await self.close()
            raise DeadlineExceeded(silence.format(target=self._target, seconds=limit)) from None

    def _wait_limit(self) -> tuple[float | None, str]:
        if not self._received:
            return self._first_event_timeout, (
                "the gateway at {target} took the message but sent nothing back within "
                "{seconds:g} s; it may be hung"
            )
        if self._open_proposals or self._pending_approvals:
            return None, ""
        return self._idle_timeout, "the gateway at {target} sent nothing for {seconds:g} s"

    def _owed_answers(self) -> bool:
        return any(approval_id not in self._answered for approval_id in self._pending_approvals)

    def _track(self, event: RunEvent) -> None:
        if isinstance(event, ToolProposalEvent):
            self._open_proposals.add(event.proposal_id)
        elif isinstance(event, ApprovalRequestEvent):
            self._pending_approvals[event.approval_id] = event
        elif isinstance(event, ApprovalResponseEvent):
            self._pending_approvals.pop(event.approval_id, None)
        elif isinstance(event, ToolResultEvent | ToolAttestationEvent):
            self._open_proposals.discard(event.proposal_id)
        elif isinstance(event, StatusEvent):
            if event.status is RunStatus.FAILED:
                self._failed = True
                self._finished = True
            elif event.status is RunStatus.DONE:
                self._finished = True

    async def _half_close(self) -> None:
        if self._half_closed or self._call is None:
            return
        self._half_closed = True
        async with self._write_lock:
            with contextlib.suppress(grpc.aio.AioRpcError, grpc.aio.UsageError):
                await self._call.done_writing()

    async def _write(self, message: common.RunStreamRequest) -> None:
        """Write one request; a failed write reports the call's own final status.

        A write fails when the call already ended, and what it raises then says
        little: ``InvalidStateError``, or, under load, ``INTERNAL: Internal
        error from Core`` (grpc/grpc#36066).  The status the gateway ended the
        call with is the one worth reporting.
        """
        call = self._call
        assert call is not None
        async with self._write_lock:
            try:
                await call.write(message)
                return
            except grpc.aio.AioRpcError as error:
                raise map_rpc_error(self._status.unmasked(error), self._target) from None
            except (asyncio.InvalidStateError, grpc.aio.UsageError):
                with contextlib.suppress(TimeoutError, grpc.aio.AioRpcError):
                    async with asyncio.timeout(FINAL_STATUS_WAIT):
                        await call.code()
                    self._status.record(call)
                if self._status.failed:
                    raise map_rpc_error(self._status.error(), self._target) from None
                raise GatewayUnavailable("the run ended before the answer could be sent") from None
