"""JSON for the frozen models, driven by their type hints.

The runtime host's messages are the dataclasses, enums and ``NamedTuple``\\ s of
``palyra_tui.models`` and the host API; this codec is their only schema on the
wire.  Each type gets a plan, compiled once from its type hints and cached:
functions that turn a value into JSON-ready Python and back.

Encoding trusts the value (it is ours).  Decoding trusts nothing: the peer may
be another version or another program, so every value is checked against its
hint and a mismatch raises :class:`CodecError` naming the field path
(``services[2].health.state``), never a bare ``KeyError`` or ``TypeError``.
Unknown fields are ignored and absent fields take their defaults, so a newer
peer may add fields.

Wire shapes: a dataclass or ``NamedTuple`` is an object keyed by field name; an
enum is its value; a tuple is an array; a tuple of records is a table,
``{"columns": [names], "rows": [[values], ...]}``, which spares repeating every
field name on every log line (JSON objects cost about twice as much as arrays
to write and to parse); ``dict[str, X]`` is an object; ``X | None`` is
``null`` or ``X``; a union of several records is
``{"type": <class name>, "value": {...}}``.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import operator
import threading
import types
import typing
from typing import Any, Generic, TypeVar

from palyra_tui.errors import CodecError
from palyra_tui.host.codec_base import (
    NONE_TYPE,
    SCALARS,
    Decoder,
    Invalid,
    Plan,
    describe,
    is_namedtuple,
    type_name,
)
from palyra_tui.host.codec_containers import dict_plan, fixed_tuple_plan, sequence_plan, union_plan
from palyra_tui.host.codec_records import dataclass_plan, namedtuple_plan

T = TypeVar("T")

__all__ = ["Codec", "codec_for", "decode", "encode", "sequence_codec", "type_name"]

_JSON_NAMES = {str: "a string", int: "an integer", bool: "a boolean", float: "a number"}


class Codec(Generic[T]):
    """Bytes ↔ values of one type; get one with :func:`codec_for`."""

    __slots__ = ("_decode", "_encode", "name")

    def __init__(self, name: str, plan: Plan) -> None:
        self.name = name
        self._encode = plan.encode
        self._decode = plan.decode

    def encode(self, value: T) -> bytes:
        """Compact UTF-8 JSON; lone surrogates (undecodable file names) survive."""
        try:
            ready = value if self._encode is None else self._encode(value)
            return _dumps(ready).encode("utf-8", "surrogatepass")
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise CodecError(f"cannot encode {self.name}: {error}", reason=str(error)) from None

    def decode(self, data: bytes) -> T:
        """The value ``data`` holds, or :class:`CodecError` saying which field is wrong."""
        try:
            raw = json.loads(data.decode("utf-8", "surrogatepass"))
        except (ValueError, RecursionError) as error:
            reason = f"not JSON ({error})"
            raise CodecError(f"cannot decode {self.name}: {reason}", reason=reason) from None
        try:
            value: T = self._decode(raw)
        except Invalid as failure:
            path = "".join(reversed(failure.steps)).lstrip(".")
            where = f" at {path}" if path else ""
            raise CodecError(
                f"cannot decode {self.name}{where}: {failure.reason}",
                path=path,
                reason=failure.reason,
            ) from None
        except RecursionError:
            reason = "nested too deeply"
            raise CodecError(f"cannot decode {self.name}: {reason}", reason=reason) from None
        return value


_dumps = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":")).encode
_codecs: dict[object, Codec[Any]] = {}
_plans: dict[object, Plan] = {}
_building: set[object] = set()
_lock = threading.RLock()


def codec_for(tp: type[T]) -> Codec[T]:
    """The cached codec of ``tp``: a dataclass, ``NamedTuple``, enum, tuple or scalar type.

    Raises :class:`CodecError` at once for a type the codec cannot carry.
    """
    codec = _codecs.get(tp)
    if codec is None:
        codec = Codec(type_name(tp), _plan(tp))
        _codecs[tp] = codec
    return codec


def sequence_codec(item_type: type[T]) -> Codec[tuple[T, ...]]:
    """The codec of ``tuple[item_type, ...]``, for a JSON array of items."""
    alias: Any = tuple
    return codec_for(alias[item_type, ...])


def encode(value: object) -> bytes:
    """``value`` as JSON bytes, by the type hints of its own class."""
    return codec_for(type(value)).encode(value)


def decode(data: bytes, tp: type[T]) -> T:
    """``data`` decoded as a ``tp``; raises :class:`CodecError` on anything else."""
    return codec_for(tp).decode(data)


def _plan(tp: object) -> Plan:
    plan = _plans.get(tp)
    if plan is not None:
        return plan
    with _lock:
        plan = _plans.get(tp)
        if plan is not None:
            return plan
        if tp in _building:
            return _deferred(tp)
        _building.add(tp)
        try:
            plan = _compile(tp)
        finally:
            _building.discard(tp)
        _plans[tp] = plan
        return plan


def _deferred(tp: object) -> Plan:
    """The plan of a type that refers to itself: finds the real plan when first used."""

    def encode(value: object) -> object:
        inner = _plans[tp].encode
        return value if inner is None else inner(value)

    def decode(raw: object) -> object:
        return _plans[tp].decode(raw)

    return Plan(encode, decode)


def _compile(tp: object) -> Plan:
    if tp in SCALARS:
        return Plan(None, _float if tp is float else _exact(tp))
    if tp is NONE_TYPE or tp is None:
        return Plan(None, _null)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_plan(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return dataclass_plan(tp, _plan)
    if is_namedtuple(tp):
        return namedtuple_plan(typing.cast(type, tp), _plan)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return sequence_plan(args[0], _plan)
    if origin is tuple and args and Ellipsis not in args:
        return fixed_tuple_plan(args, _plan)
    if origin is dict and len(args) == 2 and args[0] is str:
        return dict_plan(args[1], _plan)
    if origin is typing.Union or origin is types.UnionType:
        return union_plan(args, _plan)
    if origin is typing.Literal:
        return _literal_plan(args)
    raise CodecError(f"the codec cannot carry values of type {type_name(tp)}")


# Scalars -------------------------------------------------------------------


def _exact(kind: type) -> Decoder:
    label = _JSON_NAMES[kind]

    def decode(raw: object) -> object:
        if type(raw) is kind:
            return raw
        raise Invalid(f"expected {label}, got {describe(raw)}")

    return decode


def _float(raw: object) -> float:
    if type(raw) is float:
        return raw
    if type(raw) is int:
        return float(raw)
    raise Invalid(f"expected a number, got {describe(raw)}")


def _null(raw: object) -> None:
    if raw is not None:
        raise Invalid(f"expected null, got {describe(raw)}")


def _enum_plan(cls: type[enum.Enum]) -> Plan:
    members = {member.value: member for member in cls}
    kinds = {type(value) for value in members}
    if not kinds <= {str, int}:
        raise CodecError(f"the codec carries enums with str or int values, not {cls.__name__}")

    def decode(raw: object) -> object:
        if type(raw) in kinds:
            member = members.get(raw)
            if member is not None:
                return member
        raise Invalid(f"{describe(raw)} is not a {cls.__name__} value")

    return Plan(operator.attrgetter("value"), decode)


def _literal_plan(values: tuple[object, ...]) -> Plan:
    allowed = {(type(value), value) for value in values}
    listed = ", ".join(map(repr, values))

    def decode(raw: object) -> object:
        try:
            if (type(raw), raw) in allowed:
                return raw
        except TypeError:  # unhashable: an array or an object
            pass
        raise Invalid(f"{describe(raw)} is not one of {listed}")

    return Plan(None, decode)
