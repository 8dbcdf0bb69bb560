"""The library call of the outbox: write an event inside the caller's own transaction.

::

    with conn.transaction():
        conn.execute("INSERT INTO orders ...")
        write_event(conn, {"component": "orders", "kind": "event", "message": "order placed"})
    # committed: the relay will publish the event; rolled back: nothing is ever published

The event is validated by the contract *before* anything is written (an invalid event
raises :class:`~events.errors.InvalidEvent` and the caller's transaction is untouched); it
gets its ``event_id`` and its event time (the moment of the call) here, so the stored line
is exactly what Kafka will receive, and a relay sending it twice sends the same event.
"""

from __future__ import annotations

from collections.abc import Mapping
from time import time_ns
from typing import Any
from uuid import uuid4

import psycopg
from psycopg import sql

from events.errors import InvalidEvent
from events.limits import MAX_EVENT_BYTES
from events.model import Event
from events.wire import ENCODE_ERRORS, WireEvent, encode_wire, unencodable, validate_wire
from front_doors.outbox.schema import DEFAULT_TABLE

__all__ = ["OutsideTransaction", "prepare", "write_event", "write_event_async"]

Target = psycopg.Connection[Any] | psycopg.Cursor[Any]
AsyncTarget = psycopg.AsyncConnection[Any] | psycopg.AsyncCursor[Any]
_INSERT = "INSERT INTO {} (event_id, component, payload) VALUES (%s, %s, %s) " + (
    "ON CONFLICT (event_id) DO NOTHING"
)


class OutsideTransaction(RuntimeError):
    """``write_event`` on an autocommit connection with no transaction open.

    The event would be committed on its own, whatever happens to the business change:
    exactly what an outbox exists to prevent. Open ``conn.transaction()`` first (or pass
    ``standalone=True`` when a lone, durable event is what you want).
    """


def prepare(event: Mapping[str, Any] | Event) -> tuple[str, str, str]:
    """``(event_id, component, line)`` of a valid event. Pure; raises ``InvalidEvent``."""
    wire = WireEvent.from_event(event) if isinstance(event, Event) else validate_wire(event)
    if wire.event_id is None:
        wire.event_id = uuid4()
    if wire.timestamp is None:  # the business time, not the (later) relay time
        wire.timestamp = time_ns() // 1_000_000
    try:
        line = encode_wire(wire)
    except ENCODE_ERRORS as exc:
        raise unencodable(wire, exc) from None
    if len(line) > MAX_EVENT_BYTES:
        raise InvalidEvent("too_large", "", f"event is {len(line)} bytes, over {MAX_EVENT_BYTES}")
    return str(wire.event_id), wire.component, line.decode()


def write_event(
    target: Target,
    event: Mapping[str, Any] | Event,
    *,
    table: str = DEFAULT_TABLE,
    standalone: bool = False,
) -> str:
    """Insert ``event`` into the outbox on the caller's connection (or cursor); return its id.

    Blocking (one INSERT); never commits: the row becomes visible to the relay when the
    caller's transaction commits, and vanishes with a rollback. Writing the same
    ``event_id`` twice keeps the first row. Raises :class:`InvalidEvent` (nothing
    written), :class:`OutsideTransaction`, or :class:`psycopg.Error` from the database.
    """
    event_id, component, line = prepare(event)
    conn = target.connection if isinstance(target, psycopg.Cursor) else target
    _check_transaction(conn.autocommit, conn.info.transaction_status, standalone)
    target.execute(sql.SQL(_INSERT).format(sql.Identifier(table)), (event_id, component, line))
    return event_id


async def write_event_async(
    target: AsyncTarget,
    event: Mapping[str, Any] | Event,
    *,
    table: str = DEFAULT_TABLE,
    standalone: bool = False,
) -> str:
    """:func:`write_event` for ``psycopg.AsyncConnection`` / ``AsyncCursor``; same contract."""
    event_id, component, line = prepare(event)
    conn = target.connection if isinstance(target, psycopg.AsyncCursor) else target
    _check_transaction(conn.autocommit, conn.info.transaction_status, standalone)
    await target.execute(
        sql.SQL(_INSERT).format(sql.Identifier(table)), (event_id, component, line)
    )
    return event_id


def _check_transaction(
    autocommit: bool, status: psycopg.pq.TransactionStatus, standalone: bool
) -> None:
    # Without autocommit the INSERT itself opens the transaction the caller commits later;
    # with autocommit, IDLE means no `conn.transaction()` block is open around us.
    if autocommit and status == psycopg.pq.TransactionStatus.IDLE and not standalone:
        raise OutsideTransaction(
            "write_event() on an autocommit connection outside a transaction would commit the "
            "event on its own; wrap the business change and the event in conn.transaction()"
        )
