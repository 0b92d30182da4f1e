"""The graphical web browser of this machine, if it has one, and opening a URL in it.

Python's ``webbrowser`` also finds text-mode browsers (lynx, w3m, links); one of
those would take over the terminal palyra-tui draws in, so they do not count.
A URL is opened from a helper process whose output goes nowhere: whatever the
browser or ``xdg-open`` prints must not land on the screen.  The URL reaches the
helper on a pipe, not on its command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import webbrowser
from pathlib import PurePath
from typing import Protocol

TEXT_MODE = frozenset(
    {
        "browsh",
        "carbonyl",
        "elinks",
        "links",
        "links2",
        "lynx",
        "netrik",
        "w3m",
        "www-browser",
    }
)
"""Browsers that run in the terminal they are started from."""
OPEN_WAIT = 15.0
"""Seconds to wait for the helper to say whether the browser took the URL."""
_HELPER = (
    "import sys, webbrowser\n"
    "sys.exit(0 if webbrowser.open(sys.stdin.readline().strip(), new=2) else 1)\n"
)


class Browser(Protocol):
    """Something that shows a URL to the operator on this machine."""

    @property
    def name(self) -> str:
        """What the operator calls it (``firefox``, ``xdg-open``)."""
        ...

    async def open(self, url: str) -> bool:
        """True once the browser took the URL."""
        ...


class SystemBrowser:
    """The default browser, opened from a helper process with no terminal."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    async def open(self, url: str) -> bool:
        """Start the helper and hand it the URL; True when it reports success, or is still
        waiting for a browser that runs in the foreground after :data:`OPEN_WAIT`."""
        try:
            helper = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                _HELPER,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError:
            return False
        assert helper.stdin is not None
        with contextlib.suppress(OSError):
            helper.stdin.write(url.encode("ascii") + b"\n")
            await helper.stdin.drain()
            helper.stdin.close()
        try:
            async with asyncio.timeout(OPEN_WAIT):
                return await helper.wait() == 0
        except TimeoutError:
            return True


def local_browser() -> Browser | None:
    """The default graphical browser, or None (blocking: ``webbrowser`` may run
    ``xdg-settings`` to find it, so call it in a thread).  It reads the process's
    own environment (``BROWSER``, ``DISPLAY``, ``WAYLAND_DISPLAY``)."""
    try:
        controller = webbrowser.get()
    except webbrowser.Error:
        return None
    raw = getattr(controller, "name", "") or type(controller).__name__
    name = PurePath(str(raw).split()[0] if str(raw).split() else str(raw)).name
    if not name or name.lower() in TEXT_MODE:
        return None
    return SystemBrowser(name)
