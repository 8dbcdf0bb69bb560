"""Waiting for many events at once: one group per batch instead of a future per event.

:class:`WaitGroup` hands out one light :class:`Slot` per event; the delivery reports settle
slots exactly like futures (``done``/``set_result``/``set_exception``/``get_loop`` on the
event loop), and the group resolves once every slot is settled. A request of 1,000 events
then costs one future, not 1,000 futures and tasks.
"""

from __future__ import annotations

import asyncio

__all__ = ["Slot", "WaitGroup"]


class WaitGroup:
    """Settles when all its slots are; remembers each failed slot's exception."""

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self.loop = loop
        self.failures: dict[int, BaseException] = {}
        self._pending = size
        self._done = loop.create_future()
        if size == 0:
            self._done.set_result(None)

    def slot(self, index: int) -> Slot:
        return Slot(self, index)

    def skip(self, index: int, error: BaseException) -> None:
        """The event at ``index`` was never queued (invalid, refused): settle it now."""
        self.settle(index, error)

    def settle(self, index: int, error: BaseException | None) -> None:
        if error is not None:
            self.failures[index] = error
        self._pending -= 1
        if self._pending == 0 and not self._done.done():
            self._done.set_result(None)

    async def wait(self) -> None:
        await self._done


class Slot:
    """One event's place in a group; quacks like the ``Future`` a delivery report settles."""

    __slots__ = ("_done", "group", "index")

    def __init__(self, group: WaitGroup, index: int) -> None:
        self.group = group
        self.index = index
        self._done = False

    def done(self) -> bool:
        return self._done

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self.group.loop

    def set_result(self, _result: None) -> None:
        if not self._done:
            self._done = True
            self.group.settle(self.index, None)

    def set_exception(self, error: BaseException) -> None:
        if not self._done:
            self._done = True
            self.group.settle(self.index, error)
