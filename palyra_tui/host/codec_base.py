"""What the codec's plans share: the plan itself and the failure that carries a path."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from typing import Any

Encoder = Callable[[Any], object]
Decoder = Callable[[object], Any]

MISSING: Any = object()
NONE_TYPE = type(None)
SCALARS: tuple[type, ...] = (str, int, bool, float)


class Invalid(Exception):
    """A decoding failure on its way up; each container adds its step to ``steps``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.steps: list[str] = []


@dataclasses.dataclass(frozen=True, slots=True)
class Table:
    """How a record travels as one row of a table, the wire shape of a tuple of records."""

    columns: tuple[str, ...]
    row: Encoder  # a value → its fields' JSON-ready values, in column order
    decode_row: Decoder  # such a list → the value
    checked: Decoder  # an object keyed by field name → the value, naming the field that fails


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """How to move one type: ``encode`` is None when the value is already JSON-ready."""

    encode: Encoder | None
    decode: Decoder
    table: Table | None = None


def describe(raw: object) -> str:
    """A short, safe description of a decoded JSON value for an error message."""
    if raw is MISSING:
        return "nothing"
    if raw is None:
        return "null"
    if isinstance(raw, list):
        return "an array"
    if isinstance(raw, dict):
        return "an object"
    text = repr(raw)
    return text if len(text) <= 40 else text[:39] + "…"


def is_namedtuple(tp: object) -> bool:
    """True for a ``NamedTuple`` class."""
    return isinstance(tp, type) and issubclass(tp, tuple) and hasattr(tp, "_fields")


def type_name(tp: object) -> str:
    """``LogLine``, or ``tuple[LogLine, ...]`` for a generic alias."""
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__name__
    return repr(tp).replace("typing.", "")
