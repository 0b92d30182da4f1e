"""palyra-browserd's engine modes and the environment variables that choose them.

palyra-tui passes the engine mode and the Chromium path to browserd through its
environment, the reference browserd reads them the way palyra-browserd does, and
``doctor`` works out from them whether browserd will find a Chromium to launch.
"""

from __future__ import annotations

import enum

ENGINE_MODE_ENV = "PALYRA_BROWSERD_ENGINE_MODE"
"""browserd's engine mode; a recognised value wins over ``--engine-mode``."""
CHROMIUM_PATH_ENV = "PALYRA_BROWSERD_CHROMIUM_PATH"
"""The Chromium browserd launches; ``--chromium-path`` wins over it."""


class BrowserEngine(enum.Enum):
    """How browserd runs a browser session.

    CHROMIUM   a headless Chromium launched for each session (palyra's default)
    SIMULATED  no browser: pages are fetched over HTTP, actions are simulated
    """

    CHROMIUM = "chromium"
    SIMULATED = "simulated"


def engine_from_env(value: str | None, default: BrowserEngine) -> BrowserEngine:
    """The mode browserd uses: ``value`` (trimmed, any case) when it names one, else
    ``default`` (the ``--engine-mode`` flag), as palyra-browserd decides it."""
    text = (value or "").strip().lower()
    for engine in BrowserEngine:
        if engine.value == text:
            return engine
    return default


__all__ = ["CHROMIUM_PATH_ENV", "ENGINE_MODE_ENV", "BrowserEngine", "engine_from_env"]
