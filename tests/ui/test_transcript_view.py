"""The transcript drawn line by line: a token redraws its own lines; wrapping follows the width."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.strip import Strip

from palyra_tui.state.chat import AnswerItem, ChatItem, StatusItem, ToolItem, UserItem
from palyra_tui.ui.screens.chat import render_item
from palyra_tui.ui.widgets.transcript_view import TranscriptView

QUESTION = UserItem("what does the sunset look like from the harbour?", 0.0)


class _Lines(TranscriptView):
    drawn: list[int] = []  # noqa: RUF012

    def render_line(self, y: int) -> Strip:
        self.drawn.append(y)
        return super().render_line(y)


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield _Lines(id="transcript")


def show(view: TranscriptView, items: list[ChatItem]) -> None:
    view.show(items, [False] * len(items), render_item)


def screen_text(view: TranscriptView) -> list[str]:
    return [view.render_line(y).text for y in range(view.size.height)]


async def test_a_token_redraws_only_its_answer_and_a_new_line_scrolls_to_it() -> None:
    app = Host()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(_Lines)
        view.drawn = []
        items: list[ChatItem] = [QUESTION, AnswerItem("run", "Orange", False)]
        show(view, items)
        await pilot.pause()
        assert view.item_count == 2 and view.line_count == 4
        view.drawn = []
        items[1] = AnswerItem("run", "Orange and", False)
        show(view, items)
        await pilot.pause()
        assert 2 in view.drawn and set(view.drawn) <= {2, 3}, "the answer's lines only"
        assert any("agent › Orange and" in line for line in screen_text(view))
        lines = view.line_count
        items[1] = AnswerItem("run", "Orange and " + "pink " * 20, False)
        show(view, items)
        await pilot.pause()
        assert view.line_count > lines
        words = " ".join(" ".join(screen_text(view)).split())
        assert "pink pink" in words and view.scroll_y == view.max_scroll_y


async def test_lines_wrap_to_the_width_and_again_when_it_changes() -> None:
    app = Host()
    async with app.run_test(size=(70, 30)) as pilot:
        view = app.query_one(_Lines)
        view.drawn = []
        tool = ToolItem("run", "p1", "palyra.process.run", '{"command": "df -h"}')
        items: list[ChatItem] = [
            QUESTION,
            AnswerItem("run", "The sky turns orange, then pink, then a deep violet " * 3, True),
            tool,
            StatusItem("run", "run completed"),
        ]
        show(view, items)
        await pilot.pause()
        for size in ((44, 30), (90, 30)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            lines = screen_text(view)
            width = view.scrollable_content_region.width
            assert all(len(line.rstrip()) <= width for line in lines)
            joined = " ".join(" ".join(lines).split())
            assert "deep violet The sky" in joined, "no word is cut at the edge"
            assert any(line.startswith("▌ ⚙ tool palyra.process.run") for line in lines)


def test_render_item_is_the_text_the_view_wraps() -> None:
    text = render_item(AnswerItem("run", "hi", False), frozenset({"run"}))
    assert isinstance(text, Text) and text.plain.startswith("agent › hi")


async def test_items_that_arrive_while_the_view_is_hidden_show_when_it_is_shown() -> None:
    app = Host()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(_Lines)
        show(view, [QUESTION])
        await pilot.pause()
        view.display = False
        await pilot.pause()
        answer = AnswerItem("run", "A wide orange band over the water", True)
        view.display = True
        show(view, [QUESTION, answer])
        await pilot.pause()
        assert any("agent › A wide orange band" in line for line in screen_text(view))


async def test_an_item_taller_than_the_view_is_followed_to_its_end() -> None:
    app = Host()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(_Lines)
        show(view, [QUESTION])
        await pilot.pause()
        command = " ".join(f"/srv/volume-{n:02d}" for n in range(24))
        tool = ToolItem("run", "p1", "palyra.process.run", f'{{"command": "ls {command}"}}')
        show(view, [QUESTION, tool])
        await pilot.pause()
        assert view.max_scroll_y > 0 and view.scroll_y == view.max_scroll_y
        assert any("palyra.process.run" in line or "}" in line for line in screen_text(view))
