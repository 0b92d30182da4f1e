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

from palyra_tui.cli.exits import EXIT_ERROR, EXIT_OK
from palyra_tui.cli.formats import dump
from palyra_tui.config import Config, load_config, parse_config
from palyra_tui.config.load import STATE_ROOT_ENV
from palyra_tui.errors import ConfigError
from palyra_tui.host.preflight import CheckStatus, run_preflight
from palyra_tui.state.doctor_report import doctor_document, render_doctor

__all__ = ["doctor_document", "load_for_doctor", "render_doctor", "run_doctor"]


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
