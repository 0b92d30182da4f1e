"""The preflight's browser engine check: will browserd find a Chromium it can launch?

browserd starts and answers its health check without any browser; in its
``chromium`` engine mode it launches a headless Chromium for each browser session,
so a missing Chromium only shows when a session is created, and then every
session fails.  This check finds the Chromium the way browserd would: the path it
is given (``--chromium-path``, else ``PALYRA_BROWSERD_CHROMIUM_PATH``), else the
headless_chrome crate's search (``$CHROME`` if that file exists, else the first of
its browser names on ``PATH``).  browserd launches Chromium with its sandbox on,
which Chromium refuses as root, so root is a warning too.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from palyra_tui.config import Config
from palyra_tui.host.checks import Check, CheckStatus
from palyra_tui.models.browser import (
    CHROMIUM_PATH_ENV,
    ENGINE_MODE_ENV,
    BrowserEngine,
    engine_from_env,
)
from palyra_tui.supervisor.definitions import ServiceDefinition, browserd_engine_env

CHROMIUM_NAMES = (
    "google-chrome-stable",
    "google-chrome-beta",
    "google-chrome-dev",
    "google-chrome-unstable",
    "chromium",
    "chromium-browser",
    "microsoft-edge-stable",
    "microsoft-edge-beta",
    "microsoft-edge-dev",
    "chrome",
    "chrome-browser",
    "msedge",
    "microsoft-edge",
)
"""The names headless_chrome looks for on ``PATH``, in its order."""

MACOS_BROWSERS = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Google Chrome Beta.app/Contents/MacOS/Google Chrome Beta",
    "/Applications/Google Chrome Dev.app/Contents/MacOS/Google Chrome Dev",
    "/Applications/Google Chrome Canary.app/Contents/MacOS/Google Chrome Canary",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    "/Applications/Microsoft Edge Beta.app/Contents/MacOS/Microsoft Edge Beta",
    "/Applications/Microsoft Edge Dev.app/Contents/MacOS/Microsoft Edge Dev",
    "/Applications/Microsoft Edge Canary.app/Contents/MacOS/Microsoft Edge Canary",
)
"""Where headless_chrome looks on macOS when no name is on ``PATH``."""

KEY, LABEL = "browser_engine", "Browser engine"
SESSIONS_FAIL = "browserd starts and answers its health check, but every browser session fails"
SIMULATED_HINT = 'set browser_engine = "simulated" under [runtime] (it needs no browser)'
MISSING_HINT = (
    "install Chromium (for example `apt-get install chromium`), set browser_chromium_path "
    "under [runtime] to its absolute path, or " + SIMULATED_HINT
)
ROOT_HINT = "run palyra-tui and its daemons as a user other than root, or " + SIMULATED_HINT


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """What browserd will be told about its engine, and where it looks for Chromium."""

    engine: BrowserEngine
    chromium_path: str | None
    """The path browserd is given (None: it searches)."""
    path_source: str
    """Where that path comes from, for the detail."""
    env: Mapping[str, str] = field(repr=False)
    """browserd's environment (its ``PATH`` and ``CHROME``)."""
    cwd: Path
    """browserd's working directory, against which a relative path is taken."""


def engine_settings(
    definition: ServiceDefinition, config: Config, environ: Mapping[str, str]
) -> EngineSettings:
    """browserd's engine mode and Chromium path, as the supervisor would start it."""
    service = definition.config
    env = dict(environ)
    env.update(browserd_engine_env(config))
    env.update(dict(config.profile_env))
    env.update(dict(service.env))
    args = service.command[1:] if service.command else ()
    flag_mode = _flag(args, "--engine-mode")
    default = engine_from_env(flag_mode, BrowserEngine.CHROMIUM)
    engine = engine_from_env(env.get(ENGINE_MODE_ENV), default)
    flag_path = _flag(args, "--chromium-path")
    where = f"services.{service.name}"
    if flag_path is not None:
        path: str | None = flag_path
        source = f"--chromium-path in {where}.command"
    elif CHROMIUM_PATH_ENV in env:
        path = env[CHROMIUM_PATH_ENV]
        if any(key == CHROMIUM_PATH_ENV for key, _ in service.env):
            source = f"{where}.env"
        elif config.runtime.browser_chromium_path is not None:
            source = "runtime.browser_chromium_path"
        else:
            source = f"{CHROMIUM_PATH_ENV} in palyra-tui's environment"
    else:
        path, source = None, ""
    cwd = Path(service.cwd) if service.cwd else config.runtime_root
    return EngineSettings(engine, path, source, env, cwd)


def _flag(args: Sequence[str], name: str) -> str | None:
    """The value of ``name`` in ``args`` (``--name VALUE`` or ``--name=VALUE``), last wins."""
    value: str | None = None
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            value = args[index + 1]
        elif arg.startswith(name + "="):
            value = arg[len(name) + 1 :]
    return value


def check_browser_engine(
    definition: ServiceDefinition,
    config: Config,
    environ: Mapping[str, str],
    euid: int | None = None,
) -> Check:
    """Whether browserd's engine can run browser sessions here (blocking: it looks at files)."""
    if not definition.enabled:
        reason = definition.disabled_reason or "it is disabled"
        return Check(
            KEY, LABEL, CheckStatus.OK, f"browserd does not run: {reason}; it needs no browser"
        )
    settings = engine_settings(definition, config, environ)
    if settings.engine is BrowserEngine.SIMULATED:
        return Check(
            KEY,
            LABEL,
            CheckStatus.OK,
            "simulated: browserd launches no browser; it fetches pages over HTTP without "
            "running their scripts, and simulates clicks, typing and screenshots",
        )
    as_root = (os.geteuid() if euid is None else euid) == 0
    found, problem = locate_chromium(settings)
    if found is None:
        detail = f"chromium: {problem}; {SESSIONS_FAIL}"
        if as_root:
            detail += "; and as root, Chromium's sandbox would refuse to start"
        return Check(KEY, LABEL, CheckStatus.WARNING, detail, MISSING_HINT)
    if as_root:
        return Check(
            KEY,
            LABEL,
            CheckStatus.WARNING,
            f"chromium: {found}, but palyra-tui runs as root: browserd launches Chromium "
            f"with its sandbox on, which Chromium refuses as root, so every browser session "
            f"fails",
            ROOT_HINT,
        )
    return Check(
        KEY,
        LABEL,
        CheckStatus.OK,
        f"chromium: {found}; browserd launches it for each browser session",
    )


def locate_chromium(settings: EngineSettings) -> tuple[str | None, str]:
    """The Chromium browserd would launch, described with where it came from, or None
    and why there is none."""
    if settings.chromium_path is not None:
        return _given(settings)
    env = settings.env
    chrome = env.get("CHROME")
    if chrome is not None and os.path.exists(chrome):
        return f"{chrome} (CHROME)", ""
    search = env.get("PATH", os.defpath)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name, path=search)
        if found:
            return f"{found} (found on PATH)", ""
    if sys.platform == "darwin":
        for app in MACOS_BROWSERS:
            if os.path.exists(app):
                return f"{app} (found in /Applications)", ""
    return None, (
        "no Chromium or Chrome found: none of the names browserd looks for "
        "(chromium, chromium-browser, google-chrome-stable, chrome and others) is on its PATH"
    )


def _given(settings: EngineSettings) -> tuple[str | None, str]:
    """Check the path browserd is given: it must be an executable file."""
    text = settings.chromium_path or ""
    source = settings.path_source
    if text and os.sep not in text:
        found = shutil.which(text, path=settings.env.get("PATH", os.defpath))
        if found is None:
            return None, f"'{text}' ({source}) is not on browserd's PATH"
        return f"{found} ({source})", ""
    path = Path(text)
    if not path.is_absolute():
        path = settings.cwd / path
    if not text or not path.exists():
        return None, f"'{text}' ({source}) does not exist"
    if not path.is_file():
        return None, f"{text} ({source}) is not a file"
    if not os.access(path, os.X_OK):
        return None, f"{text} ({source}) is not executable"
    return f"{text} ({source})", ""


__all__ = [
    "CHROMIUM_NAMES",
    "EngineSettings",
    "check_browser_engine",
    "engine_settings",
    "locate_chromium",
]
