"""Support bundles: one archive an operator attaches to a bug report.

``sources`` holds what a bundle is made of, ``export`` gathers it from the
runtime, ``members`` (with ``history`` and ``transcript``) renders each member
as text, ``scrub`` redacts every member, and ``archive`` writes the file.
"""

from palyra_tui.state.bundle.export import export_bundle

__all__ = ["export_bundle"]
