"""F8 (or the palette's "Export support bundle"): the runtime writes a support bundle, and
the key line says where and how big it is, or why none was written."""

from __future__ import annotations

from typing import TYPE_CHECKING

from palyra_tui.errors import PalyraError

if TYPE_CHECKING:
    from palyra_tui.ui.app import PalyraApp

GROUP = "support bundle"
SHOWN_FOR = 30.0
"""Seconds the notice stays: a path is long to read and to copy."""


def export_bundle(app: PalyraApp) -> None:
    """Ask the runtime for a bundle in its default place; one at a time."""
    if any(worker.group == GROUP and not worker.is_finished for worker in app.workers):
        app.notify("a support bundle is being written already", timeout=3)
        return
    app.notify("writing a support bundle…", timeout=SHOWN_FOR)

    async def write() -> None:
        try:
            bundle = await app.runtime.support_bundle()
        except PalyraError as error:
            app.notify(str(error), severity="error", markup=False)
            return
        except Exception as error:  # a bug must still end in a sentence, not in silence
            kind = type(error).__name__
            app.notify(
                f"no support bundle was written: unexpected error ({kind})", severity="error"
            )
            return
        app.notify(
            f"support bundle written: {bundle.path} ({bundle.shown_size}); read it before "
            "you attach it to a bug report",
            timeout=SHOWN_FOR,
            markup=False,
        )

    app.run_worker(write(), group=GROUP, exit_on_error=False)
