from __future__ import annotations

import pytest

from query_api.aggregate import fill_series, roll_up
from query_api.errors import BadRequest
from query_api.filters import EventFilter

H = 3_600_000


def test_roll_up_sums_each_dimension_and_lists_every_level() -> None:
    stats = roll_up(
        [
            ("a", "log", "INFO", 3, 10, 20),
            ("b", "error", "ERROR", 1, 5, 30),
            ("a", "log", "ERROR", 1, 7, 8),
        ]
    )
    assert stats.total == 5
    assert stats.by_component == {"a": 4, "b": 1}
    assert stats.by_severity == {"DEBUG": 0, "INFO": 3, "WARNING": 0, "ERROR": 2, "CRITICAL": 0}
    assert stats.by_kind == {"log": 4, "error": 1, "event": 0, "access": 0}
    assert (stats.first_ms, stats.last_ms, stats.error_rate) == (5, 30, 0.4)
    empty = roll_up([])
    assert (empty.total, empty.first_ms, empty.error_rate) == (0, None, 0.0)


def test_buckets_between_the_bounds_are_zero_filled() -> None:
    where = EventFilter(since_ms=H + 5, until_ms=4 * H)
    series = fill_series([(2 * H, "a", 2), (2 * H, "b", 1)], where, "1h", "component", 100)
    assert [(b.start_ms, b.count, b.groups) for b in series.buckets] == [
        (H, 0, {"a": 0, "b": 0}),
        (2 * H, 3, {"a": 2, "b": 1}),
        (3 * H, 0, {"a": 0, "b": 0}),
    ]


def test_without_bounds_the_data_decides_and_nothing_gives_nothing() -> None:
    series = fill_series([(0, "", 1), (2 * H, "", 4)], EventFilter(), "1h", None, 100)
    assert [(b.start_ms, b.count, b.groups) for b in series.buckets] == [
        (0, 1, None),
        (H, 0, None),
        (2 * H, 4, None),
    ]
    assert fill_series([], EventFilter(), "1m", None, 100).buckets == []


def test_too_many_buckets_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="more than 10"):
        fill_series([], EventFilter(since_ms=0, until_ms=11 * 60_000), "1m", None, 10)


def test_a_range_one_millisecond_past_the_limit_is_refused() -> None:
    # 10 whole minutes and 1 ms need 11 one-minute buckets
    with pytest.raises(BadRequest, match="more than 10"):
        fill_series([], EventFilter(since_ms=0, until_ms=10 * 60_000 + 1), "1m", None, 10)
    exact = fill_series([], EventFilter(since_ms=0, until_ms=10 * 60_000), "1m", None, 10)
    assert len(exact.buckets) == 10


def test_since_alone_with_nothing_matching_gives_no_buckets() -> None:
    # no events means no last event to end at, wherever since is (1969 gave zeros to 1970)
    for since in (-30 * 86_400_000, -1, 0, H):
        assert fill_series([], EventFilter(since_ms=since), "1d", None, 100).buckets == []


def test_the_limit_counts_buckets_times_groups() -> None:
    where = EventFilter(since_ms=0, until_ms=4 * H)
    counts = [(0, "a", 1), (0, "b", 1), (0, "c", 1)]
    with pytest.raises(BadRequest, match=r"1h buckets x groups .* more than 10 values"):
        fill_series(counts, where, "1h", "component", 10)
    assert len(fill_series(counts, where, "1h", None, 10).buckets) == 4  # 4 values
    with pytest.raises(BadRequest, match="more than 10"):
        fill_series([], where, "1h", "severity", 10)  # 4 x 5 severities, none seen
    assert len(fill_series(counts[:2], where, "1h", "component", 8).buckets) == 4


def test_a_grouped_range_with_no_group_still_counts_its_buckets() -> None:
    with pytest.raises(BadRequest, match="more than 10"):
        fill_series([], EventFilter(since_ms=0, until_ms=11 * H), "1h", "component", 10)
