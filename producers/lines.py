"""Writing events into a record buffer: one NDJSON line each, ``event_id`` stamped.

Two costs dominate a producer written in Python, and this module avoids both:

* ``uuid.uuid4()`` costs ~4 µs here — as much as validating the event — because it reads
  the OS's randomness and builds a ``UUID`` object. Ids are instead RFC 9562 *version 8*
  ("custom") UUIDs: 110 random bits drawn once per block of 4,096 ids, then a 12-bit
  sequence number. Unique within a producer by construction, and across producers by the
  random bits (two blocks collide with odds of ~2^-110). To every reader (pydantic,
  msgspec, ClickHouse) they are ordinary UUIDs.
* building a ``bytes`` per line and joining them into a record costs two copies and an
  allocation per event. Lines are instead encoded straight into the record's
  ``bytearray`` (``msgspec``'s ``encode_into``), the id spliced in as the first field.

The encoder is the contract's own (:data:`events.wire.WIRE_ENCODER`, called directly: a
wrapper would cost a Python call per event); a unit test holds every written line equal to
``encode_wire``'s output.
"""

from __future__ import annotations

import itertools
import os
import weakref
from itertools import islice
from typing import Final

from events.errors import InvalidEvent
from events.limits import MAX_EVENT_BYTES
from events.wire import ENCODE_ERRORS, WIRE_ENCODER, WireEvent, unencodable

__all__ = ["LineWriter"]

_SEQ_BITS: Final = 12
_SEQ_MASK: Final = (1 << _SEQ_BITS) - 1
_COMMA: Final = ord(",")
# The last three hex digits of an id: as text, and as the bytes that close the id string.
_TAIL_TEXT: Final = tuple(f"{i:03x}" for i in range(1 << _SEQ_BITS))
_TAIL_BYTES: Final = tuple(f'{i:03x}"'.encode() for i in range(1 << _SEQ_BITS))
_MAX_LINE: Final = MAX_EVENT_BYTES + 1  # a written line carries its leading newline
_encode_into: Final = WIRE_ENCODER.encode_into  # (event, buffer, -1) appends the line

_LIVE: weakref.WeakSet[LineWriter] = weakref.WeakSet()


def _random_prefix() -> str:
    """33 characters: a version-8, RFC-variant UUID without its last 3 hex digits."""
    value = int.from_bytes(os.urandom(16), "big")
    value = (value & ~(0xF << 76)) | (0x8 << 76)  # version 8
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # variant 10xx
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:29]}"


class LineWriter:
    """Appends events to record buffers. Thread-safe for distinct buffers, lock-free."""

    def __init__(self) -> None:
        self._reset()
        _LIVE.add(self)

    def _reset(self) -> None:
        self._seq = itertools.count()
        self._block: tuple[int, str, bytes] = (-1, "", b"")

    def write(self, buffer: bytearray, event: WireEvent) -> str:
        """Append ``"\\n"`` and the event's JSON line to ``buffer``; return its ``event_id``.

        An event without ``event_id`` gets a fresh one. On error ``buffer`` is left as it
        was; :class:`InvalidEvent` means the line is over ``MAX_EVENT_BYTES`` or ``data``
        held a value JSON cannot carry.
        """
        start = len(buffer)
        try:
            if event.event_id is not None:
                buffer += b"\n"
                _encode_into(event, buffer, -1)
                event_id = str(event.event_id)
            else:
                # next() on the counter is atomic, so two threads never share a number; a
                # block is replaced as a whole tuple, and racing threads still get distinct
                # ids (each block has its own random prefix).
                n = next(self._seq)
                block = self._block
                if block[0] != n >> _SEQ_BITS:
                    block = self._block = _new_block(n >> _SEQ_BITS)
                low = n & _SEQ_MASK
                buffer += block[2]
                buffer += _TAIL_BYTES[low]
                brace = len(buffer)
                _encode_into(event, buffer, -1)
                buffer[brace] = _COMMA  # …"{"component":… → …","component":…
                event_id = block[1] + _TAIL_TEXT[low]
        except ENCODE_ERRORS as exc:
            del buffer[start:]
            raise unencodable(event, exc) from None
        except BaseException:
            del buffer[start:]  # never leave half a line in a record
            raise
        if len(buffer) - start > _MAX_LINE:
            size = len(buffer) - start - 1
            del buffer[start:]
            raise InvalidEvent("too_large", "", f"event is {size} bytes, over {MAX_EVENT_BYTES}")
        return event_id

    def new_ids(self, count: int) -> list[str]:
        """``count`` fresh ids (what :meth:`write` stamps; for encoders of whole batches)."""
        numbers = list(islice(self._seq, count))  # one C call: a contiguous run
        if not numbers:
            return []
        block = self._block
        if block[0] == numbers[0] >> _SEQ_BITS == numbers[-1] >> _SEQ_BITS:
            prefix = block[1]
            return [prefix + _TAIL_TEXT[n & _SEQ_MASK] for n in numbers]
        return [self._id_of(n) for n in numbers]  # crossing into a new block

    def _id_of(self, n: int) -> str:
        block = self._block
        if block[0] != n >> _SEQ_BITS:
            block = self._block = _new_block(n >> _SEQ_BITS)
        return block[1] + _TAIL_TEXT[n & _SEQ_MASK]


def _new_block(number: int) -> tuple[int, str, bytes]:
    """``(number, prefix, b'\\n{"event_id":"' + prefix)`` with a fresh random prefix."""
    prefix = _random_prefix()
    return number, prefix, b'\n{"event_id":"' + prefix.encode()


def _after_fork_in_child() -> None:
    # A forked child would continue its parent's block and repeat its ids.
    for writer in list(_LIVE):
        writer._reset()


os.register_at_fork(after_in_child=_after_fork_in_child)
