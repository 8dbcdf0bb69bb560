"""Syntax tree → typed predicates: field names against the allow-list, values typed.

Pure. Every refusal is an :class:`~query_api.errors.InvalidQuery` pointing at the field or
the value at fault. See :mod:`query_api.predicates` for what the resulting tree means.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from typing import Final
from uuid import UUID

from events.rules import normalise_severity
from query_api.dsl.ast import And, Clause, Literal_, Node, Not, Or
from query_api.errors import InvalidQuery
from query_api.fields import ALIASES, FIELDS, DataPath, resolve
from query_api.predicates import (
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
    on_present,
)
from query_api.timeparse import parse_time

__all__ = ["check", "number"]

# One way to read each number (`\d+\.?\d*` could split a run of digits anywhere: quadratic
# backtracking over a long run that is no number, with the GIL held).
_NUMBER: Final = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_INT: Final = re.compile(r"-?\d{1,18}")
_ORDERED: Final = frozenset({"gt", "gte", "lt", "lte"})
_LEVEL_OPS: Final[dict[str, Callable[[int, int], bool]]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
_KNOWN: Final = (*FIELDS, *ALIASES, "data.<path>")


def check(node: Node) -> Predicate:
    """The typed predicate of a parsed query."""
    if isinstance(node, And):
        return AllOf(tuple(check(item) for item in node.items))
    if isinstance(node, Or):
        return AnyOf(tuple(check(item) for item in node.items))
    if isinstance(node, Not):
        return Negate(check(node.item))
    return _clause(node)


def _clause(clause: Clause) -> Predicate:
    target = resolve(clause.field)
    if target is None:
        raise InvalidQuery(
            f"unknown field {clause.field!r} at position {clause.position}",
            position=clause.position,
            expected=_KNOWN,
            found=clause.field,
        )
    if isinstance(target, DataPath):
        return _data(target.path, clause)
    return _CHECKS[target.kind](target, clause)


def _bad_value(value: Literal_, why: str, expected: str) -> InvalidQuery:
    return InvalidQuery(
        f"{why} at position {value.position}",
        position=value.position,
        expected=(expected,),
        found=repr(value.text),
    )


def _bad_op(clause: Clause, allowed: str) -> InvalidQuery:
    return InvalidQuery(
        f"operator {clause.op!r} does not apply to {clause.field!r} (use {allowed})",
        position=clause.position,
        expected=(allowed,),
        found=clause.op,
    )


def _negated(clause: Clause, predicate: Predicate) -> Predicate:
    return Negate(predicate) if clause.op == "ne" else predicate


def _text(column: Column, clause: Clause) -> Predicate:
    values = tuple(v.text.upper() if column.upper_case else v.text for v in clause.values)
    if clause.op == "ct":
        return Contains(column, values[0])
    if clause.op == "in":
        return OneOf(column, values)
    op = "eq" if clause.op == "ne" else clause.op
    return _negated(clause, Compare(column, op, values[0]))


def number(text: str) -> int | float | None:
    """A finite number written as text, or ``None``: ints stay exact, within ±10^18."""
    if _INT.fullmatch(text):
        return int(text)
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) and abs(value) < 1e18 else None


def _number(column: Column, clause: Clause) -> Predicate:
    if clause.op == "ct":
        raise _bad_op(clause, "eq, ne, gt, gte, lt, lte or in")
    values: list[int | float] = []
    for literal in clause.values:
        value = number(literal.text)
        if value is None and _NUMBER.fullmatch(literal.text):
            why = f"{clause.field} needs a number within ±10^18, {literal.text} is out of range"
            raise _bad_value(literal, why, "a number")
        if value is None:
            raise _bad_value(literal, f"{clause.field} needs a number", "a number")
        values.append(value)
    found: Predicate
    if clause.op == "in":
        found = OneOf(column, tuple(values))
    else:
        found = Compare(column, "eq" if clause.op == "ne" else clause.op, values[0])
    return _negated(clause, on_present(column, found))  # no http: missing, never compared


def _enum(column: Column, clause: Clause) -> Predicate:
    ordered = column.name == "severity"
    if clause.op == "ct" or (clause.op in _ORDERED and not ordered):
        raise _bad_op(clause, "eq, ne, in" + (", gt, gte, lt or lte" if ordered else ""))
    choices = column.choices
    picked: list[str] = []
    for literal in clause.values:
        value = literal.text
        if ordered:
            value = str(normalise_severity(value))
        if value not in choices:
            raise _bad_value(
                literal, f"{clause.field} is one of {', '.join(choices)}", " | ".join(choices)
            )
        picked.append(value)
    if clause.op in _ORDERED:
        level = choices.index(picked[0])
        keep = _LEVEL_OPS[clause.op]
        return OneOf(column, tuple(c for i, c in enumerate(choices) if keep(i, level)))
    return _negated(clause, OneOf(column, tuple(picked)))


def _uuid(column: Column, clause: Clause) -> Predicate:
    if clause.op not in ("eq", "ne", "in"):
        raise _bad_op(clause, "eq, ne or in")
    ids: list[str] = []
    for literal in clause.values:
        try:
            ids.append(str(UUID(literal.text)))
        except ValueError:
            raise _bad_value(literal, "event_id needs a UUID", "a UUID") from None
    return _negated(clause, OneOf(column, tuple(ids)))


def _time(column: Column, clause: Clause) -> Predicate:
    if clause.op in ("ct", "in"):
        raise _bad_op(clause, "eq, ne, gt, gte, lt or lte")
    literal = clause.values[0]
    try:
        span = parse_time(literal.text)
    except ValueError as exc:
        raise _bad_value(literal, str(exc), "a date, a date-time or epoch milliseconds") from None
    ranges = {
        "eq": (span.start_ms, span.end_ms),
        "ne": (span.start_ms, span.end_ms),
        "gt": (span.end_ms, None),
        "gte": (span.start_ms, None),
        "lt": (None, span.start_ms),
        "lte": (None, span.end_ms),
    }
    start, end = ranges[clause.op]
    return _negated(clause, TimeRange(start, end))


def _data(path: str, clause: Clause) -> Predicate:
    texts = tuple(v.text for v in clause.values)
    if clause.op == "in":
        return DataOneOf(path, texts)
    if clause.op in _ORDERED:
        operand = _data_operand(clause.field, clause.values[0])
        return DataCompare(path, clause.op, operand)  # type: ignore[arg-type]
    op = "eq" if clause.op == "ne" else clause.op
    return _negated(clause, DataCompare(path, op, texts[0]))


def _data_operand(field: str, literal: Literal_) -> str | float:
    """An ordering operand: written as a number, it compares numerically (the leaves as
    Float64, so any finite number will do, not only :func:`number`'s); else as text."""
    if not _NUMBER.fullmatch(literal.text):
        return literal.text
    value = float(literal.text)
    if not math.isfinite(value):
        raise _bad_value(literal, f"{field} compares with a finite number", "a finite number")
    return value


_CHECKS: Final[dict[str, Callable[[Column, Clause], Predicate]]] = {
    "text": _text,
    "number": _number,
    "enum": _enum,
    "uuid": _uuid,
    "time": _time,
}
