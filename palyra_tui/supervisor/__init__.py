"""The embedded process supervisor (no textual, no rich).

Start with :class:`Supervisor`; :class:`SupervisorApi` is the interface callers
should depend on.  The names below are imported on first use: a command that
needs one small module of the package (``down`` needs the instance lock's
reader) does not load the engine with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from palyra_tui.models.clock import Clock, ManualClock, SystemClock
    from palyra_tui.models.feeds import EventFeed, LogFeed
    from palyra_tui.supervisor.api import SupervisorApi
    from palyra_tui.supervisor.backoff import backoff_delay
    from palyra_tui.supervisor.definitions import RuntimeSecrets
    from palyra_tui.supervisor.supervisor import Supervisor

_HOMES = {
    "Clock": "palyra_tui.models.clock",
    "ManualClock": "palyra_tui.models.clock",
    "SystemClock": "palyra_tui.models.clock",
    "EventFeed": "palyra_tui.models.feeds",
    "LogFeed": "palyra_tui.models.feeds",
    "SupervisorApi": "palyra_tui.supervisor.api",
    "backoff_delay": "palyra_tui.supervisor.backoff",
    "RuntimeSecrets": "palyra_tui.supervisor.definitions",
    "Supervisor": "palyra_tui.supervisor.supervisor",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = [
    "Clock",
    "EventFeed",
    "LogFeed",
    "ManualClock",
    "RuntimeSecrets",
    "Supervisor",
    "SupervisorApi",
    "SystemClock",
    "backoff_delay",
]
