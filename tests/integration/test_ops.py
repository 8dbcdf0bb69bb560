"""``eventpipe lag`` and ``eventpipe dlq`` against the real broker."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ResourceType,
)

from eventpipe.kafka import PARTITIONER, TopicSpec, ensure_topics
from eventpipe.ops.dlq import count_letters, read_letters
from eventpipe.ops.lag import groups_reading, measure_lag
from eventpipe.ops.replay import ReplayBusy, ReplayFailed, replay_letters
from events.errors import InvalidEvent
from events.limits import MAX_LETTER_BYTES
from events.topics import dlq_topic
from stream_processors.deadletters import KafkaDeadLetters
from stream_processors.decode import DeadLetter
from tests.support.kafka import delete_topics, read_all
from tests.support.names import unique
from tests.support.services import ROOT


def produce_plain(conf: dict[str, Any], topic: str, n: int) -> None:
    producer = Producer({**conf, "partitioner": PARTITIONER})
    for i in range(n):
        producer.produce(
            topic, key=f"svc-{i % 7}".encode(), value=b'{"component":"x","message":"m"}'
        )
    assert producer.flush(30) == 0


def test_lag_per_partition_and_total(kafka_conf: dict[str, Any], topic: str) -> None:
    produce_plain(kafka_conf, topic, 120)
    group = unique("lag")
    consumer = Consumer({**kafka_conf, "group.id": group, "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    read = 0
    high0 = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
    while read < min(3, high0):
        read += len(consumer.consume(min(3, high0) - read, timeout=2))
    consumer.commit(offsets=[TopicPartition(topic, 0, read)], asynchronous=False)
    consumer.close()
    assert group in groups_reading(kafka_conf, topic)
    (report,) = measure_lag(kafka_conf, topic, [group])
    assert report.total == 120 - read
    by_partition = {p.partition: p for p in report.partitions}
    assert by_partition[0].committed == read and by_partition[0].lag == high0 - read
    assert sum(p.high for p in report.partitions) == 120

    env = {
        **os.environ,
        "EVENTPIPE_KAFKA_BOOTSTRAP": kafka_conf["bootstrap.servers"],
        "COLUMNS": "200",
    }
    out = subprocess.run(
        [sys.executable, "-m", "eventpipe", "lag", "--topic", topic, "--group", group],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    assert "total" in out and str(120 - read) in out


def letters(topic: str, specs: list[tuple[bytes, str, str]]) -> list[DeadLetter]:
    return [
        DeadLetter(raw, InvalidEvent(code, field, "why"), topic, 1, 10 + i, 2)
        for i, (raw, code, field) in enumerate(specs)
    ]  # type: ignore[arg-type]


def test_dlq_count_show_and_replay_exactly_once(kafka_conf: dict[str, Any], topic: str) -> None:
    sender = KafkaDeadLetters(kafka_conf, dlq_topic(topic))
    sender.publish(
        letters(
            topic,
            [
                (b'{"component":"payments","mesage":"typo"}', "missing_field", "message"),
                (
                    b'{"component":"orders","message":"x","severity":"notice"}',
                    "invalid_field",
                    "severity",
                ),
                (b"{broken", "bad_json", ""),
            ],
        )
    )
    counts = count_letters(kafka_conf, dlq_topic(topic), by_reason=True)
    assert counts == {"total": 3, "missing_field": 1, "invalid_field": 1, "bad_json": 1}
    shown = read_letters(kafka_conf, dlq_topic(topic), limit=10, reason="invalid_field")
    assert [(s.code, s.field, s.source) for s in shown] == [
        ("invalid_field", "severity", f"{topic}:1:11:2")
    ]

    first = replay_letters(kafka_conf, dlq_topic(topic), topic, reason=None)
    assert first["replayed"] == 3
    assert replay_letters(kafka_conf, dlq_topic(topic), topic)["replayed"] == 0  # progress saved
    sender.publish(
        letters(topic, [(b'{"component":"users","message":"late"}', "invalid_field", "user")])
    )
    assert replay_letters(kafka_conf, dlq_topic(topic), topic)["replayed"] == 1
    sender.close()

    replayed = read_all(kafka_conf, topic)
    assert sorted(m.value() for m in replayed) == sorted(
        [
            b'{"component":"payments","mesage":"typo"}',
            b'{"component":"orders","message":"x","severity":"notice"}',
            b"{broken",
            b'{"component":"users","message":"late"}',
        ]
    )
    keys = {m.value(): m.key() for m in replayed}
    assert keys[b'{"component":"orders","message":"x","severity":"notice"}'] == b"orders"
    assert keys[b"{broken"] is None
    assert all(
        dict(m.headers())["eventpipe.replayed_from"].startswith(dlq_topic(topic).encode())
        for m in replayed
    )


def test_dlq_replay_leaves_raw_access_log_lines(kafka_conf: dict[str, Any], topic: str) -> None:
    sender = KafkaDeadLetters(kafka_conf, dlq_topic(topic))
    nginx = b'10.0.0.7 - - [22/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 12 "-" "curl"'
    sender.publish(
        [
            DeadLetter(
                nginx, InvalidEvent("invalid_field", "", "why"), "tcp://10.0.0.7:5140", -1, 0, 1
            ),
            DeadLetter(
                nginx, InvalidEvent("invalid_field", "", "why"), "file:///var/log/a.log", -1, 9, 2
            ),
            *letters(topic, [(b'{"component":"a","message":"m"}', "invalid_field", "x")]),
        ]  # type: ignore[arg-type]
    )
    sender.close()
    counts = replay_letters(kafka_conf, dlq_topic(topic), topic)
    assert counts == {"replayed": 1, "skipped": 0, "log_lines": 2, "truncated": 0}
    assert [m.value() for m in read_all(kafka_conf, topic)] == [b'{"component":"a","message":"m"}']


def test_an_interrupted_replay_keeps_its_progress(kafka_conf: dict[str, Any], topic: str) -> None:
    specs = [(b'{"component":"a","message":"%d"}' % i, "invalid_field", "x") for i in range(10)]
    sender = KafkaDeadLetters(kafka_conf, dlq_topic(topic))
    sender.publish(letters(topic, specs))
    sender.close()

    def ctrl_c_at_the_fourth(done: int, _total: int) -> None:
        if done == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        replay_letters(kafka_conf, dlq_topic(topic), topic, progress=ctrl_c_at_the_fourth)
    again = replay_letters(kafka_conf, dlq_topic(topic), topic)
    assert again["replayed"] == 6
    assert sorted(m.value() for m in read_all(kafka_conf, topic)) == sorted(r for r, _, _ in specs)


def test_a_line_too_large_for_kafka_is_cut_in_its_letter_and_not_replayed(
    kafka_conf: dict[str, Any], topic: str
) -> None:
    huge = b'{"component":"a","message":"' + b"x" * 2_000_000 + b'"}'
    sender = KafkaDeadLetters(kafka_conf, dlq_topic(topic))
    sender.publish(letters(topic, [(huge, "too_large", "")]))  # Kafka refused it whole
    sender.close()
    (letter,) = read_letters(kafka_conf, dlq_topic(topic), limit=10)
    assert letter.raw == huge[:MAX_LETTER_BYTES]
    assert letter.truncated_from == len(huge)
    assert letter.code == "too_large"
    counts = replay_letters(kafka_conf, dlq_topic(topic), topic)
    assert counts == {"replayed": 0, "skipped": 0, "log_lines": 0, "truncated": 1}
    assert read_all(kafka_conf, topic) == []


def test_dlq_replay_cli_with_progress(kafka_conf: dict[str, Any], topic: str) -> None:
    sender = KafkaDeadLetters(kafka_conf, dlq_topic(topic))
    sender.publish(
        letters(topic, [(b'{"component":"a","message":"m"}', "invalid_field", "x")] * 25)
    )
    sender.close()
    env = {
        **os.environ,
        "EVENTPIPE_KAFKA_BOOTSTRAP": kafka_conf["bootstrap.servers"],
        "EVENTPIPE_TOPIC": topic,
    }
    run = subprocess.run(
        [sys.executable, "-m", "eventpipe", "dlq", "replay", "--reason", "invalid_field"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert "replayed 25 letter(s)" in run.stderr
    assert len(read_all(kafka_conf, topic)) == 25


def test_a_replay_of_one_reason_leaves_the_other_letters_for_later(
    kafka_conf: dict[str, Any], topic: str
) -> None:
    # `--reason` used to save its progress past the letters it skipped: a later replay of
    # another reason (or of all) found nothing, and a typo in --reason lost every letter.
    sender = KafkaDeadLetters(kafka_conf, dlq_topic(topic))
    specs = [
        (b'{"component":"a","message":"1"}', "invalid_field", "x"),
        (b'{"component":"a","mesage":"2"}', "missing_field", "message"),
        (b'{"component":"a","message":"3"}', "invalid_field", "x"),
    ]
    sender.publish(letters(topic, specs))
    sender.close()
    dlq = dlq_topic(topic)
    assert replay_letters(kafka_conf, dlq, topic, reason="invalid-field")["replayed"] == 0
    first = replay_letters(kafka_conf, dlq, topic, reason="invalid_field")
    assert (first["replayed"], first["skipped"]) == (2, 1)
    assert replay_letters(kafka_conf, dlq, topic, reason="invalid_field")["replayed"] == 0
    assert replay_letters(kafka_conf, dlq, topic, reason="missing_field")["replayed"] == 1
    rest = replay_letters(kafka_conf, dlq, topic)
    assert (rest["replayed"], rest["replayed_before"]) == (0, 3)
    assert replay_letters(kafka_conf, dlq, topic, reason="missing_field")["replayed"] == 0
    assert sorted(m.value() for m in read_all(kafka_conf, topic)) == sorted(r for r, _, _ in specs)


def test_a_replay_after_a_full_one_sends_nothing_twice(
    kafka_conf: dict[str, Any], topic: str
) -> None:
    sender = KafkaDeadLetters(kafka_conf, dlq_topic(topic))
    sender.publish(letters(topic, [(b'{"component":"a","message":"1"}', "invalid_field", "x")]))
    dlq = dlq_topic(topic)
    assert replay_letters(kafka_conf, dlq, topic)["replayed"] == 1
    assert replay_letters(kafka_conf, dlq, topic, reason="invalid_field")["replayed"] == 0
    sender.publish(letters(topic, [(b'{"component":"a","message":"2"}', "invalid_field", "x")]))
    sender.close()
    assert replay_letters(kafka_conf, dlq, topic, reason="invalid_field")["replayed"] == 1
    assert replay_letters(kafka_conf, dlq, topic)["replayed"] == 0
    assert len(read_all(kafka_conf, topic)) == 2


def test_a_letter_kafka_refuses_is_not_counted_as_replayed(kafka_conf: dict[str, Any]) -> None:
    # flush() counts a refused record as done: the replay used to report it replayed and
    # save its progress past it, so no later run would send it again.
    topic = unique("ept")
    ensure_topics(
        kafka_conf,
        [TopicSpec(topic, 1, config={"max.message.bytes": "4000"}), TopicSpec(dlq_topic(topic), 1)],
    )
    try:
        big = b'{"component":"a","message":"%s"}' % base64.b64encode(os.urandom(15_000))
        specs = [
            (b'{"component":"a","message":"1"}', "invalid_field", "x"),
            (big, "invalid_field", "x"),  # incompressible: over the ingest topic's limit
        ]
        sender = KafkaDeadLetters(kafka_conf, dlq_topic(topic))
        sender.publish(letters(topic, specs))
        sender.close()
        with pytest.raises(ReplayFailed, match=f"letter {dlq_topic(topic)}:0:[01]: .*too large"):
            replay_letters(kafka_conf, dlq_topic(topic), topic)
        admin = AdminClient(kafka_conf)
        change = ConfigResource(
            ResourceType.TOPIC,
            topic,
            incremental_configs=[
                ConfigEntry(
                    "max.message.bytes",
                    "1000000",
                    incremental_operation=AlterConfigOpType.SET,  # type: ignore[attr-defined]
                )
            ],
        )
        for future in admin.incremental_alter_configs([change]).values():
            future.result(timeout=30)
        replay_letters(kafka_conf, dlq_topic(topic), topic)  # both, or the big one alone
        assert [m.value() for m in read_all(kafka_conf, topic)] == [r for r, _, _ in specs]
    finally:
        delete_topics(kafka_conf, [topic, dlq_topic(topic)])


_TERMINATED_AT_THE_FOURTH = """
import os, signal, sys, time
import eventpipe.cli.ops as ops
from eventpipe.cli import main

real = ops.replay_letters

def replay(*args, progress, **kwargs):
    def terminated_at_the_fourth(done, total):
        progress(done, total)
        if done == 4:
            time.sleep(1)  # the four letters reach Kafka: only the saved progress is missing
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)
    return real(*args, progress=terminated_at_the_fourth, **kwargs)

ops.replay_letters = replay
sys.argv = ["eventpipe", "dlq", "replay"]
main()
"""


def test_sigterm_ends_a_replay_with_its_progress_saved(
    kafka_conf: dict[str, Any], topic: str
) -> None:
    # SIGTERM (a supervisor, `kill`, `timeout`) used to end the process at once: the letters
    # sent since the last checkpoint were sent again by the next run.
    specs = [(b'{"component":"a","message":"%d"}' % i, "invalid_field", "x") for i in range(10)]
    sender = KafkaDeadLetters(kafka_conf, dlq_topic(topic))
    sender.publish(letters(topic, specs))
    sender.close()
    env = {
        **os.environ,
        "EVENTPIPE_KAFKA_BOOTSTRAP": kafka_conf["bootstrap.servers"],
        "EVENTPIPE_TOPIC": topic,
    }
    run = subprocess.run(
        [sys.executable, "-c", _TERMINATED_AT_THE_FOURTH],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode != 0 and "Traceback" not in run.stderr, run.stderr
    assert replay_letters(kafka_conf, dlq_topic(topic), topic)["replayed"] == 6
    assert sorted(m.value() for m in read_all(kafka_conf, topic)) == sorted(r for r, _, _ in specs)


def publish_spread(conf: dict[str, Any], topic: str, n: int) -> list[bytes]:
    """``n`` letters from the 12 partitions of a source topic, so on every dead-letter
    partition (a letter's key is its source topic and partition)."""
    raws = [b'{"component":"a","message":"%d"}' % i for i in range(n)]
    sender = KafkaDeadLetters(conf, dlq_topic(topic))
    sender.publish(
        [
            DeadLetter(raw, InvalidEvent("invalid_field", "x", "why"), "src", i % 12, i, 1)
            for i, raw in enumerate(raws)
        ]  # type: ignore[arg-type]
    )
    sender.close()
    return raws


def test_two_replays_at_once_send_each_letter_once(kafka_conf: dict[str, Any], topic: str) -> None:
    # Replay used to assign itself every partition: a second run started before the first
    # committed read the same letters, and both sent them.
    raws = publish_spread(kafka_conf, topic, 6_000)
    start = threading.Barrier(2)

    def replay() -> Counter[str]:
        start.wait()
        return replay_letters(kafka_conf, dlq_topic(topic), topic)

    with ThreadPoolExecutor(2) as pool:
        runs = [future.result(timeout=120) for future in [pool.submit(replay) for _ in range(2)]]
    assert sum(run["replayed"] for run in runs) == len(raws)
    assert sorted(m.value() for m in read_all(kafka_conf, topic)) == sorted(raws)


def test_a_replay_joining_a_running_one_takes_over_where_it_left(
    kafka_conf: dict[str, Any], topic: str
) -> None:
    # The second run joins while the first is on every partition: the first commits exactly
    # what Kafka acknowledged before the group moves them, and each run resumes there.
    raws = publish_spread(kafka_conf, topic, 6_000)
    pool = ThreadPoolExecutor(1)
    second: list[Future[Counter[str]]] = []
    second_sent = threading.Event()

    def start_the_second_early(done: int, _total: int) -> None:
        if done == 100:
            second.append(
                pool.submit(
                    replay_letters,
                    kafka_conf,
                    dlq_topic(topic),
                    topic,
                    progress=lambda _done, _total: second_sent.set(),
                )
            )
        if second and not second_sent.is_set():
            # Still going when the group hands partitions over, however slow the machine:
            # at most 5,900 times 5 ms, the first waits until the second has sent a letter.
            time.sleep(0.005)

    first = replay_letters(kafka_conf, dlq_topic(topic), topic, progress=start_the_second_early)
    later = second[0].result(timeout=120)
    pool.shutdown()
    assert later["replayed"] > 0  # it took partitions over from the first run
    assert first["replayed"] + later["replayed"] == len(raws)
    assert sorted(m.value() for m in read_all(kafka_conf, topic)) == sorted(raws)


@pytest.mark.parametrize(("first", "second"), [(None, "invalid_field"), ("invalid_field", None)])
def test_a_replay_of_the_other_kind_does_not_start_while_one_runs(
    kafka_conf: dict[str, Any], topic: str, first: str | None, second: str | None
) -> None:
    # A replay of every letter and one of a reason keep their progress in different groups:
    # run at once, both sent that reason's letters.
    raws = publish_spread(kafka_conf, topic, 3_000)
    dlq = dlq_topic(topic)
    pool = ThreadPoolExecutor(1)
    other: list[Future[Counter[str]]] = []

    def start_the_other_early(done: int, _total: int) -> None:
        if done == 100:
            other.append(pool.submit(replay_letters, kafka_conf, dlq, topic, reason=second))
        if other and not other[0].done():
            time.sleep(0.001)  # still going when the other one looks

    ran = replay_letters(kafka_conf, dlq, topic, reason=first, progress=start_the_other_early)
    with pytest.raises(ReplayBusy, match=f"a replay of .* is running on {dlq} "):
        other[0].result(timeout=120)
    pool.shutdown()
    assert ran["replayed"] == len(raws)
    assert replay_letters(kafka_conf, dlq, topic, reason=second)["replayed"] == 0
    assert sorted(m.value() for m in read_all(kafka_conf, topic)) == sorted(raws)


def test_the_cli_refuses_a_replay_of_the_other_kind_in_one_line(
    kafka_conf: dict[str, Any], topic: str
) -> None:
    publish_spread(kafka_conf, topic, 3_000)
    env = {
        **os.environ,
        "EVENTPIPE_KAFKA_BOOTSTRAP": kafka_conf["bootstrap.servers"],
        "EVENTPIPE_TOPIC": topic,
    }
    command = [sys.executable, "-m", "eventpipe", "dlq", "replay", "--reason", "invalid_field"]
    other: list[subprocess.Popen[str]] = []

    def start_the_cli_early(done: int, _total: int) -> None:
        if done == 100:
            other.append(
                subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
            )
        if other and other[0].poll() is None:
            time.sleep(0.01)  # still going when the command looks

    replay_letters(kafka_conf, dlq_topic(topic), topic, progress=start_the_cli_early)
    _, stderr = other[0].communicate(timeout=120)
    assert other[0].returncode == 1
    assert stderr.splitlines()[-1] == (
        f"eventpipe: a replay of every letter is running on {dlq_topic(topic)} "
        "(consumer group eventpipe-dlq-replay); run this one when it has finished"
    ), stderr


def test_dlq_show_never_sends_a_letters_control_characters_to_the_terminal(
    kafka_conf: dict[str, Any], topic: str
) -> None:
    # A dead letter is whatever a producer (or a TCP client of the access-log receiver)
    # sent: its escape sequences went to the operator's terminal as they were — rich escapes
    # markup, not ESC — free to clear the screen, hide text or set the clipboard (OSC 52).
    raw = b'{"component":"x","message":"\x1b]52;c;cm0gLXJmIH4K\x1b\\\x1b[2J\x1b[8mhidden"}'
    sender = KafkaDeadLetters(kafka_conf, dlq_topic(topic))
    sender.publish(letters(topic, [(raw, "invalid_field", "data.\x1b[31mred")]))
    sender.close()
    env = {
        **os.environ,
        "EVENTPIPE_KAFKA_BOOTSTRAP": kafka_conf["bootstrap.servers"],
        "EVENTPIPE_TOPIC": topic,
        "COLUMNS": "400",
    }
    shown = subprocess.run(
        [sys.executable, "-m", "eventpipe", "dlq", "show"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert "\x1b" not in shown.stdout, repr(shown.stdout)
    assert "\\x1b]52;c;cm0gLXJmIH4K" in shown.stdout and "data.\\x1b[31mred" in shown.stdout
