"""``palyra-tui doctor``: the preflight checks, headless, for a person or a script.

It starts nothing and works without a runtime host.  A config file that cannot
be used is one of the checks (blocked, with its one sentence), not a reason to
stop: the other checks then use the built-in defaults.  Exits 0 when nothing is
blocked (warnings included), 1 when something is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from palyra_tui.cli.exits import EXIT_ERROR, EXIT_OK
from palyra_tui.cli.formats import clean, dump, plural
from palyra_tui.config import Config, load_config, parse_config
from palyra_tui.config.load import STATE_ROOT_ENV
from palyra_tui.errors import ConfigError
from palyra_tui.host.preflight import CheckStatus, Preflight, run_preflight

INDENT = " " * 9


def load_for_doctor(path: Path | None, environ: Mapping[str, str]) -> tuple[Config, str]:
    """The config to check, and why the file could not be used ("" when it could)."""
    try:
        return load_config(path, environ), ""
    except ConfigError as error:
        problem = str(error)
    try:
        return parse_config({}, None, environ), problem
    except ConfigError:
        rest = {name: value for name, value in environ.items() if name != STATE_ROOT_ENV}
        return parse_config({}, None, rest), problem


async def run_doctor(path: Path | None, *, as_json: bool) -> int:
    """Run the checks and print them; the exit code says whether one is blocked."""
    environ = dict(os.environ)
    config, problem = load_for_doctor(path, environ)
    result = await run_preflight(config, environ, config_problem=problem)
    text = dump(doctor_document(config, result)) if as_json else render_doctor(config, result)
    sys.stdout.write(text)
    sys.stdout.flush()
    return EXIT_ERROR if result.status is CheckStatus.BLOCKED else EXIT_OK


def doctor_document(config: Config, result: Preflight) -> dict[str, Any]:
    """The ``doctor --json`` document."""
    return {
        "status": result.status.value,
        "state_root": str(config.state_root),
        "blocked": result.blocked,
        "warnings": result.warnings,
        "checks": [
            {
                "key": check.key,
                "label": check.label,
                "status": check.status.value,
                "detail": check.detail,
                "hint": check.hint,
            }
            for check in result.checks
        ],
    }


def render_doctor(config: Config, result: Preflight) -> str:
    """One line per check (status and label), its detail and hint indented below."""
    lines = [f"state root {clean(str(config.state_root))}", ""]
    for check in result.checks:
        lines.append(f"{check.status.value:<8} {check.label}")
        lines.append(INDENT + clean(check.detail))
        if check.hint:
            lines.append(INDENT + "hint: " + clean(check.hint))
    lines.append("")
    if result.blocked:
        summary = f"{plural(result.blocked, 'check')} blocked"
        if result.warnings:
            summary += f", {plural(result.warnings, 'warning')}"
        lines.append(summary + ": the runtime cannot work until the blocked checks are fixed")
    elif result.warnings:
        lines.append(f"nothing blocked, {plural(result.warnings, 'warning')}")
    else:
        lines.append(f"all {len(result.checks)} checks ok")
    return "\n".join(lines) + "\n"
