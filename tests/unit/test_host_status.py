"""gRPC failures on the host socket map to typed errors; no grpc type escapes."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from palyra_tui.errors import (
    HostConnectFailed,
    HostDisconnected,
    HostError,
    HostNotRunning,
    HostPermissionDenied,
    HostProtocolError,
    HostRemoteError,
    HostTimeout,
    HostVersionMismatch,
)
from palyra_tui.host.status import map_rpc_error

SOCKET = Path("/run/user/1000/palyra-tui/0123456789abcdef/host.sock")
CONNECT = "failed to connect to all addresses; last error: UNKNOWN: unix:{0}: connect failed: {1}"


def mapped(
    code: grpc.StatusCode, details: str, trailers: tuple[tuple[str, str], ...] = ()
) -> HostError:
    error = grpc.aio.AioRpcError(
        code, grpc.aio.Metadata(), grpc.aio.Metadata(*trailers), details=details
    )
    return map_rpc_error(error, method="Tail", socket=SOCKET, timeout=2.5, client_version=1)


@pytest.mark.parametrize(
    ("code", "details", "kind", "sentence"),
    [
        (
            grpc.StatusCode.UNAVAILABLE,
            CONNECT.format(SOCKET, "Permission denied"),
            HostPermissionDenied,
            f"permission denied connecting to the runtime host at {SOCKET}: "
            "it belongs to another user",
        ),
        (
            grpc.StatusCode.UNAVAILABLE,
            CONNECT.format(SOCKET, "Connection refused"),
            HostNotRunning,
            f"no runtime host is listening at {SOCKET}: the socket is left from a host "
            "that stopped",
        ),
        (
            grpc.StatusCode.UNAVAILABLE,
            CONNECT.format(SOCKET, "No such file or directory"),
            HostNotRunning,
            f"no runtime host is running: nothing listens at {SOCKET}",
        ),
        (
            grpc.StatusCode.UNAVAILABLE,
            CONNECT.format(SOCKET, "Resource temporarily unavailable"),
            HostConnectFailed,
            f"could not connect to the runtime host at {SOCKET}: "
            + CONNECT.format(SOCKET, "Resource temporarily unavailable"),
        ),
        (
            grpc.StatusCode.UNAVAILABLE,
            "Cancelling all calls",
            HostDisconnected,
            "the runtime host closed the connection during Tail (Cancelling all calls): "
            "it stopped or restarted",
        ),
        (
            grpc.StatusCode.DEADLINE_EXCEEDED,
            "Deadline Exceeded",
            HostTimeout,
            "the runtime host did not answer Tail within 2.5 s",
        ),
        (
            grpc.StatusCode.UNIMPLEMENTED,
            "Method not found!",
            HostProtocolError,
            "the runtime host does not know Tail: it runs another palyra-tui version",
        ),
        (
            grpc.StatusCode.UNKNOWN,
            "Unexpected error\x1b[31m",
            HostRemoteError,
            "the runtime host failed Tail: UNKNOWN Unexpected error",
        ),
    ],
)
def test_codes_become_sentences(
    code: grpc.StatusCode, details: str, kind: type[HostError], sentence: str
) -> None:
    error = mapped(code, details)
    assert type(error) is kind
    assert str(error) == sentence


def test_the_hosts_version_comes_from_its_trailers() -> None:
    error = mapped(grpc.StatusCode.FAILED_PRECONDITION, "mismatch", (("palyra-tui-protocol", "3"),))
    assert isinstance(error, HostVersionMismatch)
    assert (error.host_version, error.client_version) == (3, 1)
    assert str(error).startswith("the runtime host speaks protocol 3, this palyra-tui speaks 1:")


def test_a_handlers_own_sentence_is_kept_with_its_type() -> None:
    error = mapped(
        grpc.StatusCode.FAILED_PRECONDITION,
        "unknown service: browserd",
        (("palyra-tui-error", "SupervisorError"),),
    )
    assert isinstance(error, HostRemoteError)
    assert (str(error), error.remote_type) == ("unknown service: browserd", "SupervisorError")
