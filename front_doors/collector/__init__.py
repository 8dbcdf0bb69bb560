"""The HTTP collector (``eventpipe collector``): events over HTTP, scoped write tokens.

``POST /v1/events`` takes one event, a JSON array or NDJSON and answers 202 once Kafka
acknowledged every accepted event, listing invalid items with their reasons;
``POST /logs`` and ``POST /event`` take the replaced services' payloads. Build the app
with :func:`create_app`; see ``docs/collector.md``.
"""

from front_doors.collector.app import create_app
from front_doors.collector.settings import CollectorSettings
from front_doors.collector.tokens import Scope, WriteTokens

__all__ = ["CollectorSettings", "Scope", "WriteTokens", "create_app"]
