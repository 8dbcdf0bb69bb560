"""Predicates → SQL: values only as placeholders, identifiers only from the allow-list."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from query_api.dsl import check, parse
from query_api.fields import FIELDS
from query_api.predicates import TRUE, AllOf, AnyOf, Compare, Negate, OneOf
from query_api.sql.where import Binder, compile_where


def compiled(query: str) -> tuple[str, dict[str, object]]:
    binder = Binder()
    return compile_where(check(parse(query)), binder), binder.params


def test_the_brief_example_compiles_to_bound_sql() -> None:
    sql, params = compiled(
        "((email eq 'diego@chefhero.com') AND (createdAt gte '2018-1-1') AND (message ct 'buyer'))"
    )
    assert sql == (
        "(`user` = %(p0)s AND ts_ms >= %(p1)s AND "
        "positionCaseInsensitiveUTF8(`message`, %(p2)s) > 0)"
    )
    assert params == {"p0": "diego@chefhero.com", "p1": 1_514_764_800_000, "p2": "buyer"}


def test_shapes() -> None:
    binder = Binder()
    assert compile_where(TRUE, binder) == "1"
    assert compile_where(AnyOf(()), binder) == "0"
    assert compile_where(OneOf(FIELDS["kind"], ()), binder) == "0"
    bytes_ = FIELDS["http.bytes"]
    assert compile_where(Negate(Compare(bytes_, "eq", 5)), binder) == (
        "NOT (ifNull(`http_bytes` = %(p0)s, 0))"
    )
    assert compile_where(OneOf(FIELDS["event_id"], ("a", "b")), binder) == (
        "`event_id` IN (toUUID(%(p1)s), toUUID(%(p2)s))"
    )
    assert compile_where(AllOf((TRUE,)), binder) == "1"


def test_data_leaves_are_addressed_by_bound_paths() -> None:
    sql, params = compiled("data.amount gte 10 AND data.drop-table.0 ct 'y'")
    assert "amount" not in sql and "drop" not in sql
    assert params["p0"] == "amount" and params["p1"] == 10.0 and params["p2"] == "drop-table.0"
    assert "match(arrayElement(data_values, indexOf(data_keys, %(p0)s))" in sql


@given(st.text(min_size=1, max_size=30))
def test_no_value_ever_reaches_the_sql_text(value: str) -> None:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    for field in ("message", "user", "data.k", "http.path", "data"):
        for op in ("eq", "ct", "gt", "ne"):
            sql, params = compiled(f"({field} {op} '{escaped}')")
            assert value in params.values() or (op == "gt" and field == "data.k")
            assert "%(p" in sql
            # Only placeholders, allow-listed names and our own constants in the text.
            stripped = sql
            for name in params:
                stripped = stripped.replace(f"%({name})s", "")
            assert "%" not in stripped
