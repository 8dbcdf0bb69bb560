"""Partition assignment that shares the backlog, not just the partition count.

Events are keyed by component, so a topic's partitions carry very different loads: the
benchmark's 12 components land in 8 of 12 partitions, and Faust's assignor (like Kafka's
own) gives each worker an equal *number* of partitions — with two workers, 7/12 of the
events to one and 5/12 to the other, which then idles for the last third of a catch-up.
When a rebalance finds a backlog (a catch-up after an outage, a worker added to work one
off), :class:`BacklogAssignor` hands the source topics' partitions out by their backlog
instead: largest first, each to the member with the least so far (the greedy
longest-processing-time rule; within 4/3 of the best split), a partition staying with its
current owner on a tie.

It only steps in when that pays: the backlog totals at least :data:`MIN_BACKLOG_RECORDS`
records and the busiest member's share falls by at least :data:`MIN_GAIN`; otherwise
Faust's sticky, count-balanced assignment stands, so a steady group is not reshuffled.
Changelog topics of tables are left to Faust. The members of a group all read the same
topics (one ``EVENTPIPE_TOPIC`` per group), so any partition may go to any member.

The backlog of a partition is its lag: end offset minus the group's committed offset
(records, not events: a record holds one or many events), read as ``eventpipe lag`` reads
it (:func:`eventpipe.ops.lag.measure_lag`; nothing joins the group). The group leader reads
it when it assigns; this blocks the leader's event loop meanwhile (~70 ms here, most of it
the clients' start; each request at most ``worker_assign_backlog_timeout_seconds``). Any
failure there falls back to Faust's assignment: balancing is an optimisation, never a
reason to fail a rebalance.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, Final

from faust.assignor import PartitionAssignor

from eventpipe.logs import get_logger
from eventpipe.ops.lag import measure_lag

__all__ = [
    "MIN_BACKLOG_RECORDS",
    "MIN_GAIN",
    "BacklogAssignor",
    "balance_by_backlog",
    "read_backlog",
]

log = get_logger(__name__)

TP = tuple[str, int]
#: Below this many records of backlog in all, the count-balanced assignment stands.
MIN_BACKLOG_RECORDS: Final = 100
#: The busiest member's backlog must fall by at least this fraction for a reassignment.
MIN_GAIN: Final = 0.10


def balance_by_backlog(
    backlog: Mapping[TP, int], proposed: Mapping[str, Collection[TP]]
) -> dict[str, set[TP]] | None:
    """A reassignment of ``proposed``'s partitions that shares ``backlog``, or None to keep
    ``proposed`` (too little backlog, or too little gain).

    Pure. ``proposed`` maps each member to its partitions (every member appears, possibly
    with none); a partition missing from ``backlog`` counts as none. Loaded partitions go
    largest first to the member with the least backlog so far (ties: the proposed owner,
    then fewer partitions, then member order); partitions without backlog then even out
    the partition counts, staying with their proposed owner where that keeps counts even.
    """
    members = sorted(proposed)
    owner = {tp: member for member in members for tp in proposed[member]}
    if not members or sum(backlog.get(tp, 0) for tp in owner) < MIN_BACKLOG_RECORDS:
        return None
    before = max(sum(backlog.get(tp, 0) for tp in proposed[m]) for m in members)
    load = dict.fromkeys(members, 0)
    out: dict[str, set[TP]] = {m: set() for m in members}
    loaded = sorted(
        (tp for tp in owner if backlog.get(tp, 0) > 0), key=lambda tp: (-backlog[tp], tp)
    )
    for tp in loaded:
        rank = {m: (load[m], m != owner[tp], len(out[m]), i) for i, m in enumerate(members)}
        best = min(members, key=rank.__getitem__)
        out[best].add(tp)
        load[best] += backlog[tp]
    after = max(load.values())
    if after > before * (1 - MIN_GAIN):
        return None
    idle = sorted(tp for tp in owner if backlog.get(tp, 0) <= 0)
    quota = -(-len(owner) // len(members))  # ceil: no member holds more than Faust would
    # First pass: an idle partition stays with its proposed owner while that owner has room.
    rest = []
    for tp in idle:
        if len(out[owner[tp]]) < quota:
            out[owner[tp]].add(tp)
        else:
            rest.append(tp)
    for tp in rest:
        fewest = min(members, key=lambda m: (len(out[m]), members.index(m)))
        out[fewest].add(tp)
    return out


def read_backlog(
    conf: Mapping[str, Any], group: str, topics: Iterable[str], timeout: float
) -> dict[TP, int]:
    """Each partition's lag for ``group`` (:func:`eventpipe.ops.lag.measure_lag`, what
    ``eventpipe lag`` shows), never below zero. Blocking; raises on any failure."""
    return {
        (report.topic, row.partition): max(0, row.lag)
        for topic in sorted(set(topics))
        for report in measure_lag(conf, topic, [group], timeout=timeout)
        for row in report.partitions
    }


class BacklogAssignor(PartitionAssignor):
    """Faust's assignor, then :func:`balance_by_backlog` over the source topics' actives.

    ``backlog_of(topics)`` returns each partition's backlog (records); the app binds it to
    :func:`read_backlog` with the group's connection, or to None to leave Faust's
    assignment alone.
    """

    backlog_of: Callable[[Collection[str]], Mapping[TP, int]] | None = None

    def _global_table_standby_assignments(self, assignments: Any, partitions_by_topic: Any) -> Any:
        # Faust's hook between its copartitioned assignment and the protocol's encoding:
        # the actives are final here, and Faust derives every distribution from them after.
        if self.backlog_of is not None:
            self._rebalance(assignments)
        return super()._global_table_standby_assignments(assignments, partitions_by_topic)

    def _rebalance(self, assignments: Mapping[str, Any]) -> None:
        changelogs = set(self._table_manager.changelog_topics)
        topics = {
            topic
            for client in assignments.values()
            for topic in client.actives
            if topic not in changelogs
        }
        if not topics or len(assignments) < 2:
            return
        assert self.backlog_of is not None
        try:
            backlog = self.backlog_of(topics)
        except Exception as exc:  # keep Faust's assignment
            log.warning("backlog unknown; partitions assigned by count", error=str(exc))
            return
        proposed = {
            member: {(t, p) for t, parts in client.actives.items() if t in topics for p in parts}
            for member, client in assignments.items()
        }
        balanced = balance_by_backlog(backlog, proposed)
        if balanced is None:
            return
        for member, client in assignments.items():
            for topic in topics:
                client.actives.pop(topic, None)
            for topic, partition in sorted(balanced[member]):
                client.actives.setdefault(topic, []).append(partition)
        log.info(
            "partitions assigned by backlog",
            members={
                member: {
                    "partitions": sorted(f"{t}[{p}]" for t, p in balanced[member]),
                    "backlog": sum(backlog.get(tp, 0) for tp in balanced[member]),
                }
                for member in sorted(balanced)
            },
        )
