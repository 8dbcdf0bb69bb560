from __future__ import annotations

import uuid

import orjson

from events.wire import decode_wire
from storage.rows import SELECT_COLUMNS, flatten_data, row_to_event, to_columns
from storage.schema import INSERT_COLUMNS


def test_flatten_nested_and_lists() -> None:
    keys, values = flatten_data(
        {"a": 1, "b": {"c": "x", "d": [True, None, {"e": 1.5}]}, "f": [], "g": {}}
    )
    assert list(zip(keys, values, strict=True)) == [
        ("a", "1"),
        ("b.c", "x"),
        ("b.d.0", "true"),
        ("b.d.1", "null"),
        ("b.d.2.e", "1.5"),
    ]


def test_flatten_flat_object_keeps_order_and_spells_scalars() -> None:
    keys, values = flatten_data({"s": "x", "i": -3, "f": 0.1, "t": True, "n": None, "e": 1e16})
    assert keys == ["s", "i", "f", "t", "n", "e"]
    assert values == ["x", "-3", "0.1", "true", "null", "1e+16"]


def test_flatten_nested_value_after_flat_ones_starts_over() -> None:
    # The fast path gives up on the first nested value: nothing it did may remain.
    assert flatten_data({"a": 1, "b": "x", "c": {"d": 2}, "e": False}) == (
        ["a", "b", "c.d", "e"],
        ["1", "x", "2", "false"],
    )


def test_flatten_empty() -> None:
    assert flatten_data(None) == ([], [])
    assert flatten_data({}) == ([], [])


def _event(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "component": "payments",
        "message": "m",
        "event_id": str(uuid.uuid4()),
        "timestamp": 1_700_000_000_123,
    }
    return base | fields


def _stored_rows(events: list[dict[str, object]]) -> list[dict[str, object]]:
    """What a round trip through the table gives, simulated column by column."""
    wire = [decode_wire(orjson.dumps(e)) for e in events]
    n = len(wire)
    cols = to_columns(
        wire,
        src_topic=["t"] * n,
        src_partition=[0] * n,
        src_offset=list(range(n)),
        src_line=[1] * n,
        ingested_ms=5,
    )
    assert len(cols) == len(INSERT_COLUMNS)
    assert all(len(c) == n for c in cols)
    by_name = dict(zip(INSERT_COLUMNS, cols, strict=True))
    by_name["ts_ms"] = by_name["ts_ms"]
    return [{name: by_name[name][i] for name in SELECT_COLUMNS} for i in range(n)]


def test_columns_round_trip_to_the_event_shape() -> None:
    source = [
        _event(severity="warn", user="a@b.c", data={"x": {"y": [1, "z"]}}, trace_id="t1"),
        _event(
            kind="access",
            message=None,
            http={"method": "get", "path": "/p", "status": 404, "bytes": 0, "duration_ms": 2.5},
        ),
        _event(kind="error", reason="because", function="f", environment="prod"),
    ]
    source[1].pop("message")
    back = [row_to_event(r) for r in _stored_rows(source)]
    assert back[0]["severity"] == "WARNING"
    assert back[0]["data"] == {"x": {"y": [1, "z"]}}
    assert back[0]["timestamp"] == "2023-11-14T22:13:20.123Z"
    assert back[1]["http"] == {
        "method": "GET",
        "path": "/p",
        "status": 404,
        "bytes": 0,
        "duration_ms": 2.5,
    }
    assert "message" not in back[1]
    assert back[2]["severity"] == "ERROR"
    assert {k: back[2][k] for k in ("reason", "function", "environment")} == {
        "reason": "because",
        "function": "f",
        "environment": "prod",
    }
    for original, stored in zip(source, back, strict=True):
        assert stored["event_id"] == original["event_id"]


def test_data_columns_hold_json_and_leaves() -> None:
    wire = [decode_wire(orjson.dumps(_event(data={"k": "v", "n": 2})))]
    cols = dict(
        zip(
            INSERT_COLUMNS,
            to_columns(
                wire,
                src_topic=["t"],
                src_partition=[3],
                src_offset=[9],
                src_line=[2],
                ingested_ms=1,
            ),
            strict=True,
        )
    )
    assert orjson.loads(cols["data"][0]) == {"k": "v", "n": 2}
    assert cols["data_keys"][0] == ["k", "n"]
    assert cols["data_values"][0] == ["v", "2"]
    assert (cols["src_partition"][0], cols["src_offset"][0], cols["src_line"][0]) == (3, 9, 2)
