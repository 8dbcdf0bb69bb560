"""InsertClient's columnar inserts: the same bytes on the wire as clickhouse-driver's own.

Both clients write into a captured socket (no server); each test sends one insert's data
through both and compares the bytes. The real server reads them in
tests/integration/test_clickhouse_schema.py.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from clickhouse_driver import Client, defines
from clickhouse_driver.block import ColumnOrientedBlock
from clickhouse_driver.bufferedwriter import BufferedSocketWriter
from clickhouse_driver.connection import ServerInfo
from clickhouse_driver.errors import LogicalError

from storage.native import InsertClient, column_encoder
from storage.schema import EVENT_COLUMNS, KIND_ENUM, SEVERITY_ENUM

#: 18.16 (no block custom-serialisation byte, no profile events) and the driver's newest.
REVISIONS = [54413, defines.CLIENT_REVISION]


class Capture:
    def __init__(self) -> None:
        self.sent = bytearray()

    def sendall(self, data: bytes) -> None:
        self.sent += data


def wire(client_cls: type[Client], revision: int, columns: Any, **kwargs: Any) -> bytes:
    """What ``client_cls`` sends for one insert of ``columns`` into the given types."""
    types: Sequence[tuple[str, str]] = kwargs.pop("types")
    client = client_cls(host="unused", **kwargs)
    connection = client.connection
    capture = Capture()
    connection.fout = BufferedSocketWriter(capture, 1 << 20)
    connection.server_info = ServerInfo("ClickHouse", 18, 16, 1, revision, "UTC", "", revision)
    connection.block_out = connection.get_block_out_stream()
    connection.context.server_info = connection.server_info
    client.receive_profile_events = lambda: None  # no server to answer
    sample = ColumnOrientedBlock(columns_with_types=list(types))
    rows = client.send_data(sample, columns, types_check=False, columnar=True)
    connection.fout.flush()
    assert rows == (len(columns[0]) if columns else 0)
    return bytes(capture.sent)


def same_wire(types: list[tuple[str, str]], columns: list[list[Any]], **kwargs: Any) -> None:
    for revision in REVISIONS:
        ours = wire(InsertClient, revision, columns, types=types, **kwargs)
        theirs = wire(Client, revision, [list(c) for c in columns], types=types, **kwargs)
        assert ours == theirs, f"revision {revision}"


UUIDS = [
    uuid.UUID(int=0),
    uuid.UUID(int=(1 << 128) - 1),
    uuid.UUID("00112233-4455-6677-8899-aabbccddeeff"),
    uuid.uuid4(),
    uuid.uuid5(uuid.NAMESPACE_URL, "eventpipe"),
]


def test_uuid_column() -> None:
    same_wire([("id", "UUID")], [UUIDS])


@pytest.mark.parametrize(
    ("spec", "items"),
    [
        (KIND_ENUM, ["log", "error", "event", "access", "log"]),
        (SEVERITY_ENUM, ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]),
        ("Enum8('a\\'b' = -128, 'c d' = 127, 'e' = 0)", ["a'b", "c d", "e", "c d", "a'b"]),
    ],
)
def test_enum8_columns(spec: str, items: list[str]) -> None:
    same_wire([("e", spec)], [items])


def test_string_array_columns() -> None:
    rows = [
        [],
        ["a"],
        ["ünïcode ✓", "", "x" * 300],  # a length past one varint byte
        [],
        [str(i) for i in range(1000)],
    ]
    same_wire([("keys", "Array(String)")], [rows])


def test_string_columns() -> None:
    same_wire(
        [("s", "String"), ("empty", "String"), ("one", "String")],
        [["a", "ünïcode ✓", "", "x" * 300, "b"], [""] * 5, ["", "", "", "", "z"]],
    )


@pytest.mark.parametrize(
    ("spec", "items"),
    [
        ("Nullable(UInt64)", [None, 0, 1, (1 << 64) - 1, None]),
        ("Nullable(Int64)", [-(1 << 63), None, (1 << 63) - 1, 0, -1]),
        ("Nullable(Float64)", [None, 0.0, -0.0, math.inf, 1 / 7]),
    ],
)
def test_nullable_columns(spec: str, items: list[Any]) -> None:
    same_wire([("n", spec)], [items])


def test_an_events_batch_every_column_type_in_one_block() -> None:
    # The events table's columns on the old server, the driver writing the rest.
    n = len(UUIDS)
    samples: dict[str, list[Any]] = {
        "UUID": UUIDS,
        "Int64": [-1, 0, 1, 1 << 40, -(1 << 63)],
        "String": ["", "a", "ünïcode", "x" * 200, "z"],
        KIND_ENUM: ["log", "error", "event", "access", "log"],
        SEVERITY_ENUM: ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        "Array(String)": [[], ["k"], ["a.b", "c"], [], ["ü"]],
        "UInt16": [0, 200, 404, 65535, 500],
        "Nullable(UInt64)": [None, 1, None, 2, 3],
        "Nullable(Float64)": [0.5, None, None, 1.25, 2.0],
        "Int32": [0, 1, 2, 3, 4],
        "UInt32": [1, 1, 2, 3, 4],
    }
    types = [(c.name, c.type) for c in EVENT_COLUMNS]
    columns = [list(samples[spec]) for _, spec in types]
    assert all(len(c) == n for c in columns)
    same_wire(types, columns)


def test_low_cardinality_and_other_types_are_the_drivers() -> None:
    assert column_encoder("LowCardinality(String)", {}) is None
    assert column_encoder("Array(LowCardinality(String))", {}) is None
    assert column_encoder("Array(String)", {"strings_as_bytes": True}) is None
    assert column_encoder("String", {"input_format_null_as_default": True}) is None
    same_wire(
        [("c", "LowCardinality(String)"), ("k", "Array(LowCardinality(String))")],
        [["a", "b", "a"], [["x"], [], ["x", "y"]]],
    )


def test_the_columns_are_not_changed_so_a_retry_sends_the_same() -> None:
    types = [("id", "UUID"), ("e", KIND_ENUM), ("s", "String")]
    columns: list[list[Any]] = [UUIDS[:2], ["log", "access"], ["a", "b"]]
    before = [list(c) for c in columns]
    first = wire(InsertClient, REVISIONS[0], columns, types=types)
    assert columns == before
    assert wire(InsertClient, REVISIONS[0], columns, types=types) == first


def test_items_the_encoders_do_not_take_go_to_the_drivers_column() -> None:
    # Ids as text and enum values as numbers: the driver converts them, as it always did.
    same_wire([("id", "UUID"), ("kind", KIND_ENUM)], [[str(u) for u in UUIDS], [1, 2, 3, 4, 1]])


def test_an_unknown_enum_value_is_the_drivers_error() -> None:
    with pytest.raises(LogicalError, match="Unknown element 'trace'"):
        wire(InsertClient, REVISIONS[0], [["log", "trace"]], types=[("kind", KIND_ENUM)])


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="Different rows length"):
        wire(InsertClient, REVISIONS[0], [UUIDS, ["log"]], types=[("id", "UUID"), ("k", KIND_ENUM)])


def test_no_rows_sends_no_block_as_the_driver_does() -> None:
    same_wire([("id", "UUID")], [[]])
