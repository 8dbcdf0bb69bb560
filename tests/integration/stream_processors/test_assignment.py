"""Partition assignment by backlog, against the real broker and server."""

from __future__ import annotations

import json
import time
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from events.codec import pack_lines
from stream_processors.assignor import read_backlog
from tests.integration.stream_processors.conftest import Pipeline
from tests.integration.stream_processors.test_worker import assert_exactly
from tests.support.names import unique
from tests.support.pipeline import WorkerProcess, make_lines, wait_for_rows


def produce_to(
    conf: dict[str, Any], topic: str, lines: list[tuple[str, bytes]], partitions: list[int]
) -> None:
    """Records of 10 lines, spread round-robin over the given ``partitions`` only (a
    backlog as skewed as keys can make it)."""
    producer = Producer({**conf, "linger.ms": 5})
    values = list(pack_lines([line for _, line in lines], max_events=10))
    for i, value in enumerate(values):
        producer.produce(topic, value=value, key=b"svc", partition=partitions[i % len(partitions)])
        producer.poll(0)
    assert producer.flush(30) == 0


def assigned(worker: WorkerProcess) -> list[list[int]]:
    """Every assignment the worker logged, in order."""
    out = []
    for line in worker.log().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("event") == "partitions assigned":
                out.append(record["partitions"])
    return out


def test_the_backlog_is_end_minus_committed_per_partition(pipeline: Pipeline) -> None:
    conf, topic = pipeline.conf, pipeline.topic
    produce_to(conf, topic, make_lines(300, seed=11), [0, 1])  # 15 records each
    group = unique("grp")
    consumer = Consumer({**conf, "group.id": group, "enable.auto.commit": False})
    try:
        consumer.commit(offsets=[TopicPartition(topic, 0, 4)], asynchronous=False)
    finally:
        consumer.close()
    backlog = read_backlog(conf, group, [topic], timeout=10)
    assert backlog == {(topic, p): {0: 11, 1: 15}.get(p, 0) for p in range(12)}


def test_a_catch_up_is_shared_by_backlog_not_by_partition_count(pipeline: Pipeline) -> None:
    conf, topic, ch_client, ch_database, _ = pipeline
    # The whole backlog sits in partitions 0 and 1. Partitions are handed out 6 and 6, and
    # by count both would stay with one worker while the other idles.
    n = 10_000
    lines = make_lines(n, seed=12)
    produce_to(conf, topic, lines, [0, 1])
    # Slow on purpose (one record per insert): the first worker must not finish alone
    # before the second has joined.
    env = pipeline.settings(
        worker_batch_max_rows=10,
        worker_batches_in_flight=1,
        worker_take_max_records=1,
        worker_delivery_max_records=1,
    )
    a = WorkerProcess(env).start()
    try:
        a.wait_assigned()
        with WorkerProcess(env) as b:
            deadline = time.monotonic() + 60
            while not (len(assigned(a)) >= 2 and assigned(b)):
                assert time.monotonic() < deadline, "the second worker never joined"
                time.sleep(0.2)
            stored_at_join = ch_client.execute(f"SELECT count() FROM `{ch_database}`.events")
            assert stored_at_join[0][0] < n * 0.8, "the first worker did it alone: no test"
            loaded = [sorted({0, 1} & set(assigned(w)[-1])) for w in (a, b)]
            assert sorted(loaded) == [[0], [1]], (stored_at_join, assigned(a), assigned(b))
            leader = a.log() + b.log()
            assert "partitions assigned by backlog" in leader
            assert [len(assigned(w)[-1]) for w in (a, b)] == [6, 6]
            wait_for_rows(ch_client, ch_database, n)
            assert b.terminate() == 0
        assert a.terminate() == 0
    finally:
        if a.alive():
            a.kill()
    assert_exactly(ch_client, ch_database, lines)
