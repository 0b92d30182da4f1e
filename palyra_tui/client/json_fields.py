"""Typed reads of the gateway's JSON answers: a missing or mistyped field is empty, never
an exception, and every string is sanitised on the way in."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from palyra_tui.text import sanitize, sanitize_line

E = TypeVar("E", bound=enum.Enum)


def obj(document: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The object under ``key`` ({} otherwise)."""
    value = document.get(key)
    return value if isinstance(value, dict) else {}


def items(document: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """The objects of the list under ``key`` (other entries are skipped)."""
    value = document.get(key)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def text(document: Mapping[str, Any], key: str) -> str:
    """The string under ``key``, sanitised (line breaks kept)."""
    value = document.get(key)
    return sanitize(value) if isinstance(value, str) else ""


def line(document: Mapping[str, Any], key: str) -> str:
    """The string under ``key`` as one printable line."""
    value = document.get(key)
    return sanitize_line(value) if isinstance(value, str) else ""


def lines(document: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """The strings of the list under ``key``, each one printable line."""
    value = document.get(key)
    if not isinstance(value, list):
        return ()
    return tuple(sanitize_line(item) for item in value if isinstance(item, str))


def integer(document: Mapping[str, Any], key: str) -> int:
    """The integer under ``key`` (0 otherwise; a boolean is not one)."""
    value = document.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def flag(document: Mapping[str, Any], key: str) -> bool:
    """The boolean under ``key`` (False otherwise)."""
    value = document.get(key)
    return value if isinstance(value, bool) else False


def choice(kind: type[E], value: str, default: E) -> E:
    """The member of ``kind`` named by ``value`` (case and spaces ignored), else ``default``."""
    try:
        return kind(value.strip().lower())
    except ValueError:
        return default


def segment(value: str) -> str:
    """``value`` quoted as one URL path segment."""
    return quote(value, safe="-_.~")
