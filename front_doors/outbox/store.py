"""The relay's SQL: claim, mark, release, reclaim and clean outbox rows. I/O edge.

Every method is one short statement on an autocommit connection, so no lock is held while
Kafka is being waited for. Claims use ``FOR UPDATE SKIP LOCKED``: relays running at once
take disjoint batches without waiting for each other. Each claim gets a fresh
``claim_id``; the marks that follow name it, so a relay whose lease ran out (and whose
rows another relay took over) cannot overwrite the newer claim's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import psycopg
from psycopg import sql

__all__ = ["Claim", "OutboxRow", "OutboxStore"]

_CLAIM = """
WITH batch AS (
    SELECT id FROM {t} WHERE state = 'AWAITING'
    ORDER BY id LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE {t} AS o
SET state = 'SENDING', claimed_at = now(), claim_id = %(claim)s, attempts = o.attempts + 1
FROM batch WHERE o.id = batch.id
RETURNING o.id, o.event_id, o.component, o.payload, o.created_at
"""
_DELIVERED = """
UPDATE {t} SET state = 'DELIVERED', delivered_at = now(), last_error = NULL
WHERE id = ANY(%(ids)s) AND claim_id = %(claim)s AND state = 'SENDING'
"""
_RELEASE = """
UPDATE {t} SET state = 'AWAITING', claim_id = NULL, last_error = %(error)s
WHERE id = ANY(%(ids)s) AND claim_id = %(claim)s AND state = 'SENDING'
"""
_EXTEND = """
UPDATE {t} SET claimed_at = now(), attempts = attempts + 1
WHERE id = ANY(%(ids)s) AND claim_id = %(claim)s AND state = 'SENDING'
"""
_RECLAIM = """
UPDATE {t} SET state = 'AWAITING', claim_id = NULL, last_error = 'lease expired in SENDING'
WHERE state = 'SENDING' AND claimed_at < now() - make_interval(secs => %(lease)s)
"""
_CLEAN = """
DELETE FROM {t} WHERE id IN (
    SELECT id FROM {t}
    WHERE state = 'DELIVERED' AND delivered_at < now() - make_interval(secs => %(age)s)
    LIMIT %(limit)s
)
"""
_COUNTS = "SELECT state, count(*) FROM {t} GROUP BY state"
_CLEAN_CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    event_id: UUID
    component: str
    payload: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Claim:
    """Rows this relay now holds in SENDING, in id (= commit-ish) order."""

    claim_id: UUID
    rows: list[OutboxRow]


class OutboxStore:
    """The outbox table on one ``psycopg.AsyncConnection`` in autocommit mode.

    Every method awaits one round trip and raises :class:`psycopg.Error` when the database
    fails; the relay then abandons the run (rows it held are reclaimed after the lease).
    """

    def __init__(self, conn: psycopg.AsyncConnection[Any], table: str) -> None:
        self._conn = conn
        self._table = sql.Identifier(table)

    async def claim(self, limit: int) -> Claim:
        """Move up to ``limit`` AWAITING rows to SENDING under a new claim."""
        claim_id = uuid4()
        cur = await self._run(_CLAIM, limit=limit, claim=claim_id)
        rows = sorted((OutboxRow(*row) for row in await cur.fetchall()), key=lambda r: r.id)
        return Claim(claim_id, rows)

    async def delivered(self, claim: Claim, ids: list[int]) -> int:
        """SENDING → DELIVERED for ``ids`` still under ``claim``; return rows changed."""
        return await self._rowcount(_DELIVERED, ids=ids, claim=claim.claim_id)

    async def release(self, claim: Claim, ids: list[int], error: str) -> int:
        """SENDING → AWAITING for ``ids`` still under ``claim``, noting ``error``."""
        return await self._rowcount(_RELEASE, ids=ids, claim=claim.claim_id, error=error[:2000])

    async def extend(self, claim: Claim, ids: list[int]) -> int:
        """Renew the lease of ``ids`` (before a retry) and count the attempt."""
        return await self._rowcount(_EXTEND, ids=ids, claim=claim.claim_id)

    async def reclaim_expired(self, lease_seconds: float) -> int:
        """SENDING rows older than the lease → AWAITING (their relay died); return count."""
        return await self._rowcount(_RECLAIM, lease=lease_seconds)

    async def clean(self, older_than_seconds: float) -> int:
        """Delete DELIVERED rows older than the given age, in chunks; return count."""
        total = 0
        while True:
            deleted = await self._rowcount(_CLEAN, age=older_than_seconds, limit=_CLEAN_CHUNK)
            total += deleted
            if deleted < _CLEAN_CHUNK:
                return total

    async def counts(self) -> dict[str, int]:
        """Rows per state (states with no rows are absent)."""
        cur = await self._run(_COUNTS)
        return dict(await cur.fetchall())

    async def _rowcount(self, query: str, **params: Any) -> int:
        if "ids" in params and not params["ids"]:
            return 0
        cur = await self._run(query, **params)
        return cur.rowcount

    async def _run(self, query: str, **params: Any) -> psycopg.AsyncCursor[Any]:
        statement = sql.SQL(query).format(t=self._table)
        return await self._conn.execute(statement, params)
