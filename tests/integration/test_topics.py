from __future__ import annotations

import os
import subprocess
import sys

from eventpipe.admin import create_pipeline_topics
from eventpipe.kafka import TopicSpec, describe_topics, ensure_topics
from eventpipe.settings import AdminSettings
from events.topics import dlq_topic
from tests.support.kafka import delete_topics
from tests.support.names import unique
from tests.support.services import ROOT, Endpoints


def test_pipeline_topics_are_created_once(endpoints: Endpoints) -> None:
    settings = AdminSettings(
        kafka_bootstrap=endpoints.kafka_bootstrap, topic=unique("ept"), topic_partitions=6
    )
    conf = settings.librdkafka_security()
    try:
        assert sorted(create_pipeline_topics(settings)) == sorted(
            [settings.topic, dlq_topic(settings.topic)]
        )
        assert create_pipeline_topics(settings) == []
        described = {
            t.name: t for t in describe_topics(conf, [settings.topic, dlq_topic(settings.topic)])
        }
        assert described[settings.topic].partitions == 6
        assert described[dlq_topic(settings.topic)].partitions == 3
        assert described[settings.topic].replication == 1
    finally:
        delete_topics(conf, [settings.topic, dlq_topic(settings.topic)])


def test_existing_topic_is_left_alone(endpoints: Endpoints) -> None:
    conf = {"bootstrap.servers": endpoints.kafka_bootstrap}
    name = unique("ept")
    try:
        assert ensure_topics(conf, [TopicSpec(name, 2)]) == [name]
        assert ensure_topics(conf, [TopicSpec(name, 24)]) == []
        assert describe_topics(conf, [name])[0].partitions == 2
    finally:
        delete_topics(conf, [name])


def test_topics_create_says_when_the_topic_has_other_partitions_than_set(
    endpoints: Endpoints,
) -> None:
    # EVENTPIPE_TOPIC_PARTITIONS applies only when the topic is created: raised later (to
    # run more workers), it was ignored in silence ("nothing (all exist)").
    conf = {"bootstrap.servers": endpoints.kafka_bootstrap}
    name = unique("ept")
    env = {
        **os.environ,
        "EVENTPIPE_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
        "EVENTPIPE_TOPIC": name,
        "EVENTPIPE_TOPIC_PARTITIONS": "6",
    }
    command = [sys.executable, "-m", "eventpipe", "topics", "create"]
    try:
        first = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        assert first.returncode == 0 and "note:" not in first.stderr, first.stderr
        again = subprocess.run(
            command, env=env | {"EVENTPIPE_TOPIC_PARTITIONS": "24"}, cwd=ROOT,
            capture_output=True, text=True,
        )  # fmt: skip
        assert again.returncode == 0, again.stderr
        note = again.stderr.splitlines()[-1]
        assert note.startswith(f"note: {name} has 6 partitions, not EVENTPIPE_TOPIC_PARTITIONS=24")
        assert f"--topic {name} --partitions 24" in note
        assert describe_topics(conf, [name])[0].partitions == 6  # told, not changed
    finally:
        delete_topics(conf, [name, dlq_topic(name)])
