"""How the reference gateway ends a gRPC call with palyrad's status and message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import grpc

from palyra_tui.sim.store import SimSession

Context = grpc.aio.ServicerContext[Any, Any]
UNSUPPORTED_VERSION = "unsupported protocol major version"


async def abort(context: Context, code: grpc.StatusCode, message: str) -> NoReturn:
    """End the call; ``context.abort`` raises, the assertion only satisfies the type."""
    await context.abort(code, message)
    raise AssertionError("context.abort returned")


async def check_version(version: int, context: Context) -> None:
    """palyrad speaks major version 1 and refuses the rest."""
    if version != 1:
        await abort(context, grpc.StatusCode.FAILED_PRECONDITION, UNSUPPORTED_VERSION)


async def resolve_or_abort(
    context: Context, resolve: Callable[[], tuple[SimSession, bool, bool]]
) -> tuple[SimSession, bool, bool]:
    """Run a :meth:`Store.resolve_session` call, its errors as palyrad's status codes."""
    try:
        return resolve()
    except LookupError as error:
        await abort(context, grpc.StatusCode.NOT_FOUND, str(error))
    except PermissionError as error:
        await abort(context, grpc.StatusCode.FAILED_PRECONDITION, str(error))
