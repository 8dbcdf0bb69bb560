"""Events ⇄ the ``events`` table's columns. Pure: no client, no I/O.

* :func:`to_columns` turns a batch of settled events into columnar insert data in the order
  of :data:`~storage.schema.INSERT_COLUMNS` (one list per column, built column by column —
  the cheapest shape for clickhouse-driver's ``columnar=True`` inserts).
* :func:`flatten_data` lists the scalar leaves of ``data`` as ``(path, text)`` pairs:
  nested keys join with ``.``, list items by index (``items.0.sku``); strings as they are,
  ``true``/``false``/``null`` for JSON literals, numbers in Python's ``repr``;
  :func:`flatten_rows` does so for a batch in one loop.
* :func:`row_to_event` reads a stored row back into the event's JSON shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol
from uuid import UUID

import msgspec
import orjson

from events.rules import datetime_from_ms

__all__ = [
    "SELECT_COLUMNS",
    "EventLike",
    "flatten_data",
    "flatten_rows",
    "row_to_event",
    "to_columns",
]


class EventLike(Protocol):
    """What :func:`to_columns` reads: a settled event with id and time filled in
    (``timestamp`` in epoch milliseconds), such as :class:`events.wire.WireEvent`."""

    @property
    def event_id(self) -> UUID | None: ...
    @property
    def timestamp(self) -> Any: ...
    @property
    def component(self) -> str: ...
    @property
    def environment(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def severity(self) -> str | None: ...
    @property
    def message(self) -> str | None: ...
    @property
    def user(self) -> str | None: ...
    @property
    def function(self) -> str | None: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def trace_id(self) -> str | None: ...
    @property
    def data(self) -> dict[str, Any] | None: ...
    @property
    def http(self) -> Any: ...


def _scalar_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return repr(value)  # float: the shortest text that reads back as the same number


def _walk(prefix: str, node: Any, keys: list[str], values: list[str]) -> None:
    # Hot path (every event with data): exact-type checks, no generators, no f-strings.
    pairs = node.items() if node.__class__ is dict else enumerate(node)
    for key, value in pairs:
        cls = value.__class__
        path = prefix + (key if key.__class__ is str else str(key))
        if cls is str:
            keys.append(path)
            values.append(value)
        elif cls is dict or cls is list:
            _walk(path + ".", value, keys, values)
        else:
            keys.append(path)
            values.append(str(value) if cls is int else _scalar_text(value))


def flatten_rows(
    datas: Iterable[Mapping[str, Any] | None],
) -> tuple[list[list[str]], list[list[str]]]:
    """:func:`flatten_data` of each of ``datas``: its paths and its texts, row by row.

    One loop for a whole batch (the insert path's): no call, tuple or key walk per row for
    the common flat ``data``.
    """
    all_keys: list[list[str]] = []
    all_values: list[list[str]] = []
    add_keys = all_keys.append
    add_values = all_values.append
    for data in datas:
        if not data:
            add_keys([])
            add_values([])
            continue
        # Fast path, every event's: a flat object's paths are its keys, in order (C speed);
        # a nested value sends the whole object down the general walk instead.
        values: list[str] = []
        append = values.append
        for value in data.values():
            cls = value.__class__
            if cls is str:
                append(value)
            elif cls is int:
                append(str(value))
            elif cls is float:
                append(repr(value))
            elif cls is dict or cls is list:
                keys: list[str] = []
                values = []
                _walk("", data, keys, values)
                add_keys(keys)
                add_values(values)
                break
            else:
                append(_scalar_text(value))
        else:
            add_keys(list(data))
            add_values(values)
    return all_keys, all_values


def flatten_data(data: Mapping[str, Any] | None) -> tuple[list[str], list[str]]:
    """The scalar leaves of ``data`` as parallel ``(paths, texts)`` lists."""
    (keys,), (values,) = flatten_rows((data,))
    return keys, values


_encode_json = msgspec.json.Encoder().encode
_decode_json = msgspec.json.Decoder().decode


def to_columns(
    events: Sequence[EventLike],
    *,
    src_topic: Sequence[str],
    src_partition: Sequence[int],
    src_offset: Sequence[int],
    src_line: Sequence[int],
    ingested_ms: int,
) -> list[Sequence[Any]]:
    """Columnar insert data for ``events``, in :data:`INSERT_COLUMNS` order.

    Every event must already carry ``event_id`` and ``timestamp`` (epoch ms).
    """
    dumps = orjson.dumps
    data_json: list[str] = []
    for event in events:
        data = event.data
        if not data:
            data_json.append("")
            continue
        try:
            data_json.append(dumps(data).decode())
        except TypeError:  # an integer past 64 bits: JSON allows it, orjson does not
            data_json.append(_encode_json(data).decode())
    data_keys, data_values = flatten_rows([event.data for event in events])
    http = [event.http for event in events]
    none = None
    return [
        [e.event_id for e in events],
        [e.timestamp for e in events],
        [e.component for e in events],
        [e.environment or "" for e in events],
        [e.kind for e in events],
        [e.severity for e in events],
        [e.message or "" for e in events],
        [e.user or "" for e in events],
        [e.function or "" for e in events],
        [e.reason or "" for e in events],
        [e.trace_id or "" for e in events],
        data_json,
        data_keys,
        data_values,
        ["" if h is none else h.method for h in http],
        ["" if h is none else h.path for h in http],
        [0 if h is none else h.status for h in http],
        ["" if h is none else (h.ip or "") for h in http],
        [none if h is none else h.bytes for h in http],
        [none if h is none else h.duration_ms for h in http],
        ["" if h is none else (h.user_agent or "") for h in http],
        src_topic,
        src_partition,
        src_offset,
        src_line,
        [ingested_ms] * len(events),
    ]


#: Columns a reader selects to rebuild an event with :func:`row_to_event`.
SELECT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "ts_ms",
    "component",
    "environment",
    "kind",
    "severity",
    "message",
    "user",
    "function",
    "reason",
    "trace_id",
    "data",
    "http_method",
    "http_path",
    "http_status",
    "http_ip",
    "http_bytes",
    "http_duration_ms",
    "http_user_agent",
)

_OPTIONAL = ("environment", "message", "user", "function", "reason", "trace_id")


def row_to_event(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row (selected as :data:`SELECT_COLUMNS`) as the event's JSON shape.

    ``timestamp`` becomes RFC 3339 UTC with milliseconds; empty optional text is left out,
    as it was absent when written.
    """
    ts = datetime_from_ms(int(row["ts_ms"]))
    event: dict[str, Any] = {
        "event_id": str(row["event_id"]),
        "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z",
        "component": row["component"],
        "kind": row["kind"],
        "severity": row["severity"],
    }
    for name in _OPTIONAL:
        if row[name]:
            event[name] = row[name]
    if row["data"]:
        event["data"] = _decode_json(row["data"])  # exact for integers past 64 bits
    if row["http_method"]:
        http: dict[str, Any] = {
            "method": row["http_method"],
            "path": row["http_path"],
            "status": row["http_status"],
        }
        for name in ("ip", "bytes", "duration_ms", "user_agent"):
            value = row[f"http_{name}"]
            if value is not None and value != "":
                http[name] = value
        event["http"] = http
    return event
