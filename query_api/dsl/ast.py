"""The syntax tree of the query language, exactly as written (names not yet resolved).

``(email eq 'a@b.c') AND NOT (message ct 'buyer')`` parses to::

    And((Clause('email', 'eq', ('a@b.c',)), Not(Clause('message', 'ct', ('buyer',)))))

Positions are 0-based offsets into the query text, kept so that later checks (unknown
field, a value of the wrong type) can point at the offending spot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

__all__ = ["OPS", "And", "Clause", "Literal_", "Node", "Not", "Op", "Or"]

Op = Literal["eq", "ne", "ct", "gt", "gte", "lt", "lte", "in"]
OPS: Final[tuple[Op, ...]] = get_args(Op)


@dataclass(frozen=True)
class Literal_:
    """A value as written: a quoted string, or a bare number kept as its text."""

    text: str
    quoted: bool
    position: int


@dataclass(frozen=True)
class Clause:
    """``field op value`` (or ``field in (v1, v2, ...)``)."""

    field: str
    op: Op
    values: tuple[Literal_, ...]
    position: int


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Clause | And | Or | Not
