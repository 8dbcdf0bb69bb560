"""The consumer groups dead-letter replays keep their progress in, read without joining:
how far each got, and which have a run going.

A replay of every letter is :data:`REPLAY_GROUP`; a replay of one reason code is
``<REPLAY_GROUP>.<code>`` (see :mod:`eventpipe.ops.replay`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from confluent_kafka import ConsumerGroupState
from confluent_kafka.admin import ConsumerGroupDescription  # type: ignore[attr-defined]

from eventpipe.kafka import admin_client
from eventpipe.ops.dlq import DeadLetterView
from eventpipe.ops.lag import committed_offsets, consumer_groups

__all__ = ["REPLAY_GROUP", "ReasonProgress", "replay_group", "replays_reading"]

REPLAY_GROUP = "eventpipe-dlq-replay"


def replay_group(reason: str | None) -> str:
    """The group of a replay of ``reason``'s letters (``None``: of every letter)."""
    return REPLAY_GROUP if reason is None else f"{REPLAY_GROUP}.{reason}"


def replays_reading(
    conf: Mapping[str, Any], dlq: str, reason: str | None, timeout: float
) -> list[str]:
    """The replay groups that would send letters a replay of ``reason`` sends too (each
    reason's for a replay of every letter; the full replay's for one reason) and have a run
    reading ``dlq`` now. A group whose partitions are moving counts: they are not shown then.
    Blocking; joins nothing."""
    if reason is None:
        prefix = f"{REPLAY_GROUP}."
        groups = [g for g in consumer_groups(conf, timeout=timeout) if g.startswith(prefix)]
    else:
        groups = [REPLAY_GROUP]
    if not groups:
        return []
    admin = admin_client(conf)  # held until the answers are in: a freed one never answers
    described = admin.describe_consumer_groups(groups, request_timeout=timeout)
    return sorted(g for g, future in described.items() if _reads(future.result(timeout), dlq))


def _reads(group: ConsumerGroupDescription, topic: str) -> bool:
    if not group.members:
        return False
    if group.state != ConsumerGroupState.STABLE:
        return True  # its members' partitions are not shown while they move: assume so
    return any(
        tp.topic == topic for member in group.members for tp in member.assignment.topic_partitions
    )


class ReasonProgress:
    """How far the replays of each reason code got, looked up once per code seen."""

    def __init__(self, conf: Mapping[str, Any], dlq: str, timeout: float) -> None:
        self._args = (conf, dlq, timeout)
        self._of: dict[str, dict[int, int]] = {}

    def passed(self, letter: DeadLetterView) -> bool:
        if letter.code not in self._of:
            conf, dlq, timeout = self._args
            group = replay_group(letter.code)
            self._of[letter.code] = committed_offsets(conf, group, dlq, timeout=timeout)
        return letter.offset < self._of[letter.code].get(letter.partition, -1)
