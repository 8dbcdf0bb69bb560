"""The query language's grammar, parsed by recursive descent into :mod:`.ast` nodes.

::

    query   := or EOF
    or      := and ( "OR" and )*
    and     := unary ( "AND" unary )*
    unary   := "NOT" unary | primary
    primary := "(" or ")" | clause
    clause  := FIELD OP value | FIELD "in" "(" value ( "," value )* ")"
    value   := STRING | NUMBER

``AND`` binds tighter than ``OR``; keywords are case-sensitive, operators are lower case
(``eq ne ct gt gte lt lte in``). The brief's form ``((email eq 'x') AND (createdAt gte
'2018-1-1'))`` is simply clauses in parentheses. Pure; every error is an
:class:`~query_api.errors.InvalidQuery` naming the position and what was expected.
"""

from __future__ import annotations

from typing import Final

from query_api.dsl.ast import OPS, And, Clause, Literal_, Node, Not, Op, Or
from query_api.dsl.lexer import Token, describe, tokenize
from query_api.errors import InvalidQuery

__all__ = ["MAX_CLAUSES", "MAX_DEPTH", "MAX_IN_VALUES", "parse"]

MAX_DEPTH: Final = 32
MAX_CLAUSES: Final = 256
MAX_IN_VALUES: Final = 1000
_KEYWORDS: Final = frozenset({"AND", "OR", "NOT"})
_OPS: Final = frozenset(OPS)
_START: Final = ("'('", "NOT", "a field name")


def parse(text: str) -> Node:
    """Parse ``text``; raises :class:`InvalidQuery` when it is not a query."""
    return _Parser(tokenize(text)).query()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._at = 0
        self._clauses = 0

    # --- helpers -------------------------------------------------------------------------

    def _peek(self) -> Token:
        return self._tokens[self._at]

    def _take(self) -> Token:
        token = self._tokens[self._at]
        self._at += 1
        return token

    def _is_word(self, word: str) -> bool:
        return self._peek().kind == "word" and self._peek().text == word

    def _fail(self, expected: tuple[str, ...], message: str | None = None) -> InvalidQuery:
        token = self._peek()
        found = describe(token)
        text = message or f"expected {_or(expected)} at position {token.position}, found {found}"
        return InvalidQuery(text, position=token.position, expected=expected, found=found)

    # --- grammar -------------------------------------------------------------------------

    def query(self) -> Node:
        node = self._or(0)
        if self._peek().kind != "end":
            raise self._fail(("AND", "OR", "end of query"))
        return node

    def _or(self, depth: int) -> Node:
        items = [self._and(depth)]
        while self._is_word("OR"):
            self._take()
            items.append(self._and(depth))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def _and(self, depth: int) -> Node:
        items = [self._unary(depth)]
        while self._is_word("AND"):
            self._take()
            items.append(self._unary(depth))
        return items[0] if len(items) == 1 else And(tuple(items))

    def _unary(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self._fail(_START, f"query nests deeper than {MAX_DEPTH} levels")
        if self._is_word("NOT"):
            self._take()
            return Not(self._unary(depth + 1))
        return self._primary(depth)

    def _primary(self, depth: int) -> Node:
        token = self._peek()
        if token.kind == "(":
            self._take()
            node = self._or(depth + 1)
            if self._peek().kind != ")":
                raise self._fail(("AND", "OR", "')'"))
            self._take()
            return node
        if token.kind == "word" and token.text not in _KEYWORDS:
            return self._clause()
        raise self._fail(_START)

    def _clause(self) -> Clause:
        field = self._take()
        self._clauses += 1
        if self._clauses > MAX_CLAUSES:
            raise InvalidQuery(
                f"query has more than {MAX_CLAUSES} clauses",
                position=field.position,
                expected=("a shorter query",),
                found=field.text,
            )
        if not (self._peek().kind == "word" and self._peek().text in _OPS):
            raise self._fail(
                tuple(OPS),
                f"expected an operator ({', '.join(OPS)}) after "
                f"{field.text!r} at position {self._peek().position}, found "
                f"{describe(self._peek())}",
            )
        op: Op = self._take().text  # type: ignore[assignment]
        values = self._list() if op == "in" else (self._value(),)
        return Clause(field.text, op, values, field.position)

    def _list(self) -> tuple[Literal_, ...]:
        if self._peek().kind != "(":
            raise self._fail(("'(' starting a list of values",))
        self._take()
        values = [self._value()]
        while self._peek().kind == ",":
            self._take()
            values.append(self._value())
            if len(values) > MAX_IN_VALUES:
                raise self._fail(("')'",), f"more than {MAX_IN_VALUES} values in a list")
        if self._peek().kind != ")":
            raise self._fail(("','", "')'"))
        self._take()
        return tuple(values)

    def _value(self) -> Literal_:
        token = self._peek()
        if token.kind not in ("string", "number"):
            raise self._fail(("a quoted value", "a number"))
        self._take()
        return Literal_(token.text, token.kind == "string", token.position)


def _or(expected: tuple[str, ...]) -> str:
    if len(expected) == 1:
        return expected[0]
    return ", ".join(expected[:-1]) + " or " + expected[-1]
