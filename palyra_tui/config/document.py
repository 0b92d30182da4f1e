"""Reading the TOML text: a size cap, and one sentence for every way tomllib fails.

tomllib reports syntax errors with a line and column, but a value nested too
deeply escapes as ``RecursionError`` and an integer of more than 4300 digits as
``ValueError``.  Both become a :class:`ConfigError` naming the file, the key
and the line, like every other config error.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from palyra_tui.errors import ConfigError
from palyra_tui.text import visible

MAX_CONFIG_BYTES = 1 << 20
"""A config file is a few kilobytes; a bigger one is a mistake (``--config /dev/zero``)."""


def parse_toml(raw: bytes, source: str) -> dict[str, Any]:
    """Parse the bytes of the config file named ``source`` (already made visible)."""
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{source}: config file is larger than 1 MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: config file is not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    except RecursionError:
        line = _deepest_value(text)
        raise _syntax_error(
            source, text, line, "arrays or inline tables nested too deeply"
        ) from None
    except ValueError:
        line = _first_match(text, _LONG_NUMBER)
        raise _syntax_error(source, text, line, "an integer with too many digits") from None


_SHOWN = 60
"""Keys and values longer than this are cut in messages."""


def shown_key(key: str) -> str:
    """A key as a message shows it: control characters visible, a huge one cut."""
    return visible(key if len(key) <= _SHOWN else key[:_SHOWN] + "…")


def shown(value: object) -> str:
    """A value as a message quotes it: a huge one cut, control characters visible."""
    if isinstance(value, str):
        return visible(repr(value) if len(value) <= _SHOWN else repr(value[:_SHOWN]) + "…")
    text = str(value)
    return visible(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")


def _syntax_error(source: str, text: str, line: int | None, problem: str) -> ConfigError:
    """A TOML error tomllib does not report itself, with the key and line where we can."""
    if line is None:
        return ConfigError(f"{source}: invalid TOML: {problem}")
    key = _key_on_line(text.splitlines(), line - 1)
    where = f"{shown_key(key)}: " if key else ""
    return ConfigError(f"{source}: {where}invalid TOML: {problem} (at line {line})")


_LONG_NUMBER = re.compile(
    r"(?<![\w\"'])[+-]?(?:0x[0-9a-fA-F_]{4300,}|0o[0-7_]{4300,}|0b[01_]{4300,}|[0-9_]{4300,})"
)
_TABLE_HEADER = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")


def _first_match(text: str, pattern: re.Pattern[str]) -> int | None:
    match = pattern.search(text)
    return None if match is None else text.count("\n", 0, match.start()) + 1


def _key_on_line(lines: list[str], index: int) -> str:
    """The dotted key of the statement on ``lines[index]`` (best effort, for messages)."""
    if not 0 <= index < len(lines):
        return ""
    statement = lines[index].partition("=")[0].strip() if "=" in lines[index] else ""
    table = ""
    for previous in reversed(lines[:index]):
        header = _TABLE_HEADER.match(previous)
        if header is not None:
            table = header.group(1)
            break
    return ".".join(part for part in (table, statement) if part)


def _deepest_value(text: str) -> int | None:
    """The line where the most deeply nested value starts, skipping strings and comments.

    Runs only after tomllib gave up with ``RecursionError``, to name the key.
    """
    depth = deepest = 0
    line = value_line = 1
    found: int | None = None
    position, end = 0, len(text)
    while position < end:
        char = text[position]
        if char == "\n":
            line += 1
        elif char == "#":
            position = text.find("\n", position)
            if position < 0:
                break
            continue
        elif char in "\"'":
            closing = char * 3 if text.startswith(char * 3, position) else char
            start, position = position, _string_end(text, position + len(closing), closing)
            line += text.count("\n", start, position)
            continue
        elif char in "[{":
            if depth == 0:
                value_line = line
            depth += 1
            if depth > deepest:
                deepest, found = depth, value_line
        elif char in "]}":
            depth = max(depth - 1, 0)
        position += 1
    return found if deepest > 1 else None


def _string_end(text: str, position: int, closing: str) -> int:
    escapes = closing[0] == '"'
    while position < len(text):
        if escapes and text[position] == "\\":
            position += 2
            continue
        if text.startswith(closing, position):
            return position + len(closing)
        if len(closing) == 1 and text[position] == "\n":
            return position
        position += 1
    return position
