"""Finding this machine's graphical browser, and opening a URL in it from a helper process."""

from __future__ import annotations

import asyncio
import html
import stat
import sys
import tempfile
import webbrowser
from pathlib import Path

import pytest

from palyra_tui.ui.browser import SystemBrowser, local_browser

URL = "http://127.0.0.1:7142/console/v1/auth/browser-handoff/consume?token=t0k3n"


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """A webbrowser registry that is built again from the environment below."""
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


@pytest.mark.parametrize("command", ["lynx", "w3m %s", "/usr/bin/links", "elinks"])
def test_a_text_mode_browser_does_not_count(
    fresh_registry: None, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("BROWSER", command)
    assert local_browser() is None


async def test_the_browser_gets_a_private_page_that_forwards_to_the_url(
    fresh_registry: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The one-time URL never reaches a command line (other users can read those): the
    browser is started on a 0600 page that forwards to it, removed once it has expired."""
    seen = tmp_path / "seen"
    fake = tmp_path / "fake-browser.py"
    fake.write_text(
        "import sys\n"
        f"open({str(seen)!r}, 'w').write(sys.argv[1])\n"
        "print('browser noise on stdout'); print('and on stderr', file=sys.stderr)\n"
    )
    monkeypatch.setenv("BROWSER", f"{sys.executable} {fake} %s")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    browser = local_browser()
    assert isinstance(browser, SystemBrowser)
    assert browser.name == Path(sys.executable).name
    kept = SystemBrowser(browser.name, keep_page=0)
    assert await kept.open(URL)
    opened = seen.read_text()
    assert opened.startswith("file://") and "token" not in opened
    page = Path(opened.removeprefix("file://"))
    await until_gone(page)
    assert await browser.open(URL)
    page = Path(seen.read_text().removeprefix("file://"))
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    assert stat.S_IMODE(page.parent.stat().st_mode) == 0o700
    assert f'content="0;url={html.escape(URL, quote=True)}"' in page.read_text()


async def until_gone(path: Path) -> None:
    """Wait until ``path`` is removed (it is, right after the open, with keep_page=0)."""
    async with asyncio.timeout(30):
        while path.exists():
            await asyncio.sleep(0.01)


async def test_a_browser_that_fails_is_reported(
    fresh_registry: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "failing-browser.py"
    fake.write_text("import sys\nsys.exit(3)\n")
    monkeypatch.setenv("BROWSER", f"{sys.executable} {fake} %s")
    browser = local_browser()
    assert browser is not None
    assert not await browser.open(URL)
