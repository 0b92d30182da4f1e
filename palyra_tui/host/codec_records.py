"""Plans for records: frozen dataclasses and ``NamedTuple``\\ s.

A record decodes twice over, by design.  The checked loop (``_checked``) is the
reference: field by field, defaults for absent fields, and a failure that names
its field.  Log lines arrive by the ten thousand, and that loop costs two to
three times what straight-line code does, so each record also gets a decoder
generated from its fields: it reads every field, checks the scalar ones
inline, and builds the value in one call.  It accepts only what the checked
loop would decode to the same value; anything else (an absent field, an int
where a float goes, a bad value) is handed to the checked loop, which decodes
it or names the fault.  The same generator writes the decoder of a table row,
which reads by position instead of by name.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import operator
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

from palyra_tui.host.codec_base import (
    MISSING,
    NONE_TYPE,
    SCALARS,
    Decoder,
    Invalid,
    Plan,
    Table,
    describe,
)

PlanOf = Callable[[object], Plan]


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    hint: object
    plan: Plan
    default: object  # MISSING when the field is required


def dataclass_plan(cls: type, plan_of: PlanOf) -> Plan:
    """Encode to an object by field name; decode by keyword arguments to ``cls``."""
    hints = _hints(cls)
    fields = []
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        has_default = (
            field.default is not dataclasses.MISSING
            or field.default_factory is not dataclasses.MISSING
        )
        hint = hints[field.name]
        # A default of None stands for "the class's own default" when building.
        fields.append(_Field(field.name, hint, plan_of(hint), None if has_default else MISSING))
    encode = _encoder(fields, operator.attrgetter, lambda f: f.name)
    checked = _checked(cls.__name__, fields, cls, keywords=True)
    every = _getter([f.name for f in fields], operator.attrgetter)
    return Plan(
        encode,
        _fast(fields, cls, checked, keywords=True, rows=False),
        _table(fields, lambda value: list(every(value)), cls, checked, keywords=True),
    )


def namedtuple_plan(cls: type, plan_of: PlanOf) -> Plan:
    """Encode to an object by field name; decode positionally, defaults filled in."""
    hints = _hints(cls)
    names: tuple[str, ...] = cls._fields  # type: ignore[attr-defined]
    defaults: dict[str, object] = cls._field_defaults  # type: ignore[attr-defined]
    fields = [
        _Field(name, hints[name], plan_of(hints[name]), defaults.get(name, MISSING))
        for name in names
    ]
    index = {name: position for position, name in enumerate(names)}
    encode = _encoder(fields, operator.itemgetter, lambda f: index[f.name])
    make = cls._make  # type: ignore[attr-defined]
    checked = _checked(cls.__name__, fields, make, keywords=False)
    # The fast paths always pass every field, so they skip _make's length check.
    new = functools.partial(tuple.__new__, cls)
    return Plan(
        encode,
        _fast(fields, new, checked, keywords=False, rows=False),
        _table(fields, list, new, checked, keywords=False),
    )


def _table(
    fields: Sequence[_Field],
    values: Callable[[Any], list[Any]],
    build: Callable[..., object],
    checked: Decoder,
    *,
    keywords: bool,
) -> Table:
    columns = tuple(f.name for f in fields)
    converted = [(i, f.plan.encode) for i, f in enumerate(fields) if f.plan.encode is not None]

    def row(value: object) -> object:
        out = values(value)
        for position, field_encode in converted:
            out[position] = field_encode(out[position])
        return out

    fallback = row_decoder(columns, checked)
    decode_row = _fast(fields, build, fallback, keywords=keywords, rows=True)
    return Table(columns, row, decode_row, checked)


def row_decoder(columns: tuple[str, ...], checked: Decoder) -> Decoder:
    """Rows of a table with these columns, decoded by name through ``checked``."""
    width = len(columns)

    def decode(raw: object) -> object:
        if type(raw) is not list or len(raw) != width:
            raise Invalid(f"expected a row of {width} values, got {describe(raw)}")
        return checked(dict(zip(columns, raw, strict=True)))

    return decode


def _hints(cls: type) -> dict[str, Any]:
    from palyra_tui.errors import CodecError

    try:
        return typing.get_type_hints(cls)
    except (NameError, TypeError) as error:
        raise CodecError(f"cannot read the type hints of {cls.__name__}: {error}") from None


def _encoder(
    fields: Sequence[_Field],
    getter_kind: Callable[..., Any],
    key: Callable[[_Field], object],
) -> Callable[[Any], object]:
    """Fields that are JSON-ready are copied in one C call; the others are converted."""
    native = [f for f in fields if f.plan.encode is None]
    native_names = [f.name for f in native]
    get_native = _getter([key(f) for f in native], getter_kind)
    converted = [(f.name, getter_kind(key(f)), f.plan.encode) for f in fields if f.plan.encode]

    def encode(value: object) -> object:
        out = dict(zip(native_names, get_native(value), strict=True))
        for name, get, field_encode in converted:
            out[name] = field_encode(get(value))
        return out

    return encode


def _getter(keys: list[Any], kind: Callable[..., Any]) -> Callable[[Any], tuple[Any, ...]]:
    """``attrgetter``/``itemgetter`` that always returns a tuple, even for 0 or 1 keys."""
    if not keys:
        return lambda _value: ()
    if len(keys) == 1:
        single = kind(keys[0])
        return lambda value: (single(value),)
    getter: Callable[[Any], tuple[Any, ...]] = kind(*keys)
    return getter


def _checked(
    name: str, fields: Sequence[_Field], build: Callable[..., object], *, keywords: bool
) -> Decoder:
    """The reference decoder: field by field, naming the field that fails."""
    steps = [(f.name, f.plan.decode, f.default) for f in fields]

    def decode(raw: object) -> object:
        if type(raw) is not dict:
            raise Invalid(f"expected an object for {name}, got {describe(raw)}")
        values: dict[str, object] = {}
        field_name = ""
        try:
            for field_name, field_decode, default in steps:
                item = raw.get(field_name, MISSING)
                if item is not MISSING:
                    values[field_name] = field_decode(item)
                elif default is MISSING:
                    raise Invalid("the field is missing")
                elif not keywords:
                    values[field_name] = default
        except Invalid as failure:
            failure.steps.append(f".{field_name}")
            raise
        try:
            return build(**values) if keywords else build(values.values())
        except Exception as error:  # the class's own checks: any refusal is the peer's fault
            raise Invalid(f"{name} rejected the value: {error}") from None

    return decode


def _fast(
    fields: Sequence[_Field],
    build: Callable[..., object],
    checked: Decoder,
    *,
    keywords: bool,
    rows: bool,
) -> Decoder:
    """A straight-line decoder for well-formed input; everything else goes to ``checked``.

    It reads an object by field name, or with ``rows`` a table row by position.
    """
    env: dict[str, object] = {"MISSING": MISSING, "Invalid": Invalid, "checked": checked}
    env["build"] = build
    reads, tests, arguments = [], [], []
    for position, field in enumerate(fields):
        value = f"v{position}"
        source = f"raw[{position}]" if rows else f"get({field.name!r}, MISSING)"
        reads.append(f"        {value} = {source}")
        test, argument = _inline(field, value, position, env)
        tests.append(test)
        arguments.append(f"{field.name}={argument}" if keywords else argument)
    call = f"build({', '.join(arguments)})" if keywords else f"build(({', '.join(arguments)},))"
    if not fields:
        call = "build()" if keywords else "build(())"
    shape = f"type(raw) is list and len(raw) == {len(fields)}" if rows else "type(raw) is dict"
    source = "\n".join(
        [
            "def decode(raw):",
            f"    if {shape}:",
            *([] if rows else ["        get = raw.get"]),
            *reads,
            f"        if {' and '.join(tests) or 'True'}:",
            "            try:",
            f"                return {call}",
            "            except Exception:",
            "                pass",
            "    return checked(raw)",
        ]
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, "<palyra_tui.host.codec_records>", "exec"), env, namespace)
    decoder: Decoder = namespace["decode"]
    return decoder


def _inline(field: _Field, value: str, position: int, env: dict[str, object]) -> tuple[str, str]:
    """The fast path's test of one field and the expression that yields its value."""
    hint, optional = _strip_none(field.hint)
    if hint in SCALARS:
        env[f"k{position}"] = hint
        test = f"type({value}) is k{position}"
        return (f"({value} is None or {test})" if optional else test), value
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        kinds = {type(member.value) for member in hint}
        if len(kinds) == 1:
            env[f"k{position}"] = kinds.pop()
            env[f"e{position}"] = {member.value: member for member in hint}
            test = f"type({value}) is k{position}"
            lookup = f"e{position}[{value}]"
            if optional:
                return f"({value} is None or {test})", f"(None if {value} is None else {lookup})"
            return test, lookup
    env[f"d{position}"] = field.plan.decode
    return f"{value} is not MISSING", f"d{position}({value})"


def _strip_none(hint: object) -> tuple[object, bool]:
    """``X | None`` → ``(X, True)``; anything else → ``(hint, False)``."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(hint)
        rest = [arg for arg in args if arg is not NONE_TYPE]
        if len(rest) == 1 and len(args) == 2:
            return rest[0], True
    return hint, False
