"""The batch being gathered: decoded events, dead letters, what to ack, per-partition marks."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from stream_processors.decode import Decoded
from stream_processors.offsets import TP

__all__ = ["PendingBatch"]


@dataclass
class PendingBatch:
    decoded: Decoded = field(default_factory=Decoded)
    #: Faust events to acknowledge once the batch is durable (skipped ones included).
    acks: list[Any] = field(default_factory=list)
    #: per partition: first offset covered, and one past the last (the new mark).
    first: dict[TP, int] = field(default_factory=dict)
    marks: dict[TP, int] = field(default_factory=dict)
    #: The insert's columns once built: a retried insert sends the same ones.
    columns: Sequence[Sequence[Any]] | None = None
    #: Building them in the columns thread while earlier batches are inserted.
    columns_job: Future[Sequence[Sequence[Any]]] | None = None
    #: When the first insert attempt began (the insert-latency metric).
    insert_started: float | None = None
    records: int = 0
    skipped: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def rows(self) -> int:
        return len(self.decoded.events)

    @property
    def empty(self) -> bool:
        return not self.acks

    def age(self) -> float:
        return time.monotonic() - self.started

    def cover(self, tp: TP, offset: int) -> None:
        """Note that the record at ``offset`` of ``tp`` belongs to this batch."""
        self.first.setdefault(tp, offset)
        self.marks[tp] = offset + 1

    def dedup_token(self, group: str) -> str:
        """Names exactly this batch: the group and each partition's offset range."""
        ranges = ",".join(
            f"{topic}:{partition}:{self.first[(topic, partition)]}-{end}"
            for (topic, partition), end in sorted(self.marks.items())
        )
        return f"{group}|{ranges}"
