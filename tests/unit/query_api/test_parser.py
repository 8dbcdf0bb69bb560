"""The query language's parser: the brief's examples, precedence, and every error class."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from query_api.dsl import And, Clause, Literal_, Node, Not, Or, parse
from query_api.dsl.parser import MAX_DEPTH
from query_api.errors import InvalidQuery

BRIEF = "((email eq 'diego@chefhero.com') AND (createdAt gte '2018-1-1') AND (message ct 'buyer'))"


def shape(node: Node) -> object:
    """The tree without positions, for compact expectations."""
    if isinstance(node, Clause):
        return (node.field, node.op, *[v.text for v in node.values])
    if isinstance(node, Not):
        return ("NOT", shape(node.item))
    return (type(node).__name__, *[shape(i) for i in node.items])


def test_the_brief_example_parses_verbatim() -> None:
    assert shape(parse(BRIEF)) == (
        "And",
        ("email", "eq", "diego@chefhero.com"),
        ("createdAt", "gte", "2018-1-1"),
        ("message", "ct", "buyer"),
    )


def test_and_binds_tighter_than_or_and_not_applies_to_one_operand() -> None:
    node = parse("(a eq 'x') OR NOT (b eq 'y') AND (c eq 'z')")
    assert shape(node) == (
        "Or",
        ("a", "eq", "x"),
        ("And", ("NOT", ("b", "eq", "y")), ("c", "eq", "z")),
    )


def test_clauses_need_no_parentheses_and_values_may_be_numbers() -> None:
    assert shape(parse("http.status gte 500 AND data.amount lt -1.5e3")) == (
        "And",
        ("http.status", "gte", "500"),
        ("data.amount", "lt", "-1.5e3"),
    )


def test_in_lists_and_quoting() -> None:
    node = parse("""(severity in ('ERROR', "CRITICAL", 'it''s', 'a\\'b'))""")
    assert shape(node) == ("severity", "in", "ERROR", "CRITICAL", "it's", "a'b")


def test_positions_point_into_the_text() -> None:
    node = parse("  (user eq 'bob')")
    assert isinstance(node, Clause)
    assert node.position == 3
    assert node.values == (Literal_("bob", True, 11),)


def test_keywords_are_case_sensitive() -> None:
    with pytest.raises(InvalidQuery) as caught:
        parse("(a eq 'x') and (b eq 'y')")
    assert caught.value.position == 11
    assert caught.value.expected == ("AND", "OR", "end of query")


MALFORMED = [
    # (query, position, one thing expected)
    ("", 0, "a field name"),
    ("   ", 3, "'('"),
    ("(", 1, "a field name"),
    ("(email eq 'x'", 13, "')'"),
    ("email eq 'x')", 12, "end of query"),
    ("(email 'x')", 7, "eq"),
    ("(email xx 'x')", 7, "in"),
    ("(email eq)", 9, "a quoted value"),
    ("(email eq 'x", 10, "a closing '"),
    ('(email eq "x', 10, 'a closing "'),
    ("(email eq 'x') AND", 18, "a field name"),
    ("(email eq 'x') OR OR (b eq 'y')", 18, "NOT"),
    ("NOT", 3, "a field name"),
    ("(severity in 'ERROR')", 13, "'(' starting a list of values"),
    ("(severity in ('ERROR' 'INFO'))", 22, "','"),
    ("(severity in ())", 14, "a quoted value"),
    ("(email eq 'x') ; DROP TABLE events", 15, "a field name"),
    ("AND (email eq 'x')", 0, "a field name"),
    ("() ", 1, "a field name"),
    ("(email eq 'x') (b eq 'y')", 15, "AND"),
]


@pytest.mark.parametrize(("query", "position", "expected"), MALFORMED)
def test_malformed_queries_name_position_and_expectation(
    query: str, position: int, expected: str
) -> None:
    with pytest.raises(InvalidQuery) as caught:
        parse(query)
    assert caught.value.position == position
    assert expected in caught.value.expected
    assert str(position) in caught.value.message


def test_nesting_is_bounded() -> None:
    deep = "(" * (MAX_DEPTH + 5) + "a eq 'x'" + ")" * (MAX_DEPTH + 5)
    with pytest.raises(InvalidQuery, match="deeper"):
        parse(deep)
    ok = "(" * (MAX_DEPTH - 1) + "a eq 'x'" + ")" * (MAX_DEPTH - 1)
    assert isinstance(parse(ok), Clause)


def test_not_not_nests_without_limit_trouble() -> None:
    with pytest.raises(InvalidQuery):
        parse("NOT " * 200 + "(a eq 'x')")


@given(st.text(max_size=60))
def test_any_text_parses_or_raises_invalid_query(text: str) -> None:
    try:
        parse(text)
    except InvalidQuery as exc:
        error = exc
    else:
        return
    assert 0 <= error.position <= len(text)
    assert error.expected


_FIELDS = st.sampled_from(["user", "email", "createdAt", "data.a.b", "http.status", "kind"])
_OPS = st.sampled_from(["eq", "ne", "ct", "gt", "gte", "lt", "lte"])


def _render(node: Node) -> str:
    if isinstance(node, Clause):
        values = [v.text.replace("\\", "\\\\").replace("'", "''") for v in node.values]
        if node.op == "in":
            return f"({node.field} in ({', '.join(repr_(v) for v in values)}))"
        return f"({node.field} {node.op} {repr_(values[0])})"
    if isinstance(node, Not):
        return f"NOT {_render(node.item)}"
    glue = " AND " if isinstance(node, And) else " OR "
    return "(" + glue.join(_render(i) for i in node.items) + ")"


def repr_(text: str) -> str:
    return f"'{text}'"


_clauses = st.builds(
    lambda f, op, vs: Clause(f, op, tuple(Literal_(v, True, 0) for v in vs), 0),
    _FIELDS,
    st.one_of(_OPS, st.just("in")),
    st.lists(st.text(max_size=8), min_size=1, max_size=3),
).map(lambda c: c if c.op == "in" else Clause(c.field, c.op, c.values[:1], 0))
_trees = st.recursive(
    _clauses,
    lambda kids: st.one_of(
        st.builds(lambda xs: And(tuple(xs)), st.lists(kids, min_size=2, max_size=3)),
        st.builds(lambda xs: Or(tuple(xs)), st.lists(kids, min_size=2, max_size=3)),
        st.builds(Not, kids),
    ),
    max_leaves=8,
)


@given(_trees)
def test_rendered_trees_parse_back_to_the_same_tree(tree: Node) -> None:
    assert shape(parse(_render(tree))) == shape(tree)
