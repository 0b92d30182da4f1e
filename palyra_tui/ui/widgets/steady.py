"""A ``Static`` that repaints only when what it shows has changed.

Screens patch their text on every snapshot; most snapshots change nothing the
operator can see.  Skipping equal updates keeps an idle screen silent on the
wire, which is what an operator on a slow SSH link notices first.
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
        super().update(content, layout=layout)


def _same(old: VisualType | None, new: VisualType) -> bool:
    if isinstance(old, Text) and isinstance(new, Text):
        return old == new and old.style == new.style
    if isinstance(old, str) and isinstance(new, str):
        return old == new
    return False
