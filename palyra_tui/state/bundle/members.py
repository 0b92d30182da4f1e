"""The members of a support bundle that describe the runtime: versions, config, doctor and
logs, each as plain text (the doctor also as JSON).  Times are UTC, to the millisecond.

Each member is rendered when the archive writes it, so only one is in memory at a time,
and each is redacted then (:mod:`palyra_tui.state.bundle.scrub`).
"""

from __future__ import annotations

import json
import platform
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

import tomli_w

from palyra_tui import __version__
from palyra_tui.config import Config, ServiceConfig
from palyra_tui.models import LogLine, ServiceSnapshot, SupervisorSnapshot
from palyra_tui.state.bundle.history import approvals_text, health_text, timeline_text
from palyra_tui.state.bundle.sources import BundleSources
from palyra_tui.state.bundle.transcript import transcript_text
from palyra_tui.state.doctor_report import doctor_document, render_doctor
from palyra_tui.text import MARK
from palyra_tui.text.redact import is_sensitive_key

Render = Callable[[], str]


def utc(at: float) -> str:
    """``2026-12-03T11:00:40.123Z``."""
    whole = int(at)
    millis = round((at - whole) * 1000)
    if millis == 1000:
        whole, millis = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def plan(sources: BundleSources) -> list[tuple[str, Render]]:
    """Every member's name and how to render it, in the order they are written."""
    members: list[tuple[str, Render]] = [
        ("versions.txt", lambda: versions_text(sources)),
        ("config.toml", lambda: config_text(sources.config, sources.snapshot)),
        ("doctor.txt", lambda: doctor_text(sources)),
        ("doctor.json", lambda: doctor_json(sources)),
        ("timeline.txt", lambda: timeline_text(sources, utc)),
        ("health.txt", lambda: health_text(sources, utc)),
        ("approvals.txt", lambda: approvals_text(sources, utc)),
        ("transcript.txt", lambda: transcript_text(sources.chat, utc)),
    ]
    for logs in sources.logs:
        lines = logs.lines

        def render(service: str = logs.service, lines: tuple[LogLine, ...] = lines) -> str:
            return logs_text(service, lines, sources)

        members.append((f"logs/{logs.service}.log", render))
    return members


# Versions -------------------------------------------------------------------------------


def versions_text(sources: BundleSources) -> str:
    """What runs: palyra-tui, Python, the system, palyrad (or why it did not answer)."""
    uname = platform.uname()
    gateway = sources.gateway
    health = gateway.health
    if health is not None:
        extras = [f"service {health.service or '?'}"]
        extras.append(f"git {health.git_hash or 'unknown'}")
        if health.build_profile:
            extras.append(f"build {health.build_profile}")
        palyrad = f"{health.version or 'unknown'} ({', '.join(extras)}) at {gateway.address}"
    else:
        palyrad = f"not reachable: {gateway.problem}"
    host = "in-process (no runtime host)" if sources.in_process else f"host pid {sources.host_pid}"
    profile = sources.profile
    rows = [
        ("created", utc(sources.created_at)),
        ("palyra-tui", __version__),
        ("python", f"{platform.python_implementation()} {sys.version.split()[0]}"),
        ("system", f"{uname.system} {uname.release} {uname.machine}"),
        ("palyrad", palyrad),
        ("runtime", host),
        ("profile", f"{profile.name} ({'remote' if profile.remote else 'local'})"),
        ("state root", str(sources.config.state_root)),
        ("logs", f"the last {sources.config.bundle.log_minutes} min of every service"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = ["palyra-tui support bundle", ""]
    lines += [f"{name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines) + "\n"


# Config ---------------------------------------------------------------------------------


def config_text(config: Config, snapshot: SupervisorSnapshot) -> str:
    """The config as the runtime resolved it, defaults filled in, as TOML; the values of
    secret-named ``env`` keys are replaced before anything else sees them."""
    source = str(config.path) if config.path is not None else "no file: the built-in defaults"
    header = [
        "# palyra-tui's configuration as the runtime resolved it (defaults filled in)",
        f"# read from {source}",
        f"# the daemons' directory (their PALYRA_STATE_ROOT): {config.runtime_root}",
    ]
    header += [f"# the active profile gives every service {k}={v}" for k, v in config.profile_env]
    runtime = config.runtime
    runtime_table: dict[str, Any] = {
        "principal": runtime.principal,
        "device_id": runtime.device_id,
        "admin_port": runtime.admin_port,
        "grpc_port": runtime.grpc_port,
        "quic_port": runtime.quic_port,
        "browserd_port": runtime.browserd_port,
        "browserd_grpc_port": runtime.browserd_grpc_port,
        "browser_service": runtime.browser_service,
        "browser_engine": runtime.browser_engine.value,
    }
    if runtime.browser_chromium_path is not None:
        runtime_table["browser_chromium_path"] = runtime.browser_chromium_path
    document: dict[str, Any] = {
        "state_root": str(config.state_root),
        "log_lines": config.log_lines,
        "log_mib": config.log_mib,
        "log_total_mib": config.log_total_mib,
        "bundle": {"log_minutes": config.bundle.log_minutes},
        "runtime": runtime_table,
        "services": {
            service.name: _service_table(service, snapshot.get(service.name))
            for service in config.services
        },
    }
    return "\n".join(header) + "\n\n" + tomli_w.dumps(document)


def _service_table(service: ServiceConfig, state: ServiceSnapshot | None) -> dict[str, Any]:
    table: dict[str, Any] = {"kind": service.kind.value}
    enabled = state.enabled if state is not None else service.enabled
    if enabled is not None:
        table["enabled"] = enabled
    if service.command is not None:
        table["command"] = list(service.command)
    elif state is not None and state.binary:
        table["binary"] = state.binary
    if service.cwd is not None:
        table["cwd"] = service.cwd
    if service.health_url is not None:
        table["health_url"] = service.health_url
    table["restart"] = service.restart.value
    table["stop_signal"] = signal.Signals(service.stop_signal).name
    table["stop_timeout"] = service.stop_timeout
    table["max_restarts"] = service.max_restarts
    table["health_interval"] = service.health_interval
    table["health_timeout"] = service.health_timeout
    table["start_grace"] = service.start_grace
    if service.env:
        table["env"] = {key: MARK if is_sensitive_key(key) else value for key, value in service.env}
    return table


# Doctor ---------------------------------------------------------------------------------


def doctor_text(sources: BundleSources) -> str:
    """``palyra-tui doctor``'s text, as the runtime ran the checks."""
    doctor = sources.doctor
    if doctor.result is None:
        return f"The preflight checks did not run: {doctor.problem}\n"
    return render_doctor(sources.config, doctor.result)


def doctor_json(sources: BundleSources) -> str:
    """``palyra-tui doctor --json``'s document (``{"error": …}`` when the checks did not run)."""
    doctor = sources.doctor
    if doctor.result is None:
        document: dict[str, Any] = {"error": f"the preflight checks did not run: {doctor.problem}"}
    else:
        document = doctor_document(sources.config, doctor.result)
    return json.dumps(document, ensure_ascii=True, indent=2) + "\n"


# Logs -----------------------------------------------------------------------------------


def logs_text(service: str, lines: tuple[LogLine, ...], sources: BundleSources) -> str:
    """One service's lines of the window: ``TIME STREAM LEVEL target: text``."""
    minutes = sources.config.bundle.log_minutes
    kept = sum(1 for line in lines if not line.is_gap)
    out = [
        f"# {service}: its lines of the last {minutes} min (since {utc(sources.log_since)}), "
        f"oldest first: {kept} line{'s' if kept != 1 else ''}",
    ]
    for line in lines:
        if line.is_gap:
            out.append(f"{utc(line.ts)} ⟂ {line.dropped} lines dropped (rotated out first)")
            continue
        level = line.level.name if line.level is not None else "-"
        target = f"{line.target}: " if line.target else ""
        out.append(f"{utc(line.ts)} {line.stream.value} {level} {target}{line.text}")
    return "\n".join(out) + "\n"
