"""The open session's transcript, drawn line by line.

Each item is wrapped once for the current width and kept as lines; a token
that grows the streaming answer re-wraps that item alone and redraws its
lines.  One widget per item (as the transcript first was) made every token a
layout of the whole screen over every card, about 40 ms with 200 items on
screen; here a token that adds no line is a repaint of that answer's lines,
and one that adds a line moves nothing but the scroll range.  The scrollbar's
gutter is always kept, so the scrollbar appearing never changes the width the
items were wrapped at.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from palyra_tui.state.chat import ChatItem, ToolItem

Render = Callable[[ChatItem], Text]
"""How an item reads (the chat pane's ``render_item`` with the runs in flight)."""

_TOOL_BAR = "▌"


class TranscriptView(ScrollView, can_focus=True):
    """The items of one transcript, a blank line after each, following the newest."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"transcript-view--tool-bar"}
    DEFAULT_CSS = """
    TranscriptView {
        background: $surface;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-gutter: stable;
        & > .transcript-view--tool-bar {
            color: $secondary;
        }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "scroll_up", "Scroll up", show=False),
        Binding("down", "scroll_down", "Scroll down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "First item", show=False),
        Binding("end", "scroll_end", "Newest item", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._items: list[ChatItem] = []
        self._keys: list[tuple[ChatItem, bool]] = []
        """Each item as last drawn, with the cursor flag it was drawn with."""
        self._lines: list[list[Strip]] = []
        self._starts: list[int] = []
        """The first line of each item."""
        self._wrapped_at = 0
        self._reads: Render = lambda item: Text()

    @property
    def item_count(self) -> int:
        """How many items are shown."""
        return len(self._items)

    @property
    def line_count(self) -> int:
        """How many lines the items take, blank separators included."""
        return self._starts[-1] + len(self._lines[-1]) if self._lines else 0

    def show(self, items: Sequence[ChatItem], cursors: Sequence[bool], render: Render) -> None:
        """Show ``items`` (``cursors`` says which are drawn with a cursor): the lines of the
        items that changed are redrawn, and the rest stay as they are."""
        self._reads = render
        if self._width != self._wrapped_at:
            self._keys = []
            self._wrapped_at = self._width
        keys = list(zip(items, cursors, strict=True))
        first = next(
            (
                index
                for index, (new, old) in enumerate(zip(keys, self._keys, strict=False))
                if new[0] is not old[0] or new[1] != old[1]
            ),
            min(len(keys), len(self._keys)),
        )
        if first == len(keys) == len(self._keys):
            return
        following = self.scroll_y >= self.max_scroll_y
        changed = [
            index
            for index in range(first, len(keys))
            if index >= len(self._keys)
            or keys[index][0] is not self._keys[index][0]
            or keys[index][1] != self._keys[index][1]
        ]
        old_total = self.line_count
        old_lines = {index: self._lines[index] for index in changed if index < len(self._lines)}
        self._items = list(items)
        self._keys = keys
        del self._lines[len(keys) :]
        for index in changed:
            lines = self._wrap(index)
            if index < len(self._lines):
                self._lines[index] = lines
            else:
                self._lines.append(lines)
        moved = len(keys) != len(self._starts) or any(
            len(self._lines[index]) != len(before) for index, before in old_lines.items()
        )
        self._restart(first)
        if moved or self.line_count != old_total:
            self.virtual_size = Size(self.size.width, self.line_count)
            self._refresh_lines(self._starts[first] if first < len(self._starts) else 0, None)
            self._follow(following)
            return
        for index, before in old_lines.items():
            start = self._starts[index]
            for offset, (old, new) in enumerate(zip(before, self._lines[index], strict=True)):
                if old != new:
                    self._refresh_lines(start + offset, 1)
        self._follow(following)

    def _follow(self, following: bool) -> None:
        if following and self.scroll_y < self.max_scroll_y:
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

    # Lines ---------------------------------------------------------------------------

    @property
    def _width(self) -> int:
        """The cells a line has: the widget's, less the scrollbar's gutter (the size, not
        the region on screen, which is empty while the pane is hidden)."""
        return max(self.size.width - self.scrollbar_gutter.width, 0)

    def _wrap(self, index: int) -> list[Strip]:
        """The lines of item ``index`` at the current width, with its blank line after."""
        width = self._width
        if width <= 0:
            return [Strip.blank(0)]
        item = self._items[index]
        tool = isinstance(item, ToolItem)
        inner = max(width - (2 if tool else 0), 1)
        console = self.app.console
        lead: list[Segment] = []
        if tool:
            bar = self.get_component_rich_style("transcript-view--tool-bar", partial=True)
            lead = [Segment(_TOOL_BAR, bar), Segment(" ")]
        strips = [
            Strip([*lead, *line.render(console)]).crop_extend(0, width, None)
            for line in self._reads(item).wrap(console, inner)
        ]
        strips.append(Strip.blank(width))
        return strips

    def _restart(self, first: int) -> None:
        """Recount where each item starts, from item ``first`` on."""
        del self._starts[first:]
        line = self._starts[-1] + len(self._lines[first - 1]) if first > 0 else 0
        for lines in self._lines[first:]:
            self._starts.append(line)
            line += len(lines)

    def _refresh_lines(self, start: int, count: int | None) -> None:
        """Redraw the visible part of lines ``start`` … (to the bottom when ``count`` is None)."""
        top = start - self.scroll_offset.y
        height = self.size.height - top if count is None else count
        region = Region(0, top, self.size.width, height).intersection(self.size.region)
        if region.height > 0:
            self.refresh(region)

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self._width
        style: Style = self.rich_style
        if not self._lines or index >= self.line_count:
            return Strip.blank(width, style)
        item = bisect_right(self._starts, index) - 1
        return self._lines[item][index - self._starts[item]].crop_extend(0, width, style)

    def on_resize(self, _event: events.Resize) -> None:
        if self._width != self._wrapped_at and self._items:
            self._wrapped_at = self._width
            following = self.scroll_y >= self.max_scroll_y
            self._lines = [self._wrap(index) for index in range(len(self._items))]
            self._restart(0)
            self.virtual_size = Size(self.size.width, self.line_count)
            self.refresh()
            if following:
                self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        else:
            self._wrapped_at = self._width
            self.virtual_size = Size(self.size.width, self.line_count)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self._items and self._width > 0:
            self._lines = [self._wrap(index) for index in range(len(self._items))]
            self._restart(0)
