"""The query language: ``(field op 'value')`` clauses, ``AND``/``OR``/``NOT``, parentheses.

:func:`parse` gives the syntax tree (:mod:`.ast`); :func:`query_api.dsl.check.check`
resolves field names against the allow-list and types the values, giving the
:mod:`query_api.predicates` tree that both the SQL compiler and the in-memory reference
evaluate. Pure: no I/O.
"""

from query_api.dsl.ast import OPS, And, Clause, Literal_, Node, Not, Op, Or
from query_api.dsl.check import check
from query_api.dsl.parser import parse

__all__ = ["OPS", "And", "Clause", "Literal_", "Node", "Not", "Op", "Or", "check", "parse"]
