"""The graphical web browser of this machine, if it has one, and opening a URL in it.

Python's ``webbrowser`` also finds text-mode browsers (lynx, w3m, links); one of
those would take over the terminal palyra-tui draws in, so they do not count.
A URL is opened from a helper process whose output goes nowhere: whatever the
browser or ``xdg-open`` prints must not land on the screen.

A handoff URL carries a one-time token, and a browser is started with what it
opens on its command line, which every local user can read in ``/proc``.  So
the browser is handed a page instead: a file only the operator can read (0600,
in a 0700 directory) that sends the browser on to the URL, removed once the
token has expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import shutil
import subprocess
import sys
import tempfile
import webbrowser
from pathlib import Path, PurePath
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
KEEP_PAGE = 60.0
"""Seconds the page that forwards to a handoff URL is kept: the token's lifetime."""
_HELPER = (
    "import sys, webbrowser\n"
    "sys.exit(0 if webbrowser.open(sys.stdin.readline().strip(), new=2) else 1)\n"
)


def forwarding_page(url: str) -> Path:
    """A private page that sends a browser on to ``url`` (blocking: writes a file)."""
    directory = Path(tempfile.mkdtemp(prefix="palyra-dashboard-"))
    page = directory / "open.html"
    quoted = html.escape(url, quote=True)
    text = (
        "<!doctype html><meta charset=utf-8>"
        f'<meta http-equiv="refresh" content="0;url={quoted}">'
        f'<title>Palyra dashboard</title><a href="{quoted}">Open the Palyra dashboard</a>\n'
    )
    fd = os.open(page, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return page


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

    def __init__(self, name: str, keep_page: float = KEEP_PAGE) -> None:
        self._name = name
        self._keep_page = keep_page

    @property
    def name(self) -> str:
        return self._name

    async def open(self, url: str) -> bool:
        """Start the helper and hand it a forwarding page for the URL; True when it reports
        success, or is still waiting for a browser that runs in the foreground after
        :data:`OPEN_WAIT`.  The page is removed :data:`KEEP_PAGE` seconds later."""
        try:
            page = await asyncio.to_thread(forwarding_page, url)
        except OSError:
            return False
        loop = asyncio.get_running_loop()
        loop.call_later(
            self._keep_page, lambda: loop.run_in_executor(None, shutil.rmtree, page.parent, True)
        )
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
            helper.stdin.write(page.as_uri().encode("ascii") + b"\n")
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
