"""Columnar inserts as one Native block, with C-speed encoders for the costly column types.

clickhouse-driver serialises a column item by item in Python for several types the
``events`` table uses: ``UUID`` (two shifts and a mask per item), ``Enum8`` (a dictionary
look-up and two ``isinstance`` calls per item), ``Array(String)`` (offsets summed in a loop,
the values flattened twice) and ``Nullable`` numbers (a null map, then the values, both in
loops). On the worker's insert path that was ~2 µs of its ~13 µs of CPU per event.

:class:`InsertClient` is the driver's ``Client`` with one change: a columnar insert
(``execute(..., columnar=True)``) is sent as one Native block whose columns of those types
are encoded with ``array``, ``bytes`` and ``itertools`` over whole columns, into the same
bytes the driver would write (unit tests compare them type by type, edge cases included);
items they do not take (ids as text, enum values as numbers) go to the driver's column,
which converts them or names what is wrong, as before.
``String`` columns are written by the driver's own string loop, less the column objects,
and a column of empty strings (an optional field no event of the batch has) as one run of
zero lengths. Every other column type — integers, ``LowCardinality`` on modern servers —
is written by the driver's own column code, unchanged. Row-oriented inserts, ``types_check``,
NumPy mode and blocks over ``insert_block_size`` rows take the driver's path as before.

The block framing (block info, column names and types, the custom-serialisation byte) is
the driver's own, written with its own helpers and protocol constants (0.2.x).
"""

from __future__ import annotations

import re
import sys
from array import array
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import accumulate, chain
from typing import Any, Final

from clickhouse_driver import Client, defines
from clickhouse_driver.block import BlockInfo, ColumnOrientedBlock
from clickhouse_driver.columns.service import write_column
from clickhouse_driver.protocol import ClientPacketTypes
from clickhouse_driver.varint import write_varint
from clickhouse_driver.writer import write_binary_str, write_binary_uint8

__all__ = ["InsertClient", "column_encoder"]

#: Writes one column's items to the driver's buffered writer.
Encoder = Callable[[Sequence[Any], Any], None]

# The encoders lay out machine integers with ``array``: ClickHouse's Native format is
# little-endian, so on a big-endian host every column takes the driver's path instead.
_LITTLE_ENDIAN: Final = sys.byteorder == "little"
_ENUM8: Final = re.compile(r"^Enum8\((.*)\)$", re.DOTALL)
_ENUM_ITEM: Final = re.compile(r"'((?:[^'\\]|\\.)*)'\s*=\s*(-?\d+)")


class _NotFast(Exception):
    """Items the fast encoder does not take (ids as text, enum values as numbers, ...): the
    driver's column converts them, or names what is wrong, as it always did."""


def _whole(encode_items: Callable[[Sequence[Any]], bytes]) -> Encoder:
    """An encoder that builds the whole column before writing any of it."""

    def encode(items: Sequence[Any], buf: Any) -> None:
        try:
            data = encode_items(items)
        except (AttributeError, KeyError, OverflowError, TypeError, ValueError) as exc:
            raise _NotFast from exc
        buf.write(data)

    return encode


@_whole
def _uuid(items: Sequence[Any]) -> bytes:
    # A UUID is two UInt64, the high half first. ``UUID.bytes`` is both halves big-endian:
    # swapping each 8-byte word makes them little-endian in place.
    words = array("Q", b"".join([item.bytes for item in items]))
    words.byteswap()
    return words.tobytes()


@lru_cache(maxsize=8)
def _strings(encoding: str) -> Encoder:
    def encode(items: Sequence[str], buf: Any) -> None:
        if any(items):
            buf.write_strings(items, encoding=encoding)  # the driver's own loop (Cython)
        else:
            buf.write(bytes(len(items)))  # every length 0: often so for optional fields

    return encode


@lru_cache(maxsize=8)
def _string_array(encoding: str) -> Encoder:
    def encode(items: Sequence[Sequence[str]], buf: Any) -> None:
        # The end offset of each row's values, then every value, varint-length-prefixed.
        buf.write(array("Q", accumulate(map(len, items))).tobytes())
        buf.write_strings(list(chain.from_iterable(items)), encoding=encoding)

    return encode


def _nullable(typecode: str, null: float) -> Encoder:
    def encode(items: Sequence[Any]) -> bytes:
        nulls = bytes([item is None for item in items])
        return nulls + array(typecode, [null if item is None else item for item in items]).tobytes()

    return _whole(encode)


@lru_cache(maxsize=64)
def _enum8(spec: str) -> Encoder:
    body = _ENUM8.match(spec)
    assert body is not None
    codes = {re.sub(r"\\(.)", r"\1", name): int(code) for name, code in _ENUM_ITEM.findall(body[1])}

    def encode(items: Sequence[str]) -> bytes:
        return array("b", map(codes.__getitem__, items)).tobytes()

    return _whole(encode)


_NULLABLE: Final[dict[str, Encoder]] = {
    "Nullable(UInt64)": _nullable("Q", 0),
    "Nullable(Int64)": _nullable("q", 0),
    "Nullable(Float64)": _nullable("d", 0.0),
}


def column_encoder(spec: str, client_settings: dict[str, Any]) -> Encoder | None:
    """The fast encoder of a column of ClickHouse type ``spec``, or None: the driver's."""
    if not _LITTLE_ENDIAN:
        return None
    if spec == "UUID":
        return _uuid
    if spec.startswith("Enum8("):
        return _enum8(spec)
    if spec in ("String", "Array(String)") and not (
        client_settings.get("strings_as_bytes")
        or client_settings.get("input_format_null_as_default")
    ):
        encoding = client_settings.get("strings_encoding") or "utf-8"
        return _strings(encoding) if spec == "String" else _string_array(encoding)
    return _NULLABLE.get(spec)


class InsertClient(Client):  # type: ignore[misc]  # clickhouse-driver has no type hints
    """clickhouse-driver's ``Client``, sending a columnar insert as one Native block with
    the fast encoders of :func:`column_encoder`; everything else as the driver does."""

    def send_data(
        self,
        sample_block: Any,
        data: Any,
        types_check: bool = False,
        columnar: bool = False,
    ) -> int:
        settings = self.connection.context.client_settings
        columns = data if columnar else None
        if (
            columns is None
            or types_check
            or settings["use_numpy"]
            or not isinstance(columns, (list, tuple))
            or len(columns) != len(sample_block.columns_with_types)
            or not all(isinstance(column, (list, tuple)) for column in columns)
            or not 0 < len(columns[0]) <= settings["insert_block_size"]
        ):
            # Also no rows: a block of none would end the data (the driver sends none).
            return int(super().send_data(sample_block, data, types_check, columnar))
        rows = len(columns[0])
        if any(len(column) != rows for column in columns):
            raise ValueError("Different rows length")
        self._send_block(sample_block.columns_with_types, columns, rows)
        self.receive_profile_events()
        self.connection.send_data(ColumnOrientedBlock())  # an empty block ends the data
        self.receive_profile_events()
        return rows

    def _send_block(
        self, names_and_types: Sequence[tuple[str, str]], columns: Sequence[Any], rows: int
    ) -> None:
        # clickhouse_driver.connection.Connection.send_data and
        # streams.native.BlockOutputStream.write, with the encoders in place of write_column.
        connection = self.connection
        context = connection.context
        revision = connection.server_info.used_revision
        write_varint(ClientPacketTypes.DATA, connection.fout)
        if revision >= defines.DBMS_MIN_REVISION_WITH_TEMPORARY_TABLES:
            write_binary_str("", connection.fout)  # no table name: the insert's data
        stream = connection.block_out  # compressing or not, its buffer takes the block
        buf = stream.fout
        if revision >= defines.DBMS_MIN_REVISION_WITH_BLOCK_INFO:
            BlockInfo().write(buf)
        write_varint(len(columns), buf)
        write_varint(rows, buf)
        for (name, spec), items in zip(names_and_types, columns, strict=True):
            write_binary_str(name, buf)
            write_binary_str(spec, buf)
            if revision >= defines.DBMS_MIN_REVISION_WITH_CUSTOM_SERIALIZATION:
                write_binary_uint8(0, buf)  # dense, as the driver always writes
            encode = column_encoder(spec, context.client_settings)
            if encode is not None:
                try:
                    encode(items, buf)
                    continue
                except _NotFast:
                    pass  # nothing of the column was written
            # A copy: the driver's columns convert items in place, and a retried batch
            # sends the same lists again.
            write_column(context, name, spec, list(items), buf)
        stream.finalize()
