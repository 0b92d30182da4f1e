"""A streamed answer at the end of a long transcript: what each token costs the UI.

The control center runs headless over fixed data with a 200-item transcript on
screen; the runtime then sends the answer's tokens one by one, 50 a second, as a
host relays a model's stream, and the app draws its frames on its own schedule.
Figures: the UI's CPU per token (process time over the whole stream), and how
many times the screen was laid out again for 500 tokens.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from textual.screen import Screen

from palyra_tui.state.chat import AnswerItem, ChatItem, Transcript
from palyra_tui.state.runtime_api import AnswerGrew
from palyra_tui.ui.screens.chat import ChatPane
from tests.bench.conftest import report
from tests.snapshots.fixed import NOW, SESSION, fixed_app, fixed_runtime
from tests.ui.conftest import until

pytestmark = pytest.mark.bench

ITEMS = 200
TOKENS = 500
PACE = 0.02
"""Seconds between tokens: 50 a second."""


def long_transcript() -> tuple[ChatItem, ...]:
    transcript = Transcript(SESSION)
    for turn in range(ITEMS // 2 - 1):
        transcript.add_user(f"question {turn}: " + "why is the sky blue? " * 3, at=NOW)
        transcript.items.append(
            AnswerItem(f"run{turn}", "Because of Rayleigh scattering. " * 8, True)
        )
    transcript.add_user("and the sunset?", at=NOW)
    transcript.items.append(AnswerItem("live", "", False))
    return tuple(transcript.items)


async def test_tokens_streamed_at_the_end_of_a_long_transcript() -> None:
    app = fixed_app()
    layouts = 0
    original = Screen._refresh_layout

    def counting(self: Screen[object], *args: object, **kwargs: object) -> None:
        nonlocal layouts
        layouts += 1
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    async with app.run_test(size=(120, 40)) as pilot:
        runtime = fixed_runtime(app)
        await until(pilot, lambda: app.snapshot is not None)
        items = long_transcript()
        runtime.set_transcript(SESSION, items)
        await pilot.press("f3")
        chat = app.pane
        assert isinstance(chat, ChatPane)
        await until(pilot, lambda: len(app.transcripts.items(SESSION)) == len(items))
        await pilot.pause()
        revision = app.transcripts.revision(SESSION)
        assert revision is not None
        index = len(items) - 1
        Screen._refresh_layout = counting  # type: ignore[method-assign,assignment]
        try:
            started, used = time.perf_counter(), time.process_time()
            for token in range(TOKENS):
                revision += 1
                runtime.push(AnswerGrew(SESSION, index, f" word{token}", False, revision))
                await asyncio.sleep(PACE)
            await pilot.pause()
            cpu = time.process_time() - used
            wall = time.perf_counter() - started
        finally:
            Screen._refresh_layout = original  # type: ignore[method-assign]
        answer = app.transcripts.items(SESSION)[index]
        assert isinstance(answer, AnswerItem) and answer.text.endswith(f"word{TOKENS - 1}")
    report(
        "chat_token_cost",
        items=ITEMS,
        tokens=TOKENS,
        tokens_per_second=round(TOKENS / wall, 1),
        cpu_ms_per_token=round(cpu / TOKENS * 1000, 3),
        cpu_percent=round(100 * cpu / wall, 1),
        layouts=layouts,
    )
