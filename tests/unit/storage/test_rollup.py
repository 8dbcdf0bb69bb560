"""Roll-up bookkeeping that needs no server: partition states and their days. Pure."""

from __future__ import annotations

from storage.rollup import PartitionState, partition_day_ms, partition_states, rollup_table_ddl


def test_partition_ids_are_utc_days() -> None:
    assert partition_day_ms("20240101") == 1_704_067_200_000
    assert partition_day_ms("'20240102'") == 1_704_067_200_000 + 86_400_000
    assert partition_day_ms("tuple()") is None
    assert partition_day_ms("202401") is None


def test_settled_means_one_merged_part() -> None:
    states = partition_states(
        [("20240102", 1, 0, "20240102_3_3_0"), ("20240101", 1, 2, "20240101_1_2_1"),
         ("20240103", 2, 1, "20240103_1_5_1")]
    )  # fmt: skip
    assert [s.partition for s in states] == ["20240101", "20240102", "20240103"]
    assert [s.settled for s in states] == [True, False, False]
    assert PartitionState("x", 1, 1, "x_1_1_1").day_ms is None


def test_the_table_has_the_events_enums() -> None:
    ddl = rollup_table_ddl("db")
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS `db`.events_daily")
    assert "Enum8('log' = 1" in ddl and "Enum8('DEBUG' = 10" in ddl
    assert "ORDER BY (part, component, kind, severity)" in ddl
