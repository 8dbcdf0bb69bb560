from __future__ import annotations

from collections.abc import Collection, Mapping

import faust
import pytest
from faust.assignor.client_assignment import ClientAssignment

from stream_processors.assignor import (
    MIN_BACKLOG_RECORDS,
    BacklogAssignor,
    balance_by_backlog,
)

T = "events"


def tps(*partitions: int, topic: str = T) -> set[tuple[str, int]]:
    return {(topic, p) for p in partitions}


def loads(balanced: Mapping[str, set[tuple[str, int]]], backlog: Mapping[tuple[str, int], int]):
    return {m: sum(backlog.get(tp, 0) for tp in held) for m, held in balanced.items()}


# The benchmark's topic: 12 components in 8 of 12 partitions (murmur2), ~83k events each.
BENCH = {(T, p): n * 83_333 for p, n in {0: 2, 1: 1, 2: 1, 4: 1, 7: 1, 8: 2, 9: 2, 10: 2}.items()}


def test_a_skewed_backlog_is_split_evenly_and_every_partition_kept() -> None:
    proposed = {"a": tps(*range(6)), "b": tps(*range(6, 12))}  # 5 and 7 components
    balanced = balance_by_backlog(BENCH, proposed)
    assert balanced is not None
    assert loads(balanced, BENCH) == {"a": 6 * 83_333, "b": 6 * 83_333}
    assert balanced["a"] | balanced["b"] == tps(*range(12))
    assert not balanced["a"] & balanced["b"]
    assert [len(held) for held in balanced.values()] == [6, 6]  # idle ones even the count


def test_three_members_and_the_largest_first_rule() -> None:
    backlog = {(T, 0): 900, (T, 1): 500, (T, 2): 400, (T, 3): 300, (T, 4): 200, (T, 5): 100}
    proposed = {"a": tps(0, 1), "b": tps(2, 3), "c": tps(4, 5)}  # loads 1400 / 700 / 300
    balanced = balance_by_backlog(backlog, proposed)
    assert balanced is not None
    assert sorted(loads(balanced, backlog).values()) == [700, 800, 900]


def test_no_backlog_or_too_little_keeps_the_proposed_assignment() -> None:
    proposed = {"a": tps(0, 1), "b": tps(2, 3)}
    assert balance_by_backlog({}, proposed) is None
    small = {(T, 0): MIN_BACKLOG_RECORDS - 1}
    assert balance_by_backlog(small, proposed) is None
    assert balance_by_backlog({(T, 0): MIN_BACKLOG_RECORDS}, proposed) is None  # no better split


def test_a_small_gain_keeps_the_proposed_assignment() -> None:
    proposed = {"a": tps(0, 1), "b": tps(2, 3)}
    # a holds 1,050 and b 950: the best split (1,000/1,000) gains under 10%.
    backlog = {(T, 0): 1_000, (T, 1): 50, (T, 2): 950, (T, 3): 0}
    assert balance_by_backlog(backlog, proposed) is None


def test_ties_leave_partitions_with_their_proposed_owner() -> None:
    proposed = {"a": tps(0, 2, 4), "b": tps(1, 3, 5)}
    backlog = {(T, 0): 500, (T, 2): 500, (T, 1): 0, (T, 3): 0}  # a holds all of it
    balanced = balance_by_backlog(backlog, proposed)
    assert balanced is not None
    assert balanced["a"] & tps(0, 2) and balanced["b"] & tps(0, 2)
    # The idle partitions stay where they were while counts allow it.
    assert balanced["b"] >= tps(1, 3, 5) - balanced["a"]
    assert [len(held) for held in balanced.values()] == [3, 3]


def test_a_member_without_partitions_gets_a_share() -> None:
    proposed = {"a": tps(0, 1, 2, 3), "b": set()}
    backlog = {(T, p): 100 for p in range(4)}
    balanced = balance_by_backlog(backlog, proposed)
    assert balanced is not None
    assert loads(balanced, backlog) == {"a": 200, "b": 200}


def _assignor(backlog_of: object) -> BacklogAssignor:
    app = faust.App(f"assignor-test-{id(backlog_of)}", PartitionAssignor=BacklogAssignor)
    assignor = app.assignor
    assert isinstance(assignor, BacklogAssignor)
    assignor.backlog_of = backlog_of  # type: ignore[assignment]
    return assignor


def _clients() -> dict[str, ClientAssignment]:
    return {
        "m1": ClientAssignment(actives={T: [0, 1, 2, 3, 4, 5], "other": [0]}, standbys={}),
        "m2": ClientAssignment(actives={T: [6, 7, 8, 9, 10, 11], "other": [1]}, standbys={}),
    }


def test_the_assignor_rewrites_the_actives_faust_proposed() -> None:
    asked: list[Collection[str]] = []

    def backlog_of(topics: Collection[str]) -> dict[tuple[str, int], int]:
        asked.append(sorted(topics))
        return dict(BENCH)

    clients = _clients()
    _assignor(backlog_of)._global_table_standby_assignments(clients, {T: 12, "other": 2})
    assert asked == [["events", "other"]]
    held = {m: {(t, p) for t, ps in c.actives.items() for p in ps} for m, c in clients.items()}
    assert loads(held, BENCH) == {"m1": 6 * 83_333, "m2": 6 * 83_333}
    assert held["m1"] | held["m2"] == tps(*range(12)) | tps(0, 1, topic="other")
    assert all(ps == sorted(ps) for c in clients.values() for ps in c.actives.values())


@pytest.mark.parametrize("failure", [TimeoutError("broker slow"), KeyError("topic")])
def test_an_unknown_backlog_keeps_fausts_assignment(failure: Exception) -> None:
    def backlog_of(topics: Collection[str]) -> dict[tuple[str, int], int]:
        raise failure

    clients = _clients()
    _assignor(backlog_of)._global_table_standby_assignments(clients, {T: 12, "other": 2})
    assert clients["m1"].actives == {T: [0, 1, 2, 3, 4, 5], "other": [0]}


def test_switched_off_the_assignor_is_fausts() -> None:
    clients = _clients()
    _assignor(None)._global_table_standby_assignments(clients, {T: 12, "other": 2})
    assert clients["m2"].actives == {T: [6, 7, 8, 9, 10, 11], "other": [1]}
