"""Opaque pagination cursors: the (timestamp, event_id) key of the last event of a page.

Pages are keyset pages, newest first: the next page holds the events strictly older than
the cursor's key in the order ``(ts_ms DESC, event_id DESC)``, so a cursor stays valid
while new events arrive. The text is URL-safe base64 of a versioned JSON array; clients
must treat it as opaque. A cursor we cannot read is :class:`InvalidCursor` (400).
"""

from __future__ import annotations

import base64
import binascii
from typing import NamedTuple
from uuid import UUID

import orjson

from query_api.errors import InvalidCursor

__all__ = ["Key", "decode_cursor", "encode_cursor"]

_VERSION = 1


class Key(NamedTuple):
    """A position in the stable order: event time, then event id."""

    ts_ms: int
    event_id: str


def encode_cursor(key: Key) -> str:
    raw = orjson.dumps([_VERSION, key.ts_ms, key.event_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> Key:
    """The key in ``text``; raises :class:`InvalidCursor` for anything we did not issue."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        version, ts_ms, event_id = orjson.loads(raw)
        if version != _VERSION or type(ts_ms) is not int or not 0 <= ts_ms < 2**62:
            raise ValueError("unknown cursor version or key")
        if type(event_id) is not str:  # UUID() fails on other types with AttributeError
            raise ValueError("the cursor's event id is not text")
        return Key(ts_ms, str(UUID(event_id)))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidCursor("cursor is not one this API issued") from None
