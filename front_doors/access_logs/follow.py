"""Following a growing log file, rotation-safe, resuming where it left off.

* **Growth** — at the end of the file the follower polls every ``access_poll_seconds``;
  a line being written is read once its newline is there.
* **Rename rotation** (logrotate's default, ``mv access.log access.log.1``): when the
  path names a new file, the old one is read on until it has been quiet for
  ``access_rotate_wait_seconds`` (the writer may not have reopened yet), then the new
  one from its start.
* **Copy-truncate rotation**: a file shorter than what was read, or whose first line
  changed, is read again from its start. (Lines written between the copy and the
  truncation are lost by copy-truncate itself; prefer rename rotation.)
* **Position** — every ``access_checkpoint_seconds`` the follower waits until Kafka has
  acknowledged every event read so far (and every dead letter), then saves its position
  (:mod:`~front_doors.access_logs.position`). After a restart it resumes there — in the
  rotated file if the file was rotated meanwhile. If Kafka failed some events, it reads
  again from the last saved position.

Event ids derive from the file's identity and the line's offset, so lines read twice
(after a failure or a crash between sending and saving) are the same events, which the
stream processors store once. File reads run in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import BinaryIO
from uuid import UUID, uuid5

from events.errors import RetryableError
from events.topics import SOURCE_FILE
from front_doors.access_logs.files import find_saved, identity_at, open_with_identity
from front_doors.access_logs.lines import LineSplitter
from front_doors.access_logs.position import Position, PositionStore
from front_doors.access_logs.publisher import AccessPublisher, EventIds
from front_doors.access_logs.settings import AccessLogSettings
from front_doors.deadletters import DeadLetters
from producers import AsyncEventProducer, FlushTimeout

__all__ = ["FileFollower"]

_log = logging.getLogger("front_doors.access_logs")
#: uuid5 namespace of the ids of followed lines: "device:inode:fingerprint:offset".
_ID_NAMESPACE = UUID("0b7a4f8e-2c1d-4e5f-9a6b-3c2d1e0f4a5b")


class _Open:
    """One open file being read: its identity, its splitter, and how quiet it has been."""

    def __init__(self, file: BinaryIO, identity: Position, max_line: int) -> None:
        self.file = file
        self.identity = identity
        self.splitter = LineSplitter(max_line, offset=identity.offset)
        self.quiet_since: float | None = None
        self.source = f"{SOURCE_FILE}{Path(file.name).resolve()}"
        prefix = f"{identity.device}:{identity.inode}:{identity.fingerprint}:"
        self.event_ids: EventIds = lambda offset: str(uuid5(_ID_NAMESPACE, f"{prefix}{offset}"))

    def position(self) -> Position:
        """Where to resume: just after the last complete line."""
        return Position(
            self.identity.device,
            self.identity.inode,
            self.identity.fingerprint,
            self.splitter.consumed,
        )

    def rewind(self, offset: int, max_line: int) -> None:
        """Read again from ``offset`` (a line boundary)."""
        self.file.seek(offset)
        self.splitter = LineSplitter(max_line, offset=offset)


class FileFollower:
    """Follows ``settings.access_follow`` until stopped. One event loop."""

    def __init__(
        self,
        settings: AccessLogSettings,
        publisher: AccessPublisher,
        producer: AsyncEventProducer,
        dead_letters: DeadLetters,
    ) -> None:
        assert settings.access_follow is not None
        self._settings = settings
        self._path = settings.access_follow
        self._publisher = publisher
        self._producer = producer
        self._dead = dead_letters
        self._positions = PositionStore(settings.access_state_dir, self._path)
        self._max_line = settings.access_max_line_bytes
        self._saved: Position | None = None
        self._failures = 0
        self._next_checkpoint = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        """Follow until ``stop`` is set; then wait for Kafka and save the position.

        Raises ``OSError`` for an unreadable file, ``ProducerFailed`` when the producer can
        no longer deliver.
        """
        current = await self._open_first(stop)
        try:
            while current is not None and not stop.is_set():
                if await self._read(current):
                    await self._checkpoint(current)
                    continue
                current = await self._at_end(current, stop)
                if current is not None:
                    await self._checkpoint(current)
                    await _sleep_unless(stop, self._settings.access_poll_seconds)
            if current is not None:
                await self._checkpoint(current, force=True)
        finally:
            if current is not None:
                current.file.close()

    # -- reading ------------------------------------------------------------------------

    async def _read(self, current: _Open) -> bool:
        """Read and publish one chunk; ``False`` at the end of the file."""
        chunk = await asyncio.to_thread(current.file.read, self._settings.access_read_bytes)
        if not chunk:
            return False
        current.quiet_since = None
        lines = current.splitter.feed(chunk)
        await self._publisher.publish(lines, current.source, current.event_ids)
        return True

    async def _at_end(self, current: _Open, stop: asyncio.Event) -> _Open | None:
        """Notice rotation or truncation at the end of the file; return what to read next."""
        now = await asyncio.to_thread(identity_at, self._path)
        if now is None:  # renamed away, the new file not created yet: keep the old one
            return current
        if (now.device, now.inode) != (current.identity.device, current.identity.inode):
            return await self._after_rename(current, stop)
        if now.offset < current.file.tell() or now.fingerprint != current.identity.fingerprint:
            return await self._after_truncation(current, stop)
        return current

    async def _after_rename(self, current: _Open, stop: asyncio.Event) -> _Open | None:
        quiet_since = current.quiet_since = current.quiet_since or time.monotonic()
        if time.monotonic() - quiet_since < self._settings.access_rotate_wait_seconds:
            return current
        await self._publisher.publish(current.splitter.finish(), current.source, current.event_ids)
        if not await self._checkpoint(current, force=True):
            return current  # Kafka failed part of the old file: it is being read again
        _log.info("followed file rotated: reading the new %s", self._path)
        self._publisher.counters.add("rotations")
        current.file.close()
        return await self._open(stop, start=0)

    async def _after_truncation(self, current: _Open, stop: asyncio.Event) -> _Open | None:
        _log.info("followed file truncated: reading %s from its start", self._path)
        self._publisher.counters.add("rotations")
        current.file.close()
        return await self._open(stop, start=0)

    # -- opening ------------------------------------------------------------------------

    async def _open_first(self, stop: asyncio.Event) -> _Open | None:
        """The file to start with: the saved one where it was left, else the path's."""
        saved = await asyncio.to_thread(self._positions.load)
        if saved is not None:
            rotated = await asyncio.to_thread(find_saved, self._path, saved)
            if rotated is not None:
                _log.info("resuming %s at byte %d", rotated.name, saved.offset)
                self._saved = saved
                return self._opened(rotated, saved)
            _log.warning("the saved position is for a file no longer there: from the start")
        start = 0 if saved is not None or self._settings.access_follow_from == "start" else None
        return await self._open(stop, start=start, announce=True)

    async def _open(
        self, stop: asyncio.Event, *, start: int | None, announce: bool = False
    ) -> _Open | None:
        """Open the path once it exists with a complete first line (``start=None``: at
        its last complete line's end). With ``announce``, a wait is logged once, naming
        the path (a mistyped path must not wait in silence); after a rotation, waiting
        for the new file's first line is normal and is not."""
        while not stop.is_set():
            found = await asyncio.to_thread(open_with_identity, self._path, start)
            if found is not None:
                file, identity = found
                if start is None:
                    # Skipping to the end is decided once per file: a restart (say, after
                    # a quiet run) must resume here, not skip what came meanwhile too.
                    await asyncio.to_thread(self._positions.save, identity)
                self._saved = identity
                return self._opened(file, identity)
            if announce:
                announce = False
                _log.warning("waiting for %s to exist and hold a complete first line", self._path)
            await _sleep_unless(stop, self._settings.access_poll_seconds)
        return None

    def _opened(self, file: BinaryIO | Path, identity: Position) -> _Open:
        handle = file.open("rb") if isinstance(file, Path) else file
        handle.seek(identity.offset)
        return _Open(handle, identity, self._max_line)

    # -- checkpoints --------------------------------------------------------------------

    async def _checkpoint(self, current: _Open, *, force: bool = False) -> bool:
        """Wait for Kafka, then save the position (at most every checkpoint interval).

        ``False`` when Kafka did not take everything: the unsaved stretch is read again.
        """
        if not force and time.monotonic() < self._next_checkpoint:
            return True
        self._next_checkpoint = time.monotonic() + self._settings.access_checkpoint_seconds
        position = current.position()
        if position == self._saved:
            return True
        try:
            await self._producer.flush()
            await self._dead.flush(self._settings.producer_delivery_timeout_ms / 1000)
        except (FlushTimeout, RetryableError) as exc:
            _log.warning("position not saved, Kafka is slow: %s", exc)
            return False
        failures = self._producer.stats().failed + self._dead.stats().failed
        if failures > self._failures:
            self._failures = failures
            self._rewind(current)
            return False
        await asyncio.to_thread(self._positions.save, position)
        self._saved = position
        self._publisher.counters.add("checkpoints")
        return True

    def _rewind(self, current: _Open) -> None:
        saved = self._saved
        offset = saved.offset if saved is not None and saved.same_file(current.identity) else 0
        _log.warning("Kafka failed some events: reading again from byte %d", offset)
        current.rewind(offset, self._max_line)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
