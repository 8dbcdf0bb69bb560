"""Field resolution and value typing of the query language."""

from __future__ import annotations

import pytest

from query_api.dsl import check, parse
from query_api.errors import InvalidQuery
from query_api.fields import FIELDS
from query_api.predicates import (
    AllOf,
    Compare,
    Contains,
    DataCompare,
    DataOneOf,
    Negate,
    OneOf,
    TimeRange,
)

DAY = 86_400_000
JAN_1_2018 = 1_514_764_800_000


def typed(query: str) -> object:
    return check(parse(query))


def test_brief_example_resolves_aliases_and_day_semantics() -> None:
    got = typed(
        "((email eq 'diego@chefhero.com') AND (createdAt gte '2018-1-1') AND (message ct 'buyer'))"
    )
    assert got == AllOf(
        (
            Compare(FIELDS["user"], "eq", "diego@chefhero.com"),
            TimeRange(JAN_1_2018, None),
            Contains(FIELDS["message"], "buyer"),
        )
    )


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("eq", TimeRange(JAN_1_2018, JAN_1_2018 + DAY)),
        ("ne", Negate(TimeRange(JAN_1_2018, JAN_1_2018 + DAY))),
        ("gt", TimeRange(JAN_1_2018 + DAY, None)),
        ("gte", TimeRange(JAN_1_2018, None)),
        ("lt", TimeRange(None, JAN_1_2018)),
        ("lte", TimeRange(None, JAN_1_2018 + DAY)),
    ],
)
def test_a_date_means_its_whole_utc_day(op: str, expected: object) -> None:
    assert typed(f"createdAt {op} '2018-1-1'") == expected


def test_a_datetime_means_one_millisecond() -> None:
    assert typed("timestamp lte '2018-01-01T00:00:00Z'") == TimeRange(None, JAN_1_2018 + 1)
    assert typed("timestamp gt '2018-01-01T01:00:00+01:00'") == TimeRange(JAN_1_2018 + 1, None)


def test_severity_is_ordered_and_accepts_aliases() -> None:
    sev = FIELDS["severity"]
    assert typed("severity gte 'warn'") == OneOf(sev, ("WARNING", "ERROR", "CRITICAL"))
    assert typed("severity lt 'INFO'") == OneOf(sev, ("DEBUG",))
    assert typed("severity ne 'fatal'") == Negate(OneOf(sev, ("CRITICAL",)))


def test_numbers_methods_ids_and_data() -> None:
    status = FIELDS["http.status"]  # 0 when absent: never compared
    has_status = Compare(status, "gt", 0)
    assert typed("code in (500, '503')") == AllOf((has_status, OneOf(status, (500, 503))))
    assert typed("code ne 500") == Negate(AllOf((has_status, Compare(status, "eq", 500))))
    assert typed("method eq 'get'") == Compare(FIELDS["http.method"], "eq", "GET")
    uid = "1F4E804B-EBEC-44F5-B2AC-48F54CF62C46"
    assert typed(f"event_id eq '{uid}'") == OneOf(FIELDS["event_id"], (uid.lower(),))
    assert typed("data.amount gt '10'") == DataCompare("amount", "gt", 10.0)
    assert typed("data.region gt 'eu'") == DataCompare("region", "gt", "eu")
    assert typed("data.a.0 in ('x', 'y')") == DataOneOf("a.0", ("x", "y"))
    assert typed("data.a ne 'x'") == Negate(DataCompare("a", "eq", "x"))


def test_data_ordering_against_any_finite_number_is_numeric() -> None:
    # ±10^18 bounds exact integers for Int64 columns; data leaves compare as Float64, and
    # larger numbers used to fall back to a text comparison ('5' > '1e18').
    assert typed("data.x gt 1e18") == DataCompare("x", "gt", 1e18)
    assert typed("data.x lt 2000000000000000000") == DataCompare("x", "lt", 2e18)
    assert typed("data.x gte '-1e300'") == DataCompare("x", "gte", -1e300)


BAD = [
    ("(nope eq 'x')", 1, "unknown field"),
    ("(data. eq 'x')", 1, "unknown field"),
    ("(http.status eq 'abc')", 16, "needs a number"),
    ("(http.status ct '5')", 1, "does not apply"),
    ("(kind gt 'log')", 1, "does not apply"),
    ("(kind eq 'nope')", 9, "is one of"),
    ("(severity eq 'LOUD')", 13, "is one of"),
    ("(event_id eq 'not-a-uuid')", 13, "needs a UUID"),
    ("(event_id ct 'abc')", 1, "does not apply"),
    ("(createdAt gte 'yesterday')", 15, "not a time"),
    ("(createdAt gte '2018-13-01')", 15, "not a time"),
    ("(createdAt in ('2018-1-1'))", 1, "does not apply"),
    ("(http.bytes gt 1e400)", 15, "needs a number"),
    ("(http.bytes gt 1e18)", 15, "out of range"),
    ("(data.x gt 1e400)", 11, "finite number"),
    ("(data.x lte '-1e999')", 12, "finite number"),
]


@pytest.mark.parametrize(("query", "position", "message"), BAD)
def test_semantic_errors_point_at_the_culprit(query: str, position: int, message: str) -> None:
    with pytest.raises(InvalidQuery, match=message) as caught:
        typed(query)
    assert caught.value.position == position
    assert caught.value.expected


RUN = "1" * 100_000


@pytest.mark.timeout(60)  # the patterns' worst case took hours here: fail, do not hang
def test_a_long_run_of_digits_that_is_no_number_is_read_at_once() -> None:
    # The number patterns (`\d+\.?\d*`) let the digits split anywhere, so a run that did not
    # end as a number was retried at every split: quadratic, 1.2 s of CPU holding the GIL
    # (every request of the worker waited) for a 4 KB `q`.
    for query in (f"(http.status eq '{RUN}x')", f"(http.status eq {RUN}x)"):
        with pytest.raises(InvalidQuery):
            typed(query)
    text = f"{RUN}.{RUN}x"
    assert typed(f"(data.x gt '{text}')") == DataCompare("x", "gt", text)  # text, not a number
