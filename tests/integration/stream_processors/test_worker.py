"""Workers against the real broker and server: no loss, no duplicates, dead letters."""

from __future__ import annotations

import base64
import os
import threading
import time
import uuid
from typing import Any

import msgspec
import orjson
from clickhouse_driver import Client
from confluent_kafka import Consumer, Message, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)

from events.limits import MAX_LETTER_BYTES, MAX_MESSAGE_CHARS
from events.topics import (
    H_CODE,
    H_FIELD,
    H_LINE,
    H_OFFSET,
    H_PARTITION,
    H_TRUNCATED,
    dlq_topic,
)
from tests.integration.stream_processors.conftest import Pipeline
from tests.support.kafka import read_all, wait_for_records
from tests.support.pipeline import (
    WorkerProcess,
    expected_events,
    make_lines,
    produce,
    raw_row_count,
    stored_events,
    wait_for_rows,
)


def assert_exactly(client: Client, database: str, lines: list[tuple[str, bytes]]) -> None:
    want = expected_events([line for _, line in lines])
    assert stored_events(client, database) == want


def why(letter: Message) -> tuple[bytes, str, str]:
    """A dead letter's line, reason code and field."""
    headers = dict(letter.headers() or [])
    return letter.value() or b"", headers[H_CODE].decode(), headers[H_FIELD].decode()


def where_from(letter: Message) -> tuple[int, int, int]:
    """A dead letter's source partition, offset and line."""
    headers = dict(letter.headers() or [])
    return int(headers[H_PARTITION]), int(headers[H_OFFSET]), int(headers[H_LINE])


def test_packed_and_single_records_arrive_exactly_once(pipeline: Pipeline) -> None:
    conf, topic, ch_client, ch_database, worker_env = pipeline
    packed, single = make_lines(6_000, seed=1), make_lines(1_500, seed=2)
    produce(conf, topic, packed, per_record=250)
    produce(conf, topic, single, per_record=1)
    with WorkerProcess(worker_env) as worker:
        wait_for_rows(ch_client, ch_database, 7_500)
        assert worker.terminate() == 0
    assert_exactly(ch_client, ch_database, packed + single)
    assert raw_row_count(ch_client, ch_database) == 7_500
    assert read_all(conf, dlq_topic(topic)) == []


def test_the_end_of_a_backlog_is_written_once_read_not_once_old(pipeline: Pipeline) -> None:
    ch_client, ch_database = pipeline.ch_client, pipeline.ch_database
    # A backlog of 2.5 batches, and batches that would otherwise wait a minute for their
    # age: the two full ones go at once, and the half one as soon as the worker has read
    # every partition to its high-water mark (12 partitions, most of them empty).
    lines = pipeline.backlog(2_500, seed=7, per_record=250)
    env = pipeline.settings(worker_batch_max_rows=1000, worker_batch_max_seconds=60)
    with WorkerProcess(env) as worker:
        wait_for_rows(ch_client, ch_database, 2_500, timeout=30)
        assert worker.terminate() == 0
    assert_exactly(ch_client, ch_database, lines)


def test_malformed_lines_are_dead_lettered_with_reason_and_place(pipeline: Pipeline) -> None:
    conf, topic, ch_client, ch_database, worker_env = pipeline
    good = make_lines(3_800, seed=3, components=1)
    bad_kinds = [
        (b'{"component": "svc-0", "message": "x"', "bad_json", ""),
        (b'{"component": "svc-0", "message": 42}', "invalid_field", "message"),
        (b'{"message": "no component"}', "missing_field", "component"),
        (
            orjson.dumps({"component": "svc-0", "message": "x" * (MAX_MESSAGE_CHARS + 1)}),
            "too_long",
            "message",
        ),
    ]
    # 5% malformed: every 20th line, inside otherwise good 50-line records.
    lines, bad_expected = [], []
    for i, (component, line) in enumerate(good):
        lines.append((component, line))
        if i % 19 == 18:
            raw, code, field = bad_kinds[len(bad_expected) % len(bad_kinds)]
            lines.append((component, raw))
            bad_expected.append((raw, code, field, len(lines) - 1))
    placed = produce(conf, topic, lines, per_record=50)
    with WorkerProcess(worker_env) as worker:
        wait_for_rows(ch_client, ch_database, len(good))
        letters = wait_for_records(conf, dlq_topic(topic), len(bad_expected))
        worker.terminate()
    assert_exactly(ch_client, ch_database, good)
    # Where each bad line sits: (partition, offset, line) from the records as produced.
    where = []
    for partition, offset, count in placed:
        where.extend((partition, offset, number) for number in range(1, count + 1))
    got = sorted((*why(m), *where_from(m)) for m in letters)
    want = sorted((raw, code, field, *where[index]) for raw, code, field, index in bad_expected)
    assert got == want
    assert all(dict(m.headers())["eventpipe.source.topic"].decode() == topic for m in letters)


def test_lines_at_the_edges_of_the_contract_never_stall_the_worker(pipeline: Pipeline) -> None:
    conf, topic, ch_client, ch_database, worker_env = pipeline
    # Each of these once stopped a worker for good: the batch failed after decoding and
    # failed again after every restart. Now they are stored, or dead-lettered with a reason.
    good = make_lines(300, seed=5, components=1)
    component = good[0][0]

    def line(**fields: Any) -> bytes:
        base = {"component": component, "event_id": str(uuid.uuid4()), "message": "m"}
        return msgspec.json.encode(base | {"timestamp": int(time.time() * 1000)} | fields)

    access = {"method": "GET", "path": "/", "status": 200}
    edge_valid = [
        line(data={"big": 2**80, "list": [-(2**70)]}),  # past 64 bits: orjson cannot write it
        line(data={"max": 1.7976931348623157e308, "tiny": 5e-324}),
        line(kind="access", http=access | {"bytes": 2**63 - 1}),
        # 120 days in one batch: more partitions than a current server takes by default
        *(line(timestamp=1_600_000_000_000 + day * 86_400_000) for day in range(120)),
    ]
    too_deep = b"[" * 5000 + b"]" * 5000  # msgspec raised RecursionError on it
    # 2 MB, which lz4 takes under the broker's 1 MB limit: Kafka refused it as a dead letter.
    huge = line(message="x" * 2_000_000)
    edge_bad = [
        (b'{"component":"%s","data":%s}' % (component.encode(), too_deep), "bad_json", ""),
        (line(kind="access", http=access | {"bytes": 2**64}), "invalid_field", "http.bytes"),
        (huge, "too_large", ""),
        # not UTF-8 inside a string: msgspec's UnicodeDecodeError crashed the agent
        (b'{"component":"%s","message":"caf\xe9"}' % component.encode(), "bad_json", ""),
        # past the float range: stored as null in data and as "inf" among the leaves
        (
            b'{"component":"%s","message":"m","data":{"n":[1e400]}}' % component.encode(),
            "invalid_field",
            "data.n.0",
        ),
    ]
    lines = good[:150] + [(component, raw) for raw in edge_valid]
    lines += [(component, raw) for raw, _, _ in edge_bad] + good[150:]
    produce(conf, topic, lines, per_record=40)
    with WorkerProcess(worker_env) as worker:
        wait_for_rows(ch_client, ch_database, len(good) + len(edge_valid))
        letters = wait_for_records(conf, dlq_topic(topic), len(edge_bad))
        assert worker.alive()
        assert worker.terminate() == 0
    assert_exactly(ch_client, ch_database, good + [(component, raw) for raw in edge_valid])
    got = sorted(why(m) for m in letters)
    cut = [(raw[:MAX_LETTER_BYTES], code, field) for raw, code, field in edge_bad]
    assert got == sorted(cut)
    sizes = {dict(m.headers()).get("eventpipe.raw.truncated_from") for m in letters}
    assert sizes == {None, str(len(huge)).encode()}


def test_a_dead_letter_topic_refusing_a_letters_size_never_stalls_the_worker(
    pipeline: Pipeline,
) -> None:
    conf, topic, ch_client, ch_database, worker_env = pipeline
    # A dead-letter topic whose max.message.bytes is under a letter (or under a batch of
    # small letters) refused it for good: the worker retried the same letters forever and
    # stored nothing more. Now each refused letter goes alone, then without its line.
    dlq = dlq_topic(topic)
    _set_topic_config(conf, dlq, "max.message.bytes", "4000")
    good = make_lines(400, seed=11, components=1)
    component = good[0][0]
    # incompressible and not JSON: 20 KB the lz4 batch cannot shrink under 4,000 bytes
    big = b'{"component":"%s","message":"%s' % (
        component.encode(),
        base64.b64encode(os.urandom(15_000)),
    )
    small = [b'{"component":"%s","message":%d}' % (component.encode(), i) for i in range(60)]
    lines = good[:200] + [(component, big)] + [(component, raw) for raw in small] + good[200:]
    produce(conf, topic, lines, per_record=50)
    with WorkerProcess(worker_env) as worker:
        wait_for_rows(ch_client, ch_database, len(good), timeout=90)
        letters = wait_for_records(conf, dlq, 1 + len(small))
        assert worker.terminate() == 0
    assert_exactly(ch_client, ch_database, good)
    got = sorted((m.value() or b"", dict(m.headers()).get(H_TRUNCATED)) for m in letters)
    want = sorted([(b"", str(len(big)).encode())] + [(raw, None) for raw in small])
    assert got == want
    assert {why(m)[1] for m in letters} == {"bad_json", "invalid_field"}


def _set_topic_config(conf: dict[str, Any], topic: str, name: str, value: str) -> None:
    change = ConfigResource(
        ResourceType.TOPIC,
        topic,
        incremental_configs=[
            ConfigEntry(
                name,
                value,
                incremental_operation=AlterConfigOpType.SET,  # type: ignore[attr-defined]
            )
        ],
    )
    admin = AdminClient(conf)
    for future in admin.incremental_alter_configs([change]).values():
        future.result(timeout=30)


def test_killed_worker_loses_nothing_and_doubles_nothing(pipeline: Pipeline) -> None:
    ch_client, ch_database = pipeline.ch_client, pipeline.ch_database
    lines = pipeline.backlog(40_000, seed=4, per_record=100)
    env = pipeline.settings(worker_batch_max_rows=1000)
    first = WorkerProcess(env).start()
    try:
        wait_for_rows(ch_client, ch_database, 8_000)
    finally:
        first.kill()  # SIGKILL: no flush, no commit
    seen = raw_row_count(ch_client, ch_database)
    assert seen < 40_000, "the worker finished before it could be killed mid-stream"
    with WorkerProcess(env) as second:
        wait_for_rows(ch_client, ch_database, 40_000)
        second.terminate()
    assert_exactly(ch_client, ch_database, lines)


def test_partitions_move_between_workers_without_loss(pipeline: Pipeline) -> None:
    conf, topic, ch_client, ch_database, worker_env = pipeline
    lines = make_lines(30_000, seed=5, components=12)
    chunks = [lines[i : i + 3_000] for i in range(0, len(lines), 3_000)]

    def trickle() -> None:  # keep producing while the group rebalances
        for chunk in chunks:
            produce(conf, topic, chunk, per_record=100)
            time.sleep(0.5)

    producer = threading.Thread(target=trickle)
    a, b = WorkerProcess(worker_env).start(), WorkerProcess(worker_env).start()
    try:
        a.wait_assigned()
        b.wait_assigned()
        producer.start()
        wait_for_rows(ch_client, ch_database, 6_000)
        assert b.terminate() == 0  # graceful: B's partitions move to A
        wait_for_rows(ch_client, ch_database, 12_000)
        b = WorkerProcess(worker_env).start()  # back: partitions move again
        b.wait_assigned()
        producer.join()
        wait_for_rows(ch_client, ch_database, 30_000)
        assert a.terminate() == 0 and b.terminate() == 0
    finally:
        for w in (a, b):
            if w.alive():
                w.kill()
    assert_exactly(ch_client, ch_database, lines)


def committed_offsets(conf: dict[str, Any], group: str, topic: str) -> dict[int, int]:
    """The group's committed offset per partition of ``topic`` (partitions with one)."""
    consumer = Consumer(conf | {"group.id": group, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        got = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
    finally:
        consumer.close()
    return {tp.partition: tp.offset for tp in got if tp.offset >= 0}


def test_one_event_records_in_runs_commit_only_what_is_stored(pipeline: Pipeline) -> None:
    conf, topic, ch_client, ch_database, worker_env = pipeline
    # One event per record: the worker delivers runs of consecutive records to Faust as one
    # message each (stream_processors.consumer). A commit must never pass a record that is
    # not stored, and a killed worker's successor must store every record exactly once.
    lines = make_lines(30_000, seed=6, components=12)
    produce(conf, topic, lines, per_record=1)
    env = worker_env | {
        "EVENTPIPE_WORKER_BATCH_MAX_ROWS": "200",  # many small batches: many commits
        "EVENTPIPE_WORKER_DELIVERY_MAX_RECORDS": "64",
    }
    first = WorkerProcess(env).start()
    try:
        wait_for_rows(ch_client, ch_database, 3_000)
        time.sleep(1.5)  # let offset commits happen (broker_commit_interval 1 s)
    finally:
        first.kill()
    committed = committed_offsets(conf, env["EVENTPIPE_WORKER_GROUP"], topic)
    stored = set(ch_client.execute(f"SELECT src_partition, src_offset FROM `{ch_database}`.events"))
    assert len(stored) < 30_000, "the worker finished before it could be killed mid-stream"
    assert committed, "nothing was committed before the kill"
    for partition, offset in committed.items():
        missing = [o for o in range(offset) if (partition, o) not in stored]
        assert missing == [], f"partition {partition} committed {offset} past unstored records"
    with WorkerProcess(env) as second:
        wait_for_rows(ch_client, ch_database, 30_000)
        assert second.terminate() == 0
    assert_exactly(ch_client, ch_database, lines)
    ends = committed_offsets(conf, env["EVENTPIPE_WORKER_GROUP"], topic)
    records: dict[int, int] = {}
    for partition, _ in set(
        ch_client.execute(f"SELECT src_partition, src_offset FROM `{ch_database}`.events")
    ):
        records[partition] = records.get(partition, 0) + 1
    assert ends == records  # after a clean stop, every record is committed
