"""Finding this machine's graphical browser, and opening a URL in it from a helper process."""

from __future__ import annotations

import sys
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


async def test_the_url_reaches_the_browser_through_a_quiet_helper(
    fresh_registry: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = tmp_path / "seen"
    fake = tmp_path / "fake-browser.py"
    fake.write_text(
        "import sys\n"
        f"open({str(seen)!r}, 'w').write(sys.argv[1])\n"
        "print('browser noise on stdout'); print('and on stderr', file=sys.stderr)\n"
    )
    monkeypatch.setenv("BROWSER", f"{sys.executable} {fake} %s")
    browser = local_browser()
    assert isinstance(browser, SystemBrowser)
    assert browser.name == Path(sys.executable).name
    assert await browser.open(URL)
    assert seen.read_text() == URL


async def test_a_browser_that_fails_is_reported(
    fresh_registry: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "failing-browser.py"
    fake.write_text("import sys\nsys.exit(3)\n")
    monkeypatch.setenv("BROWSER", f"{sys.executable} {fake} %s")
    browser = local_browser()
    assert browser is not None
    assert not await browser.open(URL)
