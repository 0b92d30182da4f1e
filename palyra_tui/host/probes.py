"""Loopback port probes for the preflight: is a port free, and who answers on a busy one.

A port is free when this process can bind it on 127.0.0.1 right now: TCP with
``SO_REUSEADDR`` (as the daemons bind, so a socket of a stopped daemon still in
TIME_WAIT does not count as busy), UDP without it (on Linux two UDP sockets
that both set it may share a port).  The probe socket is closed at once.  The
bind calls block briefly: run :func:`busy_ports` in a thread.
"""

from __future__ import annotations

import enum
import errno
import socket
from collections.abc import Iterable
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"


class Transport(enum.Enum):
    """The socket type a daemon listens with."""

    TCP = "tcp"
    UDP = "udp"


@dataclass(frozen=True, slots=True)
class Port:
    """One port a daemon needs: what it is for, its transport and number."""

    label: str
    transport: Transport
    number: int

    def __str__(self) -> str:
        return f"{self.label} {self.transport.value}:{self.number}"


@dataclass(frozen=True, slots=True)
class PortProblem:
    """A port that cannot be bound, and why."""

    port: Port
    in_use: bool
    reason: str


def listing(ports: Iterable[Port]) -> str:
    """``admin tcp:7142, gRPC tcp:7443``."""
    return ", ".join(str(port) for port in ports)


def probe(port: Port) -> PortProblem | None:
    """None when ``port`` can be bound on loopback now; otherwise why not."""
    kind = socket.SOCK_STREAM if port.transport is Transport.TCP else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as sock:
        if port.transport is Transport.TCP:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port.number))
        except OSError as error:
            in_use = error.errno == errno.EADDRINUSE
            reason = "in use" if in_use else (error.strerror or str(error))
            return PortProblem(port, in_use, reason)
    return None


def busy_ports(ports: Iterable[Port]) -> tuple[PortProblem, ...]:
    """The ports of ``ports`` that cannot be bound (blocking: run in a thread)."""
    found = (probe(port) for port in ports)
    return tuple(problem for problem in found if problem is not None)
