"""Predicates → a parameterized ClickHouse ``WHERE`` expression. Pure.

Values are never written into the SQL text: each becomes a ``%(pN)s`` placeholder that
clickhouse-driver substitutes with an escaped literal (the only substitution the 18.16
server understands; it has no server-side parameters). Column names come from the
allow-list in :mod:`query_api.fields` and are backquoted. The text has no other ``%``.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Final

from query_api.predicates import (
    NUMERIC_TEXT,
    AllOf,
    AnyOf,
    Column,
    Compare,
    Contains,
    DataCompare,
    DataOneOf,
    Negate,
    OneOf,
    Predicate,
    TimeRange,
)
from storage.schema import quote_identifier

__all__ = ["Binder", "compile_where"]

_SQL_OPS: Final = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_SCALE: Final = 1000  # a subnormal times 2**_SCALE is a normal number


class Binder:
    """Collects bound values; :meth:`bind` returns the placeholder to put in the SQL."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        if isinstance(value, float) and 0 < abs(value) < sys.float_info.min:
            # ClickHouse 18.16's SQL parser refuses a subnormal number literal (`1e-320` was
            # a syntax error, a 500) and toFloat64('5e-324') is 0 there: written as a
            # product of two normal numbers instead, exact (scaling by powers of two is).
            self.params[name] = math.ldexp(value, _SCALE)
            return f"(%({name})s * {math.ldexp(1.0, -_SCALE)!r})"
        self.params[name] = value
        return f"%({name})s"


def compile_where(predicate: Predicate, binder: Binder) -> str:
    """The SQL boolean expression of ``predicate``; its values go into ``binder``."""
    match predicate:
        case AllOf(items):
            return _join(" AND ", [compile_where(i, binder) for i in items], "1")
        case AnyOf(items):
            return _join(" OR ", [compile_where(i, binder) for i in items], "0")
        case Negate(item):
            return f"NOT ({compile_where(item, binder)})"
        case TimeRange(start, end):
            bounds = [] if start is None else [f"ts_ms >= {binder.bind(start)}"]
            bounds += [] if end is None else [f"ts_ms < {binder.bind(end)}"]
            return _join(" AND ", bounds, "1")
        case OneOf(column, values):
            return _one_of(column, values, binder)
        case Compare(column, op, value):
            sql = f"{quote_identifier(column.sql)} {_SQL_OPS[op]} {binder.bind(value)}"
            return f"ifNull({sql}, 0)" if column.nullable else sql
        case Contains(column, needle):
            return (
                f"positionCaseInsensitiveUTF8({quote_identifier(column.sql)}, "
                f"{binder.bind(needle)}) > 0"
            )
        case DataOneOf(path, values):
            key = binder.bind(path)
            listed = ", ".join(binder.bind(v) for v in values)
            return f"(has(data_keys, {key}) AND {_leaf(key)} IN ({listed}))"
        case DataCompare():
            return _data(predicate, binder)
    raise TypeError(f"not a predicate: {predicate!r}")


def _join(glue: str, parts: list[str], empty: str) -> str:
    if not parts:
        return empty
    return parts[0] if len(parts) == 1 else "(" + glue.join(parts) + ")"


def _one_of(column: Column, values: tuple[Any, ...], binder: Binder) -> str:
    if not values:
        return "0"
    if column.kind == "uuid":
        listed = ", ".join(f"toUUID({binder.bind(v)})" for v in values)
    else:
        listed = ", ".join(binder.bind(v) for v in values)
    sql = f"{quote_identifier(column.sql)} IN ({listed})"
    return f"ifNull({sql}, 0)" if column.nullable else sql


def _leaf(key: str) -> str:
    # The first leaf with that path; index 0 (absent) yields '' and is excluded by has().
    return f"arrayElement(data_values, indexOf(data_keys, {key}))"


def _data(predicate: DataCompare, binder: Binder) -> str:
    key = binder.bind(predicate.path)
    leaf = _leaf(key)
    value = binder.bind(predicate.value)
    if predicate.op == "ct":
        test = f"positionCaseInsensitiveUTF8({leaf}, {value}) > 0"
    elif isinstance(predicate.value, float):
        test = (
            f"match({leaf}, '{NUMERIC_TEXT}') AND toFloat64OrZero({leaf}) "
            f"{_SQL_OPS[predicate.op]} {value}"
        )
    else:
        test = f"{leaf} {_SQL_OPS[predicate.op]} {value}"
    return f"(has(data_keys, {key}) AND {test})"
