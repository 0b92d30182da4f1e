"""Gathering a support bundle from the runtime that owns everything it holds.

The runtime's own facts are read on its loop (they are immutable values or
copies); what may wait (the gateway's ``/healthz``, the preflight checks) is
awaited with a deadline; reading the log buffers, rendering, redacting and
writing run in threads.  Nothing is started for it: a gateway that does not
answer is named as not reachable.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from palyra_tui.client.errors import ClientError
from palyra_tui.errors import PalyraError
from palyra_tui.models.bundle import SupportBundle
from palyra_tui.state.bundle.archive import write_bundle
from palyra_tui.state.bundle.members import plan
from palyra_tui.state.bundle.scrub import Scrubber
from palyra_tui.state.bundle.sources import (
    BundleSources,
    ChatFacts,
    DoctorFacts,
    GatewayFacts,
    ServiceLogs,
)
from palyra_tui.state.runtime_api import BundleFailed, RuntimeView

if TYPE_CHECKING:
    from palyra_tui.state.local_runtime import LocalRuntime
    from palyra_tui.supervisor import Supervisor

log = logging.getLogger(__name__)

HEALTH_TIMEOUT = 3.0
"""Seconds the gateway has to answer ``/healthz``."""
DOCTOR_TIMEOUT = 60.0
"""Seconds the preflight checks may take (the keyring alone may take 10)."""


async def export_bundle(runtime: LocalRuntime, path: str = "") -> SupportBundle:
    """Gather, redact and write one support bundle (see ``RuntimeApi.support_bundle``)."""
    if path and not os.path.isabs(path):
        raise BundleFailed(f"no support bundle was written: {path} is not an absolute path")
    supervisor = runtime.supervisor
    config = supervisor.config
    view = runtime.view()
    now = runtime.clock.time()
    since = now - config.bundle.log_minutes * 60
    gateway, doctor, chat, logs = await asyncio.gather(
        _gateway(runtime, view),
        _doctor(runtime, view),
        _chat(runtime, view),
        asyncio.to_thread(_read_logs, supervisor, since),
    )
    sources = BundleSources(
        created_at=now,
        config=config,
        snapshot=supervisor.snapshot(),
        host_pid=os.getpid(),
        in_process=runtime.in_process,
        profile=view.profile,
        gateway=gateway,
        doctor=doctor,
        events=supervisor.events(),
        events_dropped=supervisor.journal.dropped,
        probes=supervisor.probe_history(),
        decisions=runtime.decisions.records(),
        chat=chat,
        logs=logs,
        log_since=since,
    )
    scrub = Scrubber(known_secrets(runtime))
    try:
        return await asyncio.to_thread(
            write_bundle, Path(view.state_dir), path, plan(sources), scrub, now
        )
    except PalyraError:
        raise
    except Exception as error:
        log.exception("writing a support bundle failed")
        raise BundleFailed(
            f"no support bundle was written: unexpected error ({type(error).__name__})"
        ) from None


def known_secrets(runtime: LocalRuntime) -> tuple[str, ...]:
    """Every secret value the runtime holds: what its redactor hides (the tokens, an
    OpenAI key sent through it, secret-named variables of its environment and of the
    services' ``env``), the tokens themselves and the remote profile's admin token."""
    supervisor = runtime.supervisor
    values = list(supervisor.redactor.secrets)
    try:
        tokens = supervisor.tokens
        values += [tokens.admin_token, tokens.browser_token]
    except PalyraError:
        pass  # not open: no token was loaded, none can have been used
    values.append(runtime.link.identity.admin_token)
    if runtime.link.remote is not None:
        values.append(runtime.link.remote.identity.admin_token)
    return tuple(value for value in values if value)


async def _gateway(runtime: LocalRuntime, view: RuntimeView) -> GatewayFacts:
    address = view.dashboard_url
    if not address:
        return GatewayFacts(problem="its address is not known (the gateway has not started)")
    try:
        http = await runtime.link.http(address)
        async with asyncio.timeout(HEALTH_TIMEOUT):
            health = await http.healthz()
    except TimeoutError:
        return GatewayFacts(None, address, f"no answer from {address} within {HEALTH_TIMEOUT:g} s")
    except ClientError as error:
        return GatewayFacts(None, address, f"{address}: {error}")
    except Exception as error:  # whatever the answer was, the bundle goes on without it
        log.exception("asking the gateway's /healthz for a support bundle failed")
        return GatewayFacts(None, address, f"{address}: unexpected error ({type(error).__name__})")
    return GatewayFacts(health, address)


async def _doctor(runtime: LocalRuntime, view: RuntimeView) -> DoctorFacts:
    checks = runtime.preflight
    if checks is None:
        return DoctorFacts(problem="this runtime has no preflight checks to run")
    try:
        async with asyncio.timeout(DOCTOR_TIMEOUT):
            return DoctorFacts(await checks(view.snapshot.supervisor, view.dashboard_url))
    except TimeoutError:
        return DoctorFacts(problem=f"they took longer than {DOCTOR_TIMEOUT:g} s")
    except Exception as error:
        log.exception("the preflight checks of a support bundle failed")
        return DoctorFacts(problem=f"{type(error).__name__}: {error}")


async def _chat(runtime: LocalRuntime, view: RuntimeView) -> ChatFacts:
    place = view.place
    if not place.session_id:
        return ChatFacts(place)
    session = next((s for s in view.snapshot.sessions if s.session_id == place.session_id), None)
    named = dict(view.chat.names).get(place.session_id, "")
    name = view.chat.name(session) if session is not None else named
    try:
        transcript = await runtime.transcript(place.session_id)
    except PalyraError as error:
        return ChatFacts(place, name, None, str(error))
    return ChatFacts(place, name, transcript)


def _read_logs(supervisor: Supervisor, since: float) -> tuple[ServiceLogs, ...]:
    """Each service's retained lines from ``since`` on (blocking: the store's lock)."""
    everything = supervisor.config.log_lines
    found = []
    for name in supervisor.service_names():
        lines = supervisor.tail(name, everything)
        found.append(ServiceLogs(name, tuple(line for line in lines if line.ts >= since)))
    return tuple(found)
