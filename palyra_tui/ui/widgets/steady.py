"""A ``Static`` that repaints only when what it shows has changed, and lays the screen
out again only when its height changed; and a one-row line drawn without Textual's
content path.

Screens patch their text on every snapshot; most snapshots change nothing the
operator can see.  Skipping equal updates keeps an idle screen silent on the
wire, which is what an operator on a slow SSH link notices first.  A new text
of the same height (an uptime ticking in the facts line) is a repaint of this
widget alone, not a layout of the whole screen.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.strip import Strip
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


class OneLine(SteadyStatic):
    """A line of styled text one row high, drawn straight from its rich ``Text``.

    ``Static`` turns each new text into Textual content, measures its height and
    draws it through that content.  The tab line and the key line change on every
    pane switch, and that path cost the two of them as much as all the log rows on
    screen; here a new text is a repaint of one row, drawn by rich.  A text wider
    than the row is cut with an ellipsis when its overflow asks for one.
    """

    DEFAULT_CSS = """
    OneLine {
        height: 1;
    }
    """

    _text: Text = Text()
    _drawn: tuple[int, Style, Strip] | None = None

    def update(self, content: VisualType = "", *, layout: bool = False) -> None:
        text = content if isinstance(content, Text) else Text(str(content))
        if _same(self._text, text):
            return
        self._text = text
        self._drawn = None
        self.refresh()

    def render(self) -> RenderResult:
        return self._text

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style = self.rich_style
        if y:
            return Strip.blank(width, style)
        drawn = self._drawn
        if drawn is None or drawn[:2] != (width, style):
            text = self._text.copy()
            if text.overflow == "ellipsis":
                text.truncate(width, overflow="ellipsis")
            segments = [
                Segment(segment.text.replace("\n", " "), segment.style, segment.control)
                for segment in text.render(self.app.console)
            ]
            blank = Style(bgcolor=style.bgcolor)
            strip = Strip(segments).apply_style(style).crop_extend(0, width, blank)
            drawn = self._drawn = (width, style, strip)
        return drawn[2]
