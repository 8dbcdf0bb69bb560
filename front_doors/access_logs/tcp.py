"""The TCP receiver: many connections streaming log lines, none able to hold up the others.

Each connection is served by its own task (asyncio's ``start_server``), reading chunks of
``access_read_bytes`` into a bounded buffer (a client that sends faster than we publish
waits in TCP's flow control, it does not grow our memory), splitting them into lines
(:class:`~front_doors.access_logs.lines.LineSplitter`: bounded line length) and handing
them to the shared :class:`~front_doors.access_logs.publisher.AccessPublisher`. A client
that stalls mid-line blocks only its own task, and is closed after the idle timeout; a
client that disconnects or resets loses nothing it completed.

Hazard: asyncio's ``StreamReader`` raises a connection's error on the next ``read`` even
while it still holds bytes received before the reset, and so would drop up to a socket
buffer of complete lines. :class:`_Protocol` ends such a reader as if the client had
closed, and notes the error for the receiver to act on once the bytes are read.
"""

from __future__ import annotations

import asyncio
import logging

from events.topics import SOURCE_TCP
from front_doors.access_logs.lines import LineSplitter
from front_doors.access_logs.publisher import AccessPublisher
from front_doors.access_logs.settings import AccessLogSettings

__all__ = ["TcpReceiver"]

_log = logging.getLogger("front_doors.access_logs")
#: When closing, a connection whose client sent nothing for this long is ended.
_DRAIN_QUIET = 0.2


class TcpReceiver:
    """Start with :meth:`start`, stop with :meth:`close`. One event loop."""

    def __init__(self, settings: AccessLogSettings, publisher: AccessPublisher) -> None:
        self._settings = settings
        self._publisher = publisher
        self._counters = publisher.counters
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._closing = False
        self._reads: dict[asyncio.Task[None], asyncio.Timeout] = {}  # reads in progress

    async def start(self) -> tuple[str, int]:
        """Bind and start accepting; return the address actually bound (port 0 → free port).

        Raises ``OSError`` when the address cannot be bound.
        """
        loop = asyncio.get_running_loop()
        limit = self._settings.access_read_bytes * 2

        def protocol() -> _Protocol:  # what asyncio.start_server builds, with our protocol
            return _Protocol(asyncio.StreamReader(limit, loop), self._serve, loop)

        self._server = await loop.create_server(
            protocol, self._settings.access_host, self._settings.access_port
        )
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def close(self, grace: float = 10.0) -> None:
        """Stop accepting; drain every connection, then end it. Awaits them.

        A connection is read on until its client has been quiet for a moment (what it
        sent before the shutdown is in our socket buffer, and is not lost), then ends at
        its last complete line. A task still busy after ``grace`` seconds is cancelled.
        """
        self._closing = True
        if self._server is not None:
            self._server.close()
        soon = asyncio.get_running_loop().time() + _DRAIN_QUIET
        for deadline in list(self._reads.values()):
            deadline.reschedule(min(soon, deadline.when() or soon))
        tasks = list(self._connections)
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._connections) >= self._settings.access_max_connections:
            self._counters.add("connections_refused")
            writer.transport.abort()
            return
        self._connections[task] = writer
        self._counters.add("connections")
        try:
            await self._read(reader, _source(writer), writer.transport.get_protocol())
        finally:
            del self._connections[task]
            writer.transport.abort()  # nothing is ever written back: no need to drain

    async def _read(
        self, reader: asyncio.StreamReader, source: str, protocol: asyncio.BaseProtocol
    ) -> None:
        settings = self._settings
        splitter = LineSplitter(settings.access_max_line_bytes)
        publish = self._publisher.publish
        cut: str | None = None  # why the stream ended early, if it did
        try:
            while chunk := await self._next(reader):
                await publish(splitter.feed(chunk), source)
                # Fairness: a client whose data is always ready still lets the others run.
                await asyncio.sleep(0)
            if isinstance(protocol, _Protocol) and protocol.broken is not None:
                raise protocol.broken  # every byte received before it is read
        except TimeoutError:
            if self._closing:
                cut = "the receiver shut down"
            else:
                self._counters.add("connections_idle")
                cut = f"the connection was idle for {settings.access_idle_timeout_seconds:g} s"
        except (ConnectionError, OSError) as exc:
            self._counters.add("connections_broken")
            cut = f"the connection broke ({exc})"
        rest = splitter.finish()
        if cut is None:
            await publish(rest, source)  # a last line without its newline is a line
        else:
            await self._publisher.reject(rest, source, f"incomplete line: {cut} mid-line")

    async def _next(self, reader: asyncio.StreamReader) -> bytes:
        """The next chunk (``b""`` at the end); ``TimeoutError`` when the client is quiet
        for the idle timeout, or for a moment once the receiver is closing."""
        quiet = _DRAIN_QUIET if self._closing else self._settings.access_idle_timeout_seconds
        task = asyncio.current_task()
        assert task is not None
        async with asyncio.timeout(quiet) as deadline:
            self._reads[task] = deadline
            try:
                return await reader.read(self._settings.access_read_bytes)
            finally:
                del self._reads[task]


class _Protocol(asyncio.StreamReaderProtocol):
    """asyncio's stream protocol, except that a connection that breaks ends its reader
    like a clean close (so what it buffered is still read) and keeps the error in
    :attr:`broken`."""

    broken: OSError | None = None

    def connection_lost(self, exc: Exception | None) -> None:
        if isinstance(exc, OSError):
            self.broken, exc = exc, None
        super().connection_lost(exc)


def _source(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        host = f"[{peer[0]}]" if ":" in str(peer[0]) else peer[0]
        return f"{SOURCE_TCP}{host}:{peer[1]}"
    return f"{SOURCE_TCP}unknown"
