"""The transactional outbox for services on PostgreSQL.

* :func:`write_event` / :func:`write_event_async` — the library call: validate an event
  and insert it into the ``eventpipe_outbox`` table inside the caller's own transaction;
* :func:`ensure_schema` / :func:`ddl` — create the table (idempotent) or print its DDL;
* :class:`Relay` — ``eventpipe outbox-relay``: delivers committed rows to Kafka in
  batches, at least once, with retries, leases and cleaning.

See ``docs/outbox.md``.
"""

from front_doors.outbox.relay import Relay, RunReport
from front_doors.outbox.schema import AWAITING, DELIVERED, SENDING, ddl, ensure_schema
from front_doors.outbox.settings import OutboxSettings
from front_doors.outbox.write import OutsideTransaction, write_event, write_event_async

__all__ = [
    "AWAITING",
    "DELIVERED",
    "SENDING",
    "OutboxSettings",
    "OutsideTransaction",
    "Relay",
    "RunReport",
    "ddl",
    "ensure_schema",
    "write_event",
    "write_event_async",
]
