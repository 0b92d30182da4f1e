"""``palyra-tui start|stop|restart|hold|release SERVICE…``: command services, and wait.

Each waits until its service reached the state it asked for: ``start`` and
``restart`` until the service runs (or say why it does not), ``stop`` until
every process of it is gone, ``hold`` and ``release`` until the supervisor took
them.  ``--no-wait`` returns once the host has the command.  The services are
commanded at once, and reported in the order given.

What is already so is a conflict (exit 6), judged from the host's state when
the command was given: ``start`` of a running service, ``stop`` of one with no
process and no restart pending (stopped, exited or failed), ``hold`` of a held
one, ``release`` of one that is not held.  A restart is never a conflict.  Any
failure makes the exit code 1; an unknown service is a usage error (2), and
then nothing is commanded.
"""

from __future__ import annotations

import asyncio
import enum
import sys
from dataclasses import dataclass
from typing import Any

from palyra_tui.cli.connect import client_for
from palyra_tui.cli.exits import EXIT_CONFLICT, EXIT_ERROR, EXIT_OK, EXIT_USAGE
from palyra_tui.cli.failures import CommandFailed, complain
from palyra_tui.cli.formats import clean, dump
from palyra_tui.config import Config
from palyra_tui.host import wire
from palyra_tui.host.client import HostClient
from palyra_tui.host.remote import COMMAND_DEADLINE
from palyra_tui.host.report import STATUS, StatusReport, StatusRequest
from palyra_tui.models import ServiceSnapshot, ServiceState

VERBS = {
    "start": wire.Verb.START,
    "stop": wire.Verb.STOP,
    "restart": wire.Verb.RESTART,
    "hold": wire.Verb.HOLD,
    "release": wire.Verb.RELEASE,
}
_STOPPED = frozenset({ServiceState.STOPPED, ServiceState.EXITED, ServiceState.FAILED})


class Result(enum.Enum):
    """What became of the command on one service."""

    OK = "ok"
    ACCEPTED = "accepted"
    CONFLICT = "conflict"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Done:
    """One service after the command: the result, why, and its state then."""

    name: str
    result: Result
    message: str
    service: ServiceSnapshot | None = None


async def run_service_command(
    config: Config, verb: str, names: tuple[str, ...], *, wait: bool, as_json: bool
) -> int:
    """Command each of ``names``; print what became of each; returns the exit code."""
    client = client_for(config, verb)
    try:
        await client.connect()
        before = await _services(client)
        unknown = [name for name in names if name not in before]
        if unknown:
            configured = ", ".join(before)
            raise CommandFailed(
                f"no service called {', '.join(map(repr, unknown))} (configured: {configured})",
                EXIT_USAGE,
            )
        ordered = tuple(dict.fromkeys(names))
        done = await asyncio.gather(
            *(_command(client, VERBS[verb], before[name], wait) for name in ordered)
        )
        after = await _services(client)
    finally:
        await client.close()
    final = [Done(d.name, d.result, d.message, after.get(d.name, d.service)) for d in done]
    return _report(verb, final, as_json)


async def _services(client: HostClient) -> dict[str, ServiceSnapshot]:
    report = await client.call(STATUS, StatusRequest(), StatusReport)
    return {service.name: service for service in report.services}


def conflict(verb: wire.Verb, service: ServiceSnapshot) -> str:
    """Why ``verb`` would change nothing for ``service`` ("" when it would)."""
    name = service.name
    if verb is wire.Verb.START and service.state is ServiceState.RUNNING:
        return f"{name} is already running (pid {service.pid})"
    if verb is wire.Verb.STOP and service.state in _STOPPED:
        return f"{name} is already {service.state.value}"
    if verb is wire.Verb.HOLD and service.held:
        return f"{name}'s restarts are already held"
    if verb is wire.Verb.RELEASE and not service.held:
        return f"{name}'s restarts are not held"
    return ""


async def _command(
    client: HostClient, verb: wire.Verb, service: ServiceSnapshot, wait: bool
) -> Done:
    already = conflict(verb, service)
    if already:
        return Done(service.name, Result.CONFLICT, already, service)
    if not wait:
        until = wire.Until.ACCEPTED
    elif verb in (wire.Verb.START, wire.Verb.RESTART):
        until = wire.Until.RUNNING
    else:
        until = wire.Until.DONE
    command = wire.ServiceCommand(verb, service.name, until=until)
    outcome = await client.call(wire.SERVICE_COMMAND, command, wire.Outcome, COMMAND_DEADLINE)
    if outcome.failure is not wire.Failure.NONE:
        return Done(service.name, Result.FAILED, outcome.message, service)
    return Done(service.name, Result.OK if wait else Result.ACCEPTED, "", service)


def _report(verb: str, done: list[Done], as_json: bool) -> int:
    failed = [d for d in done if d.result is Result.FAILED]
    conflicts = [d for d in done if d.result is Result.CONFLICT]
    code = EXIT_ERROR if failed else EXIT_CONFLICT if conflicts else EXIT_OK
    if as_json:
        sys.stdout.write(dump({"services": [_record(d) for d in done]}))
    else:
        sys.stdout.write("".join(_line(verb, d) for d in done if d.result in _SHOWN))
    sys.stdout.flush()
    problems = [d.message for d in (*failed, *conflicts)]
    if problems:
        complain("; ".join(problems), code, as_json=as_json)
    return code


_SHOWN = frozenset({Result.OK, Result.ACCEPTED})


def _record(done: Done) -> dict[str, Any]:
    service = done.service
    return {
        "name": done.name,
        "result": done.result.value,
        "message": done.message,
        "state": service.state.value if service is not None else None,
        "pid": service.pid if service is not None else None,
        "held": service.held if service is not None else None,
    }


def _line(verb: str, done: Done) -> str:
    service = done.service
    if done.result is Result.ACCEPTED or service is None:
        return f"{clean(done.name)}: {verb} requested\n"
    state = service.state.value
    if service.pid is not None:
        state += f" (pid {service.pid})"
    if service.held:
        state += ", restarts held"
    return f"{clean(done.name)}: {state}\n"
