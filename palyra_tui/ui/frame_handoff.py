"""A short GIL switch interval while the control center runs.

Textual writes each frame to the terminal from a thread of its own.  At
Python's default switch interval (5 ms) a finished frame can wait that long
for the event loop's thread, busy with the next batch of log lines under a
flood, to let go of the GIL, and every key's echo on screen waits with it.
At 1 ms the writer runs within a millisecond; the few threads this process
runs make the extra switches cost nothing measurable.
"""

from __future__ import annotations

import sys

SWITCH_INTERVAL = 0.001
"""Seconds a thread may hold the GIL while another waits for it."""


class FrameHandoff:
    """Sets the switch interval while the app runs; one per app."""

    def __init__(self) -> None:
        self._saved: float | None = None

    @property
    def installed(self) -> bool:
        return self._saved is not None

    def install(self) -> None:
        if self._saved is None:
            self._saved = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_INTERVAL)

    def uninstall(self) -> None:
        """Give the process back the interval it had."""
        if self._saved is not None:
            sys.setswitchinterval(self._saved)
            self._saved = None
