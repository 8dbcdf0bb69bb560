"""Chunks of a byte stream → complete lines, each with its byte offset and line number.

A line is complete at its ``\\n``; the bytes after the last newline wait for the next
chunk (a writer may be half-way through a line). Memory is bounded: a line growing past
``max_line`` is cut — its first ``max_line`` bytes come out once, flagged ``too_long``,
and the rest of it is skipped up to its newline. :meth:`LineSplitter.finish` hands out an
unterminated last line when the stream ends.

:attr:`LineSplitter.consumed` is the stream offset just after the last complete line: a
position to resume from without splitting a line.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Line", "LineSplitter"]


class Line(NamedTuple):
    offset: int  #: byte offset of the line's start in its stream
    number: int  #: 1-based line number in its stream
    raw: bytes  #: without the newline; the first max_line bytes when too_long
    too_long: bool


class LineSplitter:
    """Not thread-safe; one per stream."""

    def __init__(self, max_line: int, *, offset: int = 0, number: int = 0) -> None:
        self._max = max_line
        self._carry = b""
        self._skipping = False  # inside a too-long line, waiting for its newline
        # Bytes of a blank-so-far carried line not kept in the carry (see _hold).
        self._dropped = 0
        self.consumed = offset  #: stream offset after the last complete line
        self._number = number

    def feed(self, chunk: bytes) -> list[Line]:
        """The lines completed by ``chunk``, in order; blank lines are skipped."""
        if not chunk:
            return []
        # The carry (empty while skipping) starts at `consumed`, and the chunk follows it.
        data = self._carry + chunk if self._carry else chunk
        start = self.consumed
        end = data.rfind(b"\n")
        if end < 0:
            return self._hold(data, start)
        out: list[Line] = []
        position = 0
        for piece in data[:end].split(b"\n"):
            if self._skipping:
                self._skipping = False  # the tail of a cut line: already reported
            else:
                self._number += 1
                if piece.strip():
                    out.append(self._line(start + position, piece))
            position += len(piece) + 1 + self._dropped
            self._dropped = 0  # only the first piece can be a shortened carry
        self.consumed = start + position
        self._carry = b""
        out.extend(self._hold(data[end + 1 :], self.consumed))
        return out

    def finish(self) -> list[Line]:
        """The unterminated last line, if any (the stream ended). Resets the splitter."""
        carry, skipping, dropped = self._carry, self._skipping, self._dropped
        self._carry, self._skipping, self._dropped = b"", False, 0
        if skipping or not carry.strip():
            self.consumed += len(carry) + dropped
            return []
        self._number += 1
        line = self._line(self.consumed, carry)
        self.consumed += len(carry)
        return [line]

    def _hold(self, rest: bytes, start: int) -> list[Line]:
        """Keep an incomplete line for the next chunk, or cut it when it is too long."""
        if self._skipping:
            self._carry = b""
            self.consumed = start + len(rest)  # skipped bytes are done with
            return []
        if len(rest) <= self._max:
            self._carry = rest
            return []
        if not rest.strip():
            # Blank so far: whether it is a line at all depends on what follows, so wait —
            # holding no more than max_line + 1 bytes of it (a client sending endless
            # spaces costs nothing), and counting the rest for the offsets.
            self._dropped += len(rest) - (self._max + 1)
            self._carry = rest[: self._max + 1]
            return []
        self._number += 1
        self._skipping = True
        self._carry = b""
        self.consumed = start + len(rest) + self._dropped
        self._dropped = 0
        return [Line(start, self._number, rest[: self._max], True)]

    def _line(self, offset: int, raw: bytes) -> Line:
        if len(raw) > self._max:
            return Line(offset, self._number, raw[: self._max], True)
        return Line(offset, self._number, raw, False)
