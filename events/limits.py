"""Size limits of the wire contract.

Chosen so that one Kafka record of packed events stays under the broker's default
``message.max.bytes`` (1,048,588) and one event stays comfortably inside a ClickHouse row:

========================  =========  ===================================================
limit                     value      why
========================  =========  ===================================================
``MAX_EVENT_BYTES``       131,072    one JSON line; bigger payloads belong in blob storage
``MAX_MESSAGE_CHARS``     32,768     a message is text for humans; stack traces go in data
``MAX_SHORT_CHARS``       256        user, environment, trace_id, http.ip (http.method: 16 letters)
``MAX_TEXT_CHARS``        4,096      function, reason, http.path, http.user_agent
``MAX_RECORD_BYTES``      1,000,000  a whole record (all its lines), under the broker limit
``MAX_RECORD_EVENTS``     1,000      lines per record
``MAX_HTTP_BYTES``        2^63 - 1   ``http.bytes``: fits int64 readers and the UInt64 column
``MAX_LETTER_BYTES``      900,000    a dead letter's value: under librdkafka's default
                                     ``message.max.bytes`` (1,000,000) with its headers
========================  =========  ===================================================

JSON nesting is bounded by the model's parser: a line nested more than 200 levels deep is
``bad_json`` (pydantic-core's recursion limit), on both decoding paths.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "MAX_EVENT_BYTES",
    "MAX_HTTP_BYTES",
    "MAX_LETTER_BYTES",
    "MAX_MESSAGE_CHARS",
    "MAX_RECORD_BYTES",
    "MAX_RECORD_EVENTS",
    "MAX_SHORT_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_TIMESTAMP_MS",
]

MAX_EVENT_BYTES: Final = 131_072
MAX_MESSAGE_CHARS: Final = 32_768
MAX_SHORT_CHARS: Final = 256
MAX_TEXT_CHARS: Final = 4_096
MAX_RECORD_BYTES: Final = 1_000_000
MAX_RECORD_EVENTS: Final = 1_000
MAX_HTTP_BYTES: Final = 2**63 - 1
MAX_LETTER_BYTES: Final = 900_000
#: 2106-02-07T06:28:15Z, the last second ClickHouse's DateTime can hold.
MAX_TIMESTAMP_MS: Final = 4_294_967_295_000
