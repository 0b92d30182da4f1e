"""A ``Static`` that repaints only when what it shows has changed, and lays the screen
out again only when its height changed.

Screens patch their text on every snapshot; most snapshots change nothing the
operator can see.  Skipping equal updates keeps an idle screen silent on the
wire, which is what an operator on a slow SSH link notices first.  A new text
of the same height (an uptime ticking in the facts line) is a repaint of this
widget alone, not a layout of the whole screen.
"""

from __future__ import annotations

from rich.text import Text
from textual.visual import VisualType
from textual.widgets import Static


class SteadyStatic(Static):
    """Static text that ignores an update equal to the one it already shows."""

    _shown: VisualType | None = None

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        if _same(self._shown, content):
            return
        self._shown = content
        super().update(content, layout=layout and not self._fixed_width)
        if layout and self._fixed_width:
            height = self.get_content_height(
                self.container_size, self.app.size, self.content_size.width
            )
            if height != self.content_size.height:
                self.refresh(layout=True)

    @property
    def _fixed_width(self) -> bool:
        """Laid out already, at a width its text does not decide (no width fills the parent)."""
        width = self.styles.width
        return self.content_size.width > 0 and (width is None or not width.is_auto)


def _same(old: VisualType | None, new: VisualType) -> bool:
    if isinstance(old, Text) and isinstance(new, Text):
        return old == new and old.style == new.style
    if isinstance(old, str) and isinstance(new, str):
        return old == new
    return False
