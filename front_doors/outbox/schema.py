"""The outbox table: its DDL, and :func:`ensure_schema` to create it.

One row per event, written by :func:`front_doors.outbox.write_event` inside the business
transaction and moved through three states by the relay::

    AWAITING ──claim──► SENDING ──Kafka acknowledged──► DELIVERED ──old──► deleted
        ▲                  │                                 (OUTBOX_CLEAN_IN_MINUTES)
        └──send failed─────┘  (and after the lease, if its relay died)

``payload`` is the event's validated JSON line, sent byte for byte. The partial indexes
keep each state's scan small however many delivered rows wait for cleaning. Teams that
manage DDL with their own migration tool can take the statements from :func:`ddl`
(``eventpipe outbox-relay --print-schema``).
"""

from __future__ import annotations

from typing import Any, Final

import psycopg
from psycopg import sql

__all__ = ["AWAITING", "DEFAULT_TABLE", "DELIVERED", "SENDING", "ddl", "ensure_schema"]

DEFAULT_TABLE: Final = "eventpipe_outbox"
AWAITING: Final = "AWAITING"
SENDING: Final = "SENDING"
DELIVERED: Final = "DELIVERED"

_STATEMENTS: Final = (
    """CREATE TABLE IF NOT EXISTS {table} (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     uuid        NOT NULL,
    component    text        NOT NULL,
    payload      text        NOT NULL,
    state        text        NOT NULL DEFAULT 'AWAITING'
                             CHECK (state IN ('AWAITING', 'SENDING', 'DELIVERED')),
    attempts     integer     NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    claimed_at   timestamptz,
    claim_id     uuid,
    delivered_at timestamptz,
    last_error   text
)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS {event_id} ON {table} (event_id)",
    "CREATE INDEX IF NOT EXISTS {awaiting} ON {table} (id) WHERE state = 'AWAITING'",
    "CREATE INDEX IF NOT EXISTS {sending} ON {table} (claimed_at) WHERE state = 'SENDING'",
    "CREATE INDEX IF NOT EXISTS {delivered} ON {table} (delivered_at) WHERE state = 'DELIVERED'",
)


def _composed(table: str) -> list[sql.Composed]:
    names = {
        "table": sql.Identifier(table),
        "event_id": sql.Identifier(f"{table}_event_id"),
        "awaiting": sql.Identifier(f"{table}_awaiting"),
        "sending": sql.Identifier(f"{table}_sending"),
        "delivered": sql.Identifier(f"{table}_delivered"),
    }
    return [sql.SQL(statement).format(**names) for statement in _STATEMENTS]


def ddl(table: str = DEFAULT_TABLE) -> str:
    """The statements creating ``table`` and its indexes, as SQL text (idempotent)."""
    return "".join(f"{statement.as_string()};\n" for statement in _composed(table))


def ensure_schema(conn: psycopg.Connection[Any], table: str = DEFAULT_TABLE) -> None:
    """Create the outbox table and its indexes when missing. Idempotent.

    Blocking. Commits, unless the caller holds a transaction open on ``conn`` (then the
    statements join it as a savepoint and commit with it). Safe to call from several
    processes at once: an advisory lock serialises the creators (``CREATE ... IF NOT
    EXISTS`` alone can still race in the catalog).
    Raises :class:`psycopg.Error` when the database refuses (e.g. no CREATE privilege).
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"eventpipe:{table}",))
        for statement in _composed(table):
            conn.execute(statement)
