"""Plans for containers: tuples (arrays, or tables of records), dicts and unions."""

from __future__ import annotations

import dataclasses
from typing import Any

from palyra_tui.errors import CodecError
from palyra_tui.host.codec_base import (
    MISSING,
    NONE_TYPE,
    Decoder,
    Encoder,
    Invalid,
    Plan,
    Table,
    describe,
    is_namedtuple,
    type_name,
)
from palyra_tui.host.codec_records import PlanOf, row_decoder


def sequence_plan(item_type: object, plan_of: PlanOf) -> Plan:
    """``tuple[X, ...]``: an array, or a table when ``X`` is a record."""
    item = plan_of(item_type)
    if item.table is not None:
        return _table_plan(item.table)
    item_encode, item_decode = item.encode, item.decode
    encode: Encoder | None = None
    if item_encode is not None:

        def encode(values: tuple[object, ...]) -> object:
            return [item_encode(value) for value in values]

    kind = item_type if item_type in (str, int, bool) else None

    def decode(raw: object) -> object:
        if type(raw) is not list:
            raise Invalid(f"expected an array, got {describe(raw)}")
        if kind is not None and all(type(value) is kind for value in raw):
            return tuple(raw)
        try:
            return tuple([item_decode(value) for value in raw])
        except Invalid:
            _locate(raw, item_decode)
            raise

    if item_type == tuple[str, str]:
        return Plan(encode, _string_pairs(decode))
    return Plan(encode, decode)


def _string_pairs(general: Decoder) -> Decoder:
    """``tuple[tuple[str, str], ...]``, a log line's fields: checked in one pass."""

    def decode(raw: object) -> object:
        if type(raw) is list:
            pairs = []
            for pair in raw:
                if type(pair) is not list or len(pair) != 2:
                    break
                first, second = pair
                if type(first) is not str or type(second) is not str:
                    break
                pairs.append((first, second))
            else:
                return tuple(pairs)
        return general(raw)

    return decode


def _table_plan(table: Table) -> Plan:
    """A tuple of records: the field names once, then one array of values per record.

    Rows whose columns are exactly this version's fields take the generated
    row decoder; other columns (a peer that added, dropped or reordered
    fields) are matched by name, so unknown columns are ignored and absent
    ones take their defaults.
    """
    columns = list(table.columns)
    row, decode_row, checked = table.row, table.decode_row, table.checked

    def encode(values: tuple[object, ...]) -> object:
        return {"columns": columns, "rows": [row(value) for value in values]}

    def decode(raw: object) -> object:
        if type(raw) is not dict:
            raise Invalid(f"expected a table, got {describe(raw)}")
        theirs, rows = raw.get("columns", MISSING), raw.get("rows", MISSING)
        if type(rows) is not list:
            raise Invalid(f"expected the rows of a table, got {describe(rows)}")
        if theirs == columns:
            item_decode = decode_row
        elif type(theirs) is list and all(type(name) is str for name in theirs):
            item_decode = row_decoder(tuple(theirs), checked)
        else:
            raise Invalid(f"expected the column names of a table, got {describe(theirs)}")
        try:
            return tuple([item_decode(value) for value in rows])
        except Invalid:
            _locate(rows, item_decode)
            raise

    return Plan(encode, decode)


def _locate(raw: list[Any], item_decode: Decoder) -> None:
    """Decode again, one item at a time, to name the index that failed."""
    for index, value in enumerate(raw):
        try:
            item_decode(value)
        except Invalid as failure:
            failure.steps.append(f"[{index}]")
            raise failure from None


def fixed_tuple_plan(item_types: tuple[object, ...], plan_of: PlanOf) -> Plan:
    """``tuple[A, B]``: an array of exactly that many values."""
    plans = [plan_of(item_type) for item_type in item_types]
    decoders = tuple(plan.decode for plan in plans)
    size = len(decoders)
    encode: Encoder | None = None
    if any(plan.encode is not None for plan in plans):
        encoders = tuple(plan.encode for plan in plans)

        def encode(value: tuple[object, ...]) -> object:
            return [v if e is None else e(v) for e, v in zip(encoders, value, strict=True)]

    pair_of_strings = item_types == (str, str)

    def decode(raw: object) -> object:
        if type(raw) is not list or len(raw) != size:
            raise Invalid(f"expected an array of {size}, got {describe(raw)}")
        if pair_of_strings and type(raw[0]) is str and type(raw[1]) is str:
            return (raw[0], raw[1])
        values = []
        for index, (item_decode, value) in enumerate(zip(decoders, raw, strict=True)):
            try:
                values.append(item_decode(value))
            except Invalid as failure:
                failure.steps.append(f"[{index}]")
                raise
        return tuple(values)

    return Plan(encode, decode)


def dict_plan(value_type: object, plan_of: PlanOf) -> Plan:
    """``dict[str, X]``: an object."""
    value_plan = plan_of(value_type)
    value_encode, value_decode = value_plan.encode, value_plan.decode
    encode: Encoder | None = None
    if value_encode is not None:

        def encode(value: dict[str, object]) -> object:
            return {key: value_encode(item) for key, item in value.items()}

    def decode(raw: object) -> object:
        if type(raw) is not dict:
            raise Invalid(f"expected an object, got {describe(raw)}")
        out: dict[str, object] = {}
        for key, item in raw.items():
            try:
                out[key] = value_decode(item)
            except Invalid as failure:
                failure.steps.append(f"[{key!r}]")
                raise
        return out

    return Plan(encode, decode)


def union_plan(members: tuple[object, ...], plan_of: PlanOf) -> Plan:
    """``X | None``, or a union of records (tagged with the class name)."""
    rest = tuple(member for member in members if member is not NONE_TYPE)
    inner = plan_of(rest[0]) if len(rest) == 1 else _tagged_plan(rest, plan_of)
    if len(rest) == len(members):
        return inner
    inner_encode, inner_decode = inner.encode, inner.decode
    encode: Encoder | None = None
    if inner_encode is not None:

        def encode(value: object) -> object:
            return None if value is None else inner_encode(value)

    def decode(raw: object) -> object:
        return None if raw is None else inner_decode(raw)

    return Plan(encode, decode)


def _tagged_plan(classes: tuple[object, ...], plan_of: PlanOf) -> Plan:
    """A union of records: each value travels with its class name."""
    by_name: dict[str, Plan] = {}
    by_class: dict[object, tuple[str, Plan]] = {}
    for cls in classes:
        if not (isinstance(cls, type) and (dataclasses.is_dataclass(cls) or is_namedtuple(cls))):
            raise CodecError(
                f"the codec carries unions of dataclasses (and None), not {type_name(cls)}"
            )
        if cls.__name__ in by_name:
            raise CodecError(f"a union holds two classes named {cls.__name__}")
        plan = plan_of(cls)
        by_name[cls.__name__] = plan
        by_class[cls] = (cls.__name__, plan)
    names = ", ".join(by_name)

    def encode(value: object) -> object:
        name, plan = by_class[type(value)]
        return {"type": name, "value": value if plan.encode is None else plan.encode(value)}

    def decode(raw: object) -> object:
        if type(raw) is not dict:
            raise Invalid(f"expected an object, got {describe(raw)}")
        name = raw.get("type", MISSING)
        plan = by_name.get(name) if type(name) is str else None
        if plan is None:
            raise Invalid(f"type {describe(name)} is not one of {names}")
        try:
            return plan.decode(raw.get("value", MISSING))
        except Invalid as failure:
            failure.steps.append(f"<{name}>")
            raise

    return Plan(encode, decode)
