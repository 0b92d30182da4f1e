"""Untrusted text, made safe to render: sanitized, and never parsed as markup.

Textual's ``Static`` and ``Label`` parse markup by default, so a daemon line
such as ``[@click=app.quit]…`` would become a live action.  Everything from a
daemon, a log, a tool call or the gateway goes through :func:`plain` (a Rich
``Text`` object, which is never parsed) after the sanitizer.
"""

from __future__ import annotations

import json

from rich.text import Text

from palyra_tui.text import sanitize, sanitize_line, visible


def plain(text: str, style: str = "") -> Text:
    """One line of untrusted text as a ``Text`` (no markup, no controls)."""
    return Text(sanitize_line(text), style=style, no_wrap=True, end="")


def block(text: str, style: str = "") -> Text:
    """Several lines of untrusted text as a ``Text``."""
    return Text(sanitize(text), style=style)


def pretty_json(payload: str, max_lines: int | None = None) -> str:
    """Tool input indented for reading (left as it is when it is not JSON), cut to
    ``max_lines`` with a note when a limit is given."""
    try:
        pretty = json.dumps(json.loads(payload), indent=2, ensure_ascii=False)
    except ValueError:
        pretty = payload
    if max_lines is None:
        return pretty
    lines = pretty.splitlines()
    if len(lines) > max_lines:
        lines = [
            *lines[:max_lines],
            f"… {len(lines) - max_lines} more lines (full text in Approvals, F4)",
        ]
    return "\n".join(lines)


def reviewable(text: str) -> Text:
    """Text an operator must approve: every control or invisible character is shown as
    ``\\uXXXX``; nothing is deleted, so nothing can hide the rest of the input."""
    return Text(visible(text))
