"""Front doors: ways into eventpipe for systems that cannot embed a Kafka client.

* :mod:`front_doors.collector` — an HTTP service (``eventpipe collector``): ``POST
  /v1/events`` (one event, a JSON array or NDJSON) with write tokens scoped to components,
  plus the replaced services' ``POST /logs`` and ``POST /event``;
* :mod:`front_doors.access_logs` — an HTTP access-log receiver (``eventpipe access-logs``):
  Common/Combined Log Format and JSON lines over TCP, or a followed, rotated log file;
* :mod:`front_doors.outbox` — a transactional outbox for services on PostgreSQL:
  :func:`write_event` inside the caller's transaction, and a relay (``eventpipe
  outbox-relay``) delivering the rows to Kafka.

Every front door validates with the shared contract (:mod:`events`) and publishes through
the same client (:mod:`producers`); input that is not an event is answered with a 4xx
naming the problem (HTTP) or dead-lettered with its reason (streams). Nothing is dropped
silently.
"""

from front_doors.outbox.schema import ensure_schema
from front_doors.outbox.write import write_event, write_event_async

__all__ = ["ensure_schema", "write_event", "write_event_async"]
