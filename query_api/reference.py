"""The predicates evaluated in plain Python over event dicts.

The in-memory repository (:mod:`query_api.memory`) filters with this, and the property
tests use it as the oracle that the SQL compiled by :mod:`query_api.sql.where` must agree
with on the real server. It follows the semantics in :mod:`query_api.predicates` and
deliberately shares no code with the SQL compiler.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from events.rules import timestamp_ms
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
from storage.rows import flatten_data

__all__ = ["Row", "matches"]

_NUMERIC: Final = re.compile(NUMERIC_TEXT.removeprefix("^").removesuffix("$"))
_OPS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "eq": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
_HTTP_DEFAULTS: Final[dict[str, Any]] = {"status": 0, "bytes": None, "duration_ms": None}


@dataclass(frozen=True)
class Row:
    """An event (its JSON shape) with what filtering reads precomputed."""

    ts_ms: int
    event: Mapping[str, Any]
    data_keys: tuple[str, ...]
    data_values: tuple[str, ...]

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> Row:
        keys, values = flatten_data(event.get("data"))
        return cls(timestamp_ms(event["timestamp"]), event, tuple(keys), tuple(values))

    def value(self, column: Column) -> Any:
        """What the stored column holds: absent text is ``''``."""
        if column.name == "timestamp":
            return self.ts_ms
        if column.name == "data":
            data = self.event.get("data")
            return orjson.dumps(data).decode() if data else ""
        if column.name.startswith("http."):
            key = column.name[5:]
            http = self.event.get("http") or {}
            return http.get(key, _HTTP_DEFAULTS.get(key, ""))
        return self.event.get(column.name) or ""

    def leaf(self, path: str) -> str | None:
        try:
            return self.data_values[self.data_keys.index(path)]
        except ValueError:
            return None


def matches(predicate: Predicate, row: Row) -> bool:
    """Whether ``row`` satisfies ``predicate``."""
    match predicate:
        case AllOf(items):
            return all(matches(item, row) for item in items)
        case AnyOf(items):
            return any(matches(item, row) for item in items)
        case Negate(item):
            return not matches(item, row)
        case TimeRange(start, end):
            return (start is None or row.ts_ms >= start) and (end is None or row.ts_ms < end)
        case OneOf(column, values):
            return row.value(column) in values
        case Compare(column, op, value):
            stored = row.value(column)
            return stored is not None and _OPS[op](stored, value)
        case Contains(column, needle):
            return needle.lower() in str(row.value(column)).lower()
        case DataOneOf(path, values):
            return row.leaf(path) in values
        case DataCompare():
            return _data(predicate, row.leaf(predicate.path))
    raise TypeError(f"not a predicate: {predicate!r}")


def _data(predicate: DataCompare, leaf: str | None) -> bool:
    if leaf is None:
        return False
    if predicate.op == "ct":
        return str(predicate.value).lower() in leaf.lower()
    if isinstance(predicate.value, float):
        return bool(_NUMERIC.fullmatch(leaf)) and _OPS[predicate.op](float(leaf), predicate.value)
    return bool(_OPS[predicate.op](leaf, predicate.value))
