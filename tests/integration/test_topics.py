from __future__ import annotations

from eventpipe.admin import create_pipeline_topics
from eventpipe.kafka import TopicSpec, describe_topics, ensure_topics
from eventpipe.settings import AdminSettings
from events.topics import dlq_topic
from tests.support.kafka import delete_topics
from tests.support.names import unique
from tests.support.services import Endpoints


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
