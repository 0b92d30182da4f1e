"""Structured log lines: palyrad's ``tracing`` JSON, and JSON logs in general.

palyrad writes ``{"timestamp", "level", "fields": {"message", …}, "target"}``
lines through ``tracing-subscriber``'s JSON formatter.  Other JSON loggers put
``msg``/``message`` and the level at the top level; both shapes are understood.
Anything else stays plain text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from palyra_tui.models import NO_FIELDS, LogLevel
from palyra_tui.text import MARK, Redactor, sanitize_line
from palyra_tui.text.redact import is_sensitive_key

_MESSAGE_KEYS = ("message", "msg")
_LEVEL_KEYS = ("level", "lvl", "severity")
_TARGET_KEYS = ("target", "logger", "name")
_SKIPPED_KEYS = frozenset({"timestamp", "time", "ts", "span", "spans", "threadId", "threadName"})
_MAX_FIELD = 2048
_TRACING_KEYS = frozenset(
    {"timestamp", "level", "fields", "target", "span", "spans", "threadId", "threadName"}
)
_TRACING_MAX_KEYS = len(_TRACING_KEYS) + 4
_LEVELS: dict[str, LogLevel] = {
    name: level
    for level in LogLevel
    for name in (level.name, level.name.lower(), level.name.capitalize())
}
_decode = json.JSONDecoder().decode


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """The parts of a structured log line that palyra-tui shows and filters on."""

    message: str
    level: LogLevel | None
    target: str | None
    fields: tuple[tuple[str, str], ...]


def parse_json_line(line: str, redactor: Redactor) -> ParsedLine | None:
    """Parse one JSON log line, or return None when it is not a JSON object.

    ``line`` was sanitized and redacted as text already.  JSON escapes can still
    hide control characters or secret words (``\\u001b``, ``\\u0074oken``), so
    when the line has any backslash the decoded strings are cleaned again.
    """
    try:
        document = _decode(line)
    except (ValueError, RecursionError):
        return None
    if type(document) is not dict:
        return None
    nested = document.get("fields")
    if type(nested) is dict and len(document) <= _TRACING_MAX_KEYS:
        parsed = _parse_tracing(document, nested)
    else:
        parsed = _parse_generic(document, nested if type(nested) is dict else {})
    if "\\" in line:
        return _clean_again(parsed, redactor)
    return parsed


def _parse_tracing(document: dict[str, object], body: dict[str, object]) -> ParsedLine:
    """The fast path for palyrad's ``tracing-subscriber`` layout."""
    message = body.get("message")
    level = document.get("level")
    target = document.get("target")
    pairs: list[tuple[str, str]] = []
    for key, value in body.items():
        if key == "message":
            continue
        if isinstance(value, str):
            if is_sensitive_key(key):
                pairs.append((key, MARK))
            elif len(value) <= _MAX_FIELD:
                pairs.append((key, value))
            else:
                pairs.append((key, _render(value)))
        elif type(value) is int:
            pairs.append((key, str(value)))
        else:
            pairs.append((key, _render(value)))
    for key, value in document.items():
        if key not in _TRACING_KEYS:
            pairs.append((key, _field_value(key, value)))
    return ParsedLine(
        message=message if isinstance(message, str) else "",
        level=_LEVELS.get(level) if isinstance(level, str) else None,
        target=target if isinstance(target, str) else None,
        fields=tuple(pairs) if pairs else NO_FIELDS,
    )


def _parse_generic(document: dict[str, object], body: dict[str, object]) -> ParsedLine:
    """Other JSON loggers: message, level and target under common names."""
    message = ""
    for source in (body, document):
        for key in _MESSAGE_KEYS:
            value = source.get(key)
            if isinstance(value, str):
                message = value
                break
        if message:
            break
    level: LogLevel | None = None
    for key in _LEVEL_KEYS:
        value = document.get(key)
        if isinstance(value, str):
            level = LogLevel.parse(value)
            break
    target: str | None = None
    for key in _TARGET_KEYS:
        value = document.get(key)
        if isinstance(value, str):
            target = value
            break
    pairs: list[tuple[str, str]] = []
    for source in (body, document):
        for key, value in source.items():
            if key in _MESSAGE_KEYS or key == "fields" or key in _SKIPPED_KEYS:
                continue
            if source is document and (key in _LEVEL_KEYS or key in _TARGET_KEYS):
                continue
            pairs.append((key, _field_value(key, value)))
    return ParsedLine(
        message=message, level=level, target=target, fields=tuple(pairs) if pairs else NO_FIELDS
    )


def _clean_again(parsed: ParsedLine, redactor: Redactor) -> ParsedLine:
    return ParsedLine(
        message=redactor.redact(sanitize_line(parsed.message)),
        level=parsed.level,
        target=sanitize_line(parsed.target) if parsed.target is not None else None,
        fields=tuple(
            (
                sanitize_line(key),
                MARK if is_sensitive_key(key) else redactor.redact(sanitize_line(value)),
            )
            for key, value in parsed.fields
        ),
    )


def _field_value(key: str, value: object) -> str:
    if isinstance(value, str) and is_sensitive_key(key):
        return MARK
    return _render(value)


def _render(value: object) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, int | float):
        text = str(value)
    else:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if len(text) > _MAX_FIELD:
        text = text[:_MAX_FIELD] + "…"
    return text
