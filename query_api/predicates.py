"""The typed filter tree every read is made of; one evaluator in SQL, one in Python.

Request parameters, the query language and the token's scope all become these nodes
(:mod:`query_api.filters`, :mod:`query_api.dsl.check`). :mod:`query_api.sql.where` compiles
them to parameterized ClickHouse SQL; :mod:`query_api.reference` evaluates them on event
dicts (the in-memory twin and the property tests' oracle). The semantics both follow:

* ``Compare``/``OneOf`` on text compare whole values (absent text is ``''``); on numbers,
  numerically; on a nullable number a missing value never matches (nor, in the query
  language, a number stored as 0 when absent: :attr:`Column.zero_absent`).
* ``Contains`` is a case-insensitive substring test.
* ``TimeRange`` is ``start <= ts_ms < end`` (either side open when ``None``).
* ``DataCompare``/``DataOneOf`` need the ``data`` leaf to exist (the first leaf with that
  path); ordering with a numeric operand compares numerically and only numeric leaves
  match, otherwise text compares as text.
* ``Negate`` is plain logical negation, so ``ne`` is exactly ``NOT eq``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "NUMERIC_TEXT",
    "TRUE",
    "AllOf",
    "AnyOf",
    "Column",
    "ColumnKind",
    "Compare",
    "CompareOp",
    "Contains",
    "DataCompare",
    "DataOneOf",
    "Negate",
    "OneOf",
    "Predicate",
    "Scalar",
    "TimeRange",
]

ColumnKind = Literal["text", "number", "enum", "uuid", "time"]
CompareOp = Literal["eq", "gt", "gte", "lt", "lte"]
Scalar = str | int | float
#: A ``data`` leaf is numeric when its text matches this (RE2 and Python ``re`` agree).
NUMERIC_TEXT: Final = r"^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$"


@dataclass(frozen=True)
class Column:
    """A filterable event field: its public name and the stored column it reads."""

    name: str
    sql: str
    kind: ColumnKind
    nullable: bool = False
    choices: tuple[str, ...] = ()  # enum values, in their order
    upper_case: bool = False  # stored upper case: query values are upper-cased too
    zero_absent: bool = False  # stored 0 when absent (http.status): no comparison matches it


@dataclass(frozen=True)
class Compare:
    column: Column
    op: CompareOp
    value: Scalar


@dataclass(frozen=True)
class OneOf:
    column: Column
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class Contains:
    column: Column
    needle: str


@dataclass(frozen=True)
class TimeRange:
    start_ms: int | None
    end_ms: int | None


@dataclass(frozen=True)
class DataCompare:
    path: str
    op: CompareOp | Literal["ct"]
    value: str | float  # float: a numeric comparison


@dataclass(frozen=True)
class DataOneOf:
    path: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class AllOf:
    items: tuple[Predicate, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Predicate, ...]


@dataclass(frozen=True)
class Negate:
    item: Predicate


Predicate = (
    Compare | OneOf | Contains | TimeRange | DataCompare | DataOneOf | AllOf | AnyOf | Negate
)
#: Matches everything.
TRUE: Final[Predicate] = AllOf(())


def on_present(column: Column, found: Predicate) -> Predicate:
    """``found`` (a comparison on ``column``), never matching a value stored as 0 for
    "absent" (:attr:`Column.zero_absent`: an event without ``http`` has status 0)."""
    if not column.zero_absent:
        return found
    return AllOf((Compare(column, "gt", 0), found))
