"""The preflight checks as a person and a script read them: ``palyra-tui doctor``'s text and
its ``--json`` document, which a support bundle holds too."""

from __future__ import annotations

from typing import Any

from palyra_tui.config import Config
from palyra_tui.models.preflight import CheckStatus, Preflight
from palyra_tui.text import sanitize_line

INDENT = " " * 9


def doctor_document(config: Config, result: Preflight) -> dict[str, Any]:
    """The ``doctor --json`` document."""
    return {
        "status": result.status.value,
        "state_root": str(config.state_root),
        "blocked": result.blocked,
        "warnings": result.warnings,
        "checks": [
            {
                "key": check.key,
                "label": check.label,
                "status": check.status.value,
                "detail": check.detail,
                "hint": check.hint,
            }
            for check in result.checks
        ],
    }


def render_doctor(config: Config, result: Preflight) -> str:
    """One line per check (status and label), its detail and hint indented below."""
    lines = [f"state root {sanitize_line(str(config.state_root))}", ""]
    for check in result.checks:
        lines.append(f"{check.status.value:<8} {check.label}")
        lines.append(INDENT + sanitize_line(check.detail))
        if check.hint:
            lines.append(INDENT + "hint: " + sanitize_line(check.hint))
    lines.append("")
    if result.blocked:
        summary = f"{_count(result.blocked, 'check')} blocked"
        if result.warnings:
            summary += f", {_count(result.warnings, 'warning')}"
        lines.append(summary + ": the runtime cannot work until the blocked checks are fixed")
    elif result.warnings:
        lines.append(f"nothing blocked, {_count(result.warnings, 'warning')}")
    else:
        lines.append(f"all {len(result.checks)} checks ok")
    return "\n".join(lines) + "\n"


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


__all__ = ["CheckStatus", "doctor_document", "render_doctor"]
