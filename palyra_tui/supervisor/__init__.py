"""The embedded process supervisor (no textual, no rich).

Start with :class:`Supervisor`; :class:`SupervisorApi` is the interface callers
should depend on.
"""

from palyra_tui.models.clock import Clock, ManualClock, SystemClock
from palyra_tui.models.feeds import EventFeed, LogFeed
from palyra_tui.supervisor.api import SupervisorApi
from palyra_tui.supervisor.backoff import backoff_delay
from palyra_tui.supervisor.definitions import RuntimeSecrets
from palyra_tui.supervisor.supervisor import Supervisor

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
