"""Reading a request body under a byte limit, decompressing gzip/deflate on the way.

The limit holds for what the collector would have to keep in memory: the declared
``Content-Length`` is checked before anything is read, the stream is counted while it is
read, and decompressed bytes are counted too (a small gzip body cannot expand into
gigabytes: a "zip bomb" is cut off at the limit). A compressed stream is counted as sent
as well: padding, empty gzip members or empty deflate blocks inflate to nothing, and an
endless chunked upload of them would otherwise be read for ever.

A compressed body must be whole: a gzip body is every member of it (RFC 1952: ``pigz`` and
streaming shippers write several), trailing zero padding is ignored as ``gzip`` does, and
a stream cut short or followed by other bytes is a :class:`BadRequest` — never a part of
the body read as if it were all of it.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Mapping
from typing import Final

from front_doors.collector.errors import BadRequest, PayloadTooLarge, UnsupportedEncoding

__all__ = ["read_body"]

# zlib's wbits: 16 + MAX_WBITS reads gzip, MAX_WBITS reads zlib-wrapped deflate.
_WBITS: Final = {
    "gzip": 16 + zlib.MAX_WBITS,
    "x-gzip": 16 + zlib.MAX_WBITS,
    "deflate": zlib.MAX_WBITS,
}


async def read_body(
    headers: Mapping[str, str], chunks: AsyncIterator[bytes], max_bytes: int
) -> bytes:
    """The whole (decoded) body, at most ``max_bytes``. Awaits the client's chunks.

    Raises :class:`PayloadTooLarge` past the limit (declared, sent or decompressed),
    :class:`UnsupportedEncoding` for an unknown ``Content-Encoding`` and
    :class:`BadRequest` for a body that does not decompress.
    """
    _check_declared_length(headers.get("content-length"), max_bytes)
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return await _read_plain(chunks, max_bytes)
    wbits = _WBITS.get(encoding)
    if wbits is None:
        raise UnsupportedEncoding(
            f"Content-Encoding {encoding!r} is not supported; use gzip, deflate or none"
        )
    return await _read_compressed(chunks, max_bytes, wbits, encoding)


def _check_declared_length(declared: str | None, max_bytes: int) -> None:
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)


async def _read_plain(chunks: AsyncIterator[bytes], max_bytes: int) -> bytes:
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(max_bytes)
    return bytes(body)


async def _read_compressed(
    chunks: AsyncIterator[bytes], max_bytes: int, wbits: int, encoding: str
) -> bytes:
    inflater = zlib.decompressobj(wbits)
    body = bytearray()
    sent = 0
    try:
        async for chunk in chunks:
            sent += len(chunk)
            if sent > max_bytes:  # as a declared Content-Length over the limit would be
                raise _too_large(max_bytes)
            # max_length bounds what one call may produce; leftovers wait in unconsumed_tail.
            data = chunk
            while data:
                if inflater.eof:  # bytes after the end of the stream (of a gzip member)
                    inflater, data = _after_end(inflater, data, wbits, encoding)
                    if not data:
                        break
                body += inflater.decompress(data, max_bytes + 1 - len(body))
                if len(body) > max_bytes:
                    raise _too_large(max_bytes)
                data = inflater.unconsumed_tail or inflater.unused_data
        body += inflater.flush()
    except zlib.error as exc:
        raise BadRequest(f"the body is not valid {encoding}: {exc}") from None
    if sent and not inflater.eof:
        raise BadRequest(f"the body is not valid {encoding}: truncated (its end is missing)")
    if len(body) > max_bytes:
        raise _too_large(max_bytes)
    return bytes(body)


def _after_end(
    inflater: zlib._Decompress, data: bytes, wbits: int, encoding: str
) -> tuple[zlib._Decompress, bytes]:
    """What to make of ``data`` after the end of a compressed stream: zero padding (ignored,
    as ``gzip`` does), the next gzip member (a fresh inflater: zlib checks its header), or
    for deflate a :class:`BadRequest`."""
    if not data.strip(b"\0"):
        return inflater, b""
    if encoding == "deflate":
        raise BadRequest("the body is not valid deflate: bytes after the end of the stream")
    return zlib.decompressobj(wbits), data


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the body is over the {max_bytes:,}-byte limit; send fewer events per request",
        max_bytes=max_bytes,
    )
