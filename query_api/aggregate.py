"""Shaping aggregates that storage computed: the stats roll-up and zero-filled buckets.

Pure. Storage counts (in ClickHouse: one ``GROUP BY`` each); these functions only arrange
those counts into the response: the stats cube (component x kind x severity, a few hundred
rows at most) is summed per dimension, and buckets with no events are filled with zeros.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from events.model import KINDS, SEVERITIES
from query_api.errors import BadRequest
from query_api.filters import EventFilter
from query_api.repository import INTERVAL_MS, Bucket, GroupBy, Interval, Series, Stats

__all__ = ["CubeRow", "fill_series", "roll_up"]

#: (component, kind, severity, count, first ts_ms, last ts_ms)
CubeRow = tuple[str, str, str, int, int, int]


def roll_up(cube: Iterable[CubeRow]) -> Stats:
    """Stats from per-(component, kind, severity) counts; every severity and kind listed."""
    by_severity: Counter[str] = Counter(dict.fromkeys(SEVERITIES, 0))
    by_kind: Counter[str] = Counter(dict.fromkeys(KINDS, 0))
    by_component: Counter[str] = Counter()
    firsts: list[int] = []
    lasts: list[int] = []
    for component, kind, severity, count, first, last in cube:
        by_severity[severity] += count
        by_kind[kind] += count
        by_component[component] += count
        firsts.append(first)
        lasts.append(last)
    return Stats(
        total=sum(by_component.values()),
        by_severity=dict(by_severity),
        by_component=dict(sorted(by_component.items(), key=lambda kv: (-kv[1], kv[0]))),
        by_kind=dict(by_kind),
        first_ms=min(firsts, default=None),
        last_ms=max(lasts, default=None),
    )


def _groups(group_by: GroupBy | None, seen: Iterable[str], where: EventFilter) -> list[str]:
    if group_by == "severity":
        return list(SEVERITIES)
    if group_by == "kind":
        return list(KINDS)
    return sorted(set(seen) | set(where.components) - {""})


def _check_size(buckets: int, groups: int, interval: Interval, max_values: int) -> None:
    """Refuse a series of more than ``max_values`` values (``buckets`` x ``groups``)."""
    if buckets * groups <= max_values:
        return
    what = f"{interval} buckets" + (" x groups" if groups > 1 else "")
    raise BadRequest(
        f"{what} over this range would be more than {max_values} values (api_max_buckets): "
        "narrow since/until, use a coarser interval or fewer groups"
    )


def fill_series(
    counts: Iterable[tuple[int, str, int]],
    where: EventFilter,
    interval: Interval,
    group_by: GroupBy | None,
    max_values: int,
) -> Series:
    """Buckets from ``since`` (or the first event) to ``until`` (or the last), zeros included.

    ``counts`` holds ``(bucket start ms, group, count)``; the group is ``''`` without
    ``group_by``. Raises :class:`BadRequest` when the series would hold more than
    ``max_values`` values: buckets times groups (one without ``group_by``). Every pair in
    ``counts`` is one of those values, so ``counts`` cut short after ``max_values + 1``
    pairs (as storage returns them) is refused all the same.
    """
    step = INTERVAL_MS[interval]
    table: dict[int, Counter[str]] = {}
    for start, group, count in counts:
        table.setdefault(start, Counter())[group] += count
    low = where.since_ms if where.since_ms is not None else min(table, default=None)
    high = where.until_ms
    if high is None and table:  # to the last event; with none there is no end to fill to
        high = max(table) + step
    if low is None or high is None or high <= low:
        return Series(interval, group_by, [])
    starts = range(low // step * step, high, step)
    names = _groups(group_by, (g for c in table.values() for g in c), where)
    # A bucket is one value even with no group to list (nothing matched).
    _check_size(len(starts), max(len(names), 1) if group_by else 1, interval, max_values)
    buckets = []
    for start in starts:
        found = table.get(start, Counter())
        groups = {name: found.get(name, 0) for name in names} if group_by else None
        buckets.append(Bucket(start, sum(found.values()), groups))
    return Series(interval, group_by, buckets)
