"""Replay dead letters: publish each original line again, as a one-line record, to the
ingest topic — after a fix upstream — where it is validated again like any other record.

Replay commits its progress in its own consumer group, so running it twice does not publish
twice. A replay of every letter keeps its progress in :data:`REPLAY_GROUP`; a replay of one
reason code in ``<REPLAY_GROUP>.<code>``, so the letters of other reasons it passes over are
still there for a later replay. Each kind of run skips what the other has sent: a reason run
starts after both its own and the full replay's progress; a full run skips a letter its
reason's group has passed (counted as ``replayed_before``).

Runs at once: a run is a member of its progress group (it subscribes to the dead-letter
topic), so Kafka gives each partition to one run at a time, and runs of one group share the
letters. Before a partition moves to another run, its run waits until Kafka acknowledged
what it sent and commits exactly that; the next owner starts right after it. A full run and
a reason run are in different groups and would both send that reason's letters: once in its
group, before sending anything, a run looks for a member of the other kind reading the same
topic and stops (:class:`ReplayBusy`) if there is one. Each looks after joining, so of two
started at once at least one sees the other. A dry run sends and commits nothing: it reads
every partition without joining.

Letters of the access-log front door hold raw log lines, not events: published to the
ingest topic they could only fail again, as ``bad_json``, with their provenance lost. Replay
leaves them (counted as ``log_lines``); feed the lines to ``eventpipe access-logs`` again.
It also leaves letters holding only the start of a line too large for Kafka (header
``eventpipe.raw.truncated_from``; counted as ``truncated``): the whole line is in its source
topic, and it is over the event size limit anyway.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

from eventpipe.kafka import durable_producer_config
from eventpipe.ops.dlq import DeadLetterView, partition_ends
from eventpipe.ops.lag import committed_offsets
from eventpipe.ops.replay_groups import REPLAY_GROUP, ReasonProgress, replay_group, replays_reading
from events.errors import FatalError
from events.model import COMPONENT_PATTERN

__all__ = [
    "CHECKPOINT",
    "REPLAY_GROUP",
    "ReplayBusy",
    "ReplayFailed",
    "replay_key",
    "replay_letters",
]

CHECKPOINT = 1_000  # letters between two commits of the progress
H_REPLAYED_FROM = "eventpipe.replayed_from"
# A run that died without leaving its group holds its partitions this long (librdkafka's
# default is 45 s); the broker's minimum is 6 s.
_SESSION_TIMEOUT_MS = 10_000
_COMPONENT_NAME = re.compile(COMPONENT_PATTERN)  # with fullmatch: "a\n" is no name
_COMPONENT = re.compile(rb'"component"\s*:\s*"(' + COMPONENT_PATTERN.strip("^$").encode() + rb')"')


class ReplayFailed(FatalError):
    """Kafka refused a replayed letter; progress is saved up to it, so a run after the fix
    (a topic's ``max.message.bytes``, an ACL, ...) resumes there."""


class ReplayBusy(FatalError):
    """A replay of the other kind (every letter, or one reason) is running on the same
    dead-letter topic; this one stopped before sending anything."""


def replay_letters(
    conf: Mapping[str, Any],
    dlq: str,
    ingest: str,
    *,
    reason: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] = lambda done, total: None,
    timeout: float = 30.0,
) -> Counter[str]:
    """Publish the letters not replayed before back to ``ingest``. Blocking.

    Progress is committed every :data:`CHECKPOINT` letters and whenever the group moves a
    partition to another run, each time only after Kafka acknowledged everything sent so
    far, so an interrupted replay resumes, and runs at once share the letters, without
    publishing anything twice. Returns counts ``replayed``, ``skipped`` (other reasons),
    ``replayed_before`` (by a replay of their reason), ``log_lines`` (raw access-log lines,
    never replayed: see the module's text) and ``truncated`` (letters holding only the start
    of a line too large for Kafka). Raises :class:`ReplayBusy` when a replay of the other kind
    runs on ``dlq``, :class:`ReplayFailed` when Kafka refused a letter,
    :class:`TimeoutError` when no letter arrives (or, waiting for the group, no partition)
    for ``timeout`` seconds.
    """
    consumer = Consumer(
        {
            **conf,
            "group.id": replay_group(reason),
            "enable.auto.commit": False,
            "session.timeout.ms": _SESSION_TIMEOUT_MS,
            # Eager: every partition is revoked before any is assigned again; _Replay relies
            # on it (a run owns nothing while partitions move).
            "partition.assignment.strategy": "range",
        }
    )
    try:
        run = _Replay(conf, consumer, dlq, ingest, reason=reason, dry_run=dry_run, timeout=timeout)
        return run.run(progress)
    finally:
        consumer.close()  # leaves the group: its partitions go to the other runs at once


class _Replay:
    """One run: the partitions it owns now, how far it got in each, what Kafka refused.

    Kafka calls :meth:`_assigned`, :meth:`_revoked` and :meth:`_lost` from inside
    ``consume()``, on the thread running the replay.
    """

    def __init__(
        self,
        conf: Mapping[str, Any],
        consumer: Consumer,
        dlq: str,
        ingest: str,
        *,
        reason: str | None,
        dry_run: bool,
        timeout: float,
    ) -> None:
        self.conf, self.consumer, self.dlq, self.ingest = conf, consumer, dlq, ingest
        self.reason, self.dry_run, self.timeout = reason, dry_run, timeout
        self.producer = Producer(durable_producer_config(conf))
        self.ends = partition_ends(consumer, dlq, timeout)  # letters after these are not ours
        self.by_reason = ReasonProgress(conf, dlq, timeout)
        self.owned: dict[int, int] | None = None  # partition -> next offset; None while moving
        self.reached: dict[int, int] = {}  # partition -> offset after the last letter handled
        self.refused: dict[int, tuple[int, str]] = {}  # partition -> first refused offset, why
        self.counts: Counter[str] = Counter(replayed=0, skipped=0, log_lines=0, truncated=0)
        self.alive = time.monotonic()  # when the last letter or partition came

    def run(self, progress: Callable[[int, int], None]) -> Counter[str]:
        self._join()
        try:
            for done, msg in enumerate(self._letters(), 1):
                self._handle(msg)
                progress(done, done + self._left())
                if self.refused:
                    break  # stop at Kafka's first refusal: the checkpoint says which and why
                if not self.dry_run and done % CHECKPOINT == 0:
                    self._checkpoint()
            if not self.dry_run:
                self._checkpoint()
            return self.counts
        except BaseException:
            # Interrupted (Ctrl-C, an error): save the progress made since the last checkpoint,
            # or the next run sends those letters again, and events without an id of their own
            # would be stored twice (their id derives from the new record's offset).
            if not self.dry_run and self.reached:
                with contextlib.suppress(Exception):  # not acknowledged: left for the next run
                    self._checkpoint()
            raise
        finally:
            self.reached.clear()  # saved (or unsaveable): nothing for leaving the group to commit

    def _join(self) -> None:
        """Own partitions: every one for a dry run, else those the group gives this run."""
        if self.dry_run:
            self._assigned(self.consumer, [TopicPartition(self.dlq, p) for p in self.ends])
        else:
            self.consumer.subscribe(
                [self.dlq], on_assign=self._assigned, on_revoke=self._revoked, on_lost=self._lost
            )

    def _letters(self) -> Iterator[Message]:
        """The letters of the partitions this run owns, each once, up to the ends seen at the
        start, until it owns none with letters left."""
        looked = self.dry_run  # a dry run sends nothing: others running do not matter
        while self.owned is None or self._left():
            if time.monotonic() > self.alive + self.timeout:
                raise TimeoutError(self._stuck())
            batch = self.consumer.consume(500, timeout=0.25)  # Kafka assigns in here
            if not looked and self.owned is not None:  # in the group now: visible to others
                self._stop_if_another_kind_runs()
                looked = True
            for msg in batch:
                if self._owns(msg):  # not one fetched before its partition moved
                    self.alive = time.monotonic()
                    yield msg

    def _stop_if_another_kind_runs(self) -> None:
        """Raise :class:`ReplayBusy` if a replay of the other kind reads this topic."""
        busy = replays_reading(self.conf, self.dlq, self.reason, self.timeout)
        if busy:
            kind = "of every letter" if self.reason is not None else "of one reason"
            raise ReplayBusy(
                f"a replay {kind} is running on {self.dlq} (consumer group {', '.join(busy)}); "
                "run this one when it has finished"
            )

    def _owns(self, msg: Message) -> bool:
        if msg.error() is not None or self.owned is None:
            return False
        partition, offset = msg.partition() or 0, msg.offset() or 0
        start = self.owned.get(partition)
        return start is not None and start <= offset < self._end(partition)

    def _end(self, partition: int) -> int:
        return self.ends.get(partition, (0, 0))[1]  # a partition added since: nothing to do

    def _left(self) -> int:
        owned = self.owned or {}
        return sum(max(self._end(p) - offset, 0) for p, offset in owned.items())

    def _stuck(self) -> str:
        if self.owned is None:
            return f"{self.dlq}: the consumer group gave this replay no partitions in time"
        late = sorted(p for p, offset in self.owned.items() if offset < self._end(p))
        return f"{self.dlq}: could not read partitions {late} to the end"

    def _handle(self, msg: Message) -> None:
        letter = DeadLetterView.of(msg)
        if self.reason is not None and letter.code != self.reason:
            self.counts["skipped"] += 1
        elif letter.is_log_line:
            self.counts["log_lines"] += 1
        elif letter.truncated_from:
            self.counts["truncated"] += 1
        elif self.reason is None and self.by_reason.passed(letter):
            self.counts["replayed_before"] += 1
        else:
            self.counts["replayed"] += 1
            if not self.dry_run:
                _republish(self.producer, self.ingest, msg, self.refused)
        assert self.owned is not None  # _owns(msg)
        self.owned[letter.partition] = self.reached[letter.partition] = letter.offset + 1

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """The group gave this run ``partitions``: read each from where replays got to."""
        starts = self._starts([tp.partition for tp in partitions])
        consumer.assign([TopicPartition(self.dlq, p, offset) for p, offset in starts.items()])
        self.owned = starts
        self.alive = time.monotonic()

    def _revoked(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """The group moves ``partitions`` (a run joined or left): commit exactly what Kafka
        acknowledged of them, so that their next owner starts right after it."""
        moving = {tp.partition for tp in partitions}
        self.owned = None
        reached = {p: offset for p, offset in self.reached.items() if p in moving}
        if reached:  # none when the run is over: it saved its progress itself
            self._save(reached)
        for p in moving:
            self.reached.pop(p, None)

    def _lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """``partitions`` went to another run before this one could commit (it did not answer
        the group in time): their letters since the last commit may be sent again."""
        self.owned = None
        for tp in partitions:
            self.reached.pop(tp.partition, None)

    def _starts(self, partitions: list[int]) -> dict[int, int]:
        """Where this run starts in ``partitions``: after its group's progress, and a reason's
        replay also after the full replay's; never before the oldest letter kept."""
        if not partitions:
            return {}
        wanted = [TopicPartition(self.dlq, p) for p in partitions]
        committed = self.consumer.committed(wanted, timeout=self.timeout)
        low = {p: lo for p, (lo, _) in self.ends.items()}
        starts = {tp.partition: max(tp.offset, low.get(tp.partition, 0)) for tp in committed}
        if self.reason is not None:  # what a replay of every letter sent is done, whatever its code
            passed = committed_offsets(self.conf, REPLAY_GROUP, self.dlq, timeout=self.timeout)
            starts = {p: max(start, passed.get(p, -1)) for p, start in starts.items()}
        return starts

    def _checkpoint(self) -> None:
        """Save the progress; then raise :class:`ReplayFailed` if Kafka refused a letter."""
        self._save(self.reached)
        if self.refused:
            p, (offset, why) = min(self.refused.items())
            raise ReplayFailed(
                f"Kafka refused letter {self.dlq}:{p}:{offset}: {why}; progress saved up to it: "
                "run the replay again once that is fixed"
            )

    def _save(self, reached: Mapping[int, int]) -> None:
        """Commit ``reached`` once Kafka acknowledged every letter sent. Blocking."""
        if self.producer.flush(self.timeout):
            raise TimeoutError("replayed records were not all acknowledged; progress not saved")
        # A refused letter and those after it in its partition stay for the next run.
        upto = {
            p: min(o, self.refused[p][0]) if p in self.refused else o for p, o in reached.items()
        }
        if upto:
            offsets = [TopicPartition(self.dlq, p, o) for p, o in upto.items()]
            self.consumer.commit(offsets=offsets, asynchronous=False)


def replay_key(raw: bytes) -> bytes | None:
    """The Kafka key a replayed line goes out with: its event's component, so it joins its
    component's partition. The top-level ``component`` of a line that parses (a pattern
    would find a ``"component"`` nested in ``data`` first, when ``data`` comes first); the
    first well-formed ``"component": "..."`` of one that does not; else none."""
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError:
        match = _COMPONENT.search(raw)
        return match.group(1) if match else None
    component = event.get("component") if isinstance(event, dict) else None
    if isinstance(component, str) and _COMPONENT_NAME.fullmatch(component):
        return component.encode()
    return None


def _republish(
    producer: Producer, ingest: str, msg: Message, refused: dict[int, tuple[int, str]]
) -> None:
    raw = msg.value() or b""
    key = replay_key(raw)
    partition, offset = msg.partition() or 0, msg.offset() or 0
    origin = f"{msg.topic()}:{partition}:{offset}".encode()

    def delivered(error: KafkaError | None, _msg: Message) -> None:
        # flush() counts a refused record as done: without this it would be "replayed".
        if error is not None and offset < refused.get(partition, (offset + 1, ""))[0]:
            refused[partition] = (offset, error.str())

    while True:
        try:
            producer.produce(
                ingest, value=raw, key=key, headers=[(H_REPLAYED_FROM, origin)],
                on_delivery=delivered,
            )  # fmt: skip
            producer.poll(0)  # serve the delivery reports that are in
            return
        except BufferError:
            producer.poll(0.5)
