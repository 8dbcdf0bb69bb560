"""Which filters the stats roll-up can answer, and the SQL that reads it. Pure."""

from __future__ import annotations

from query_api.dsl import check, parse
from query_api.filters import EventFilter
from query_api.predicates import TRUE, AllOf
from query_api.sql.statements import DAY_MS, RolledDay, rollup_split, stats

DAY0 = 1_704_067_200_000  # 2024-01-01


def split_of(query: str | None = None, **fields: object) -> object:
    where = EventFilter(query=check(parse(query)) if query else None, **fields)  # type: ignore[arg-type]
    return rollup_split(where.predicate())


def test_component_kind_severity_and_time_are_answered() -> None:
    split = split_of(
        "((severity gte 'WARNING') AND NOT (component ct 'pay') OR (kind eq 'error'))",
        components=("orders",),
        since_ms=DAY0,
        until_ms=DAY0 + 2 * DAY_MS,
    )
    assert split is not None
    assert split.start_ms == DAY0 and split.end_ms == DAY0 + 2 * DAY_MS  # type: ignore[attr-defined]
    assert rollup_split(TRUE) is not None


def test_time_ranges_intersect_and_cover_whole_days_only() -> None:
    split = rollup_split(
        check(parse("((createdAt gte '2024-01-01') AND (createdAt lt '2024-01-03T12:00:00Z'))"))
    )
    assert split is not None
    assert split.covers(DAY0) and split.covers(DAY0 + DAY_MS)
    assert not split.covers(DAY0 + 2 * DAY_MS)  # cut at noon
    assert not split.covers(DAY0 - DAY_MS)
    assert split_of(since_ms=DAY0 + 1).covers(DAY0) is False  # type: ignore[attr-defined]


def test_other_fields_and_time_under_or_are_not_answered() -> None:
    assert split_of("(message ct 'x')") is None
    assert split_of("(data.order_id eq '1')") is None
    assert split_of(users=("ann",)) is None
    assert split_of(environments=("prod",)) is None
    assert split_of("((createdAt gte '2024-01-01') OR (severity eq 'ERROR'))") is None
    assert split_of("NOT (createdAt gte '2024-01-01')") is None


def test_stats_reads_the_rollup_only_for_rolled_days() -> None:
    where = EventFilter(components=("orders",)).predicate()
    plain, _ = stats("db", where, [DAY0])
    assert "events_daily" not in plain
    rolled = [RolledDay(DAY0 + DAY_MS, "20240102_1_9_2")]
    sql, params = stats("db", where, [DAY0], rolled, AllOf(()))
    assert "`db`.events_daily WHERE part IN (%(p" in sql
    assert "LIMIT 1 BY part, component, kind, severity" in sql
    assert "20240102_1_9_2" in params.values()
    # The rolled day is left out of the events side; the unsettled day is deduplicated.
    assert "AND NOT ((ts_ms >=" in sql and "LIMIT 1 BY ts_ms, event_id" in sql
    assert "orders" not in sql  # values only as placeholders


def test_consecutive_days_make_one_range() -> None:
    where = EventFilter().predicate()
    days = [RolledDay(DAY0 + i * DAY_MS, f"p{i}") for i in (0, 1, 2, 4)]
    sql, params = stats("db", where, [], days, AllOf(()))
    assert sql.count("ts_ms >=") == 2
    bounds = sorted(v for v in params.values() if isinstance(v, int))
    assert bounds == [DAY0, DAY0 + 3 * DAY_MS, DAY0 + 4 * DAY_MS, DAY0 + 5 * DAY_MS]
