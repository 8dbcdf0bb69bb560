from __future__ import annotations

import pytest

from storage.version import Capabilities, ServerVersion


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18.16.1", (18, 16, 1)),
        ("26.9.2.1", (26, 9, 2)),
        ("23.8", (23, 8, 0)),
        (" 24.3.1.2672\n", (24, 3, 1)),
    ],
)
def test_parse(text: str, expected: tuple[int, int, int]) -> None:
    assert ServerVersion.parse(text) == ServerVersion(*expected)


def test_parse_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not a ClickHouse version"):
        ServerVersion.parse("latest")


def test_old_server_gets_no_modern_features() -> None:
    caps = Capabilities.for_version("18.16.1")
    assert not any(
        [
            caps.datetime64,
            caps.low_cardinality,
            caps.codecs,
            caps.ttl,
            caps.remove_ttl,
            caps.skip_indexes,
            caps.insert_dedup_token,
            caps.final_is_cheap,
            caps.ilike,
            caps.partitions_per_insert_limit,
        ]
    )


def test_current_engine_gets_all_features() -> None:
    caps = Capabilities.for_version("26.9.2.1")
    assert all(
        [
            caps.datetime64,
            caps.low_cardinality,
            caps.codecs,
            caps.ttl,
            caps.remove_ttl,
            caps.skip_indexes,
            caps.insert_dedup_token,
            caps.final_is_cheap,
            caps.ilike,
            caps.partitions_per_insert_limit,
        ]
    )


def test_thresholds_are_inclusive() -> None:
    assert Capabilities.for_version("20.1.1").datetime64
    assert not Capabilities.for_version("19.17.9").datetime64


def test_insert_settings_follow_the_server() -> None:
    from stream_processors.sink import insert_settings

    assert insert_settings(Capabilities.for_version("18.16.1"), "t:0:1-2") == {}
    assert insert_settings(Capabilities.for_version("26.9.2.1"), "t:0:1-2") == {
        "insert_deduplication_token": "t:0:1-2",
        "max_partitions_per_insert_block": 0,
    }
