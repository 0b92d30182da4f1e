"""F8 and the palette's "Export support bundle": the runtime writes the bundle, and the key
line says where and how big it is, or why none was written."""

from __future__ import annotations

import re
import stat
import tarfile
from pathlib import Path

from palyra_tui.state.runtime_api import BundleFailed
from palyra_tui.ui.app import PalyraApp
from palyra_tui.ui.palette import palette_commands
from tests.snapshots.fixed import fixed_app, fixed_runtime
from tests.ui.conftest import gateway_ready, notices, until

SIZE = (110, 32)
WRITTEN = re.compile(r"support bundle written: (?P<path>/\S+\.tar\.gz) \((?P<size>[\d.]+ \w+)\)")


async def test_f8_writes_a_bundle_and_the_notice_names_its_path(demo_app: PalyraApp) -> None:
    async with demo_app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: gateway_ready(demo_app))
        await pilot.press("f8")
        await until(pilot, lambda: WRITTEN.search(notices(demo_app)) is not None, timeout=60)
        found = WRITTEN.search(notices(demo_app))
        assert found is not None
        path = Path(found.group("path"))
        state_dir = Path(demo_app.runtime.view().state_dir)
        assert path.parent == state_dir / "support-bundles"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with tarfile.open(path, "r:gz") as archive:
            names = {info.name.partition("/")[2] for info in archive.getmembers()}
        assert {"versions.txt", "timeline.txt", "logs/gateway.log"} <= names
        assert "writing a support bundle" in notices(demo_app)


async def test_the_palette_offers_it_and_a_failure_is_one_sentence() -> None:
    app = fixed_app(attached=True)
    runtime = fixed_runtime(app)
    runtime.bundle_failure = BundleFailed(
        "no support bundle was written: cannot write in /srv/x: no space is left on its device"
    )
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.follower.opened)
        titles = [command.title for command in palette_commands(app, app.screen, [])]
        assert "Export support bundle" in titles
        await pilot.press("f8")
        await until(pilot, lambda: "no space is left" in notices(app))
        assert runtime.bundles == [""]
        assert app.notice is not None and app.notice.severity == "error"
        runtime.bundle_failure = None
        await app.run_action("export_bundle")
        await until(pilot, lambda: "support-bundle-fixed.tar.gz (41.0 KiB)" in notices(app))
        assert runtime.bundles == ["", ""]
