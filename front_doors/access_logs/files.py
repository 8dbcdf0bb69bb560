"""The file-system side of following: a file's identity, opening it, finding it rotated.

All blocking (a few small system calls each): the follower runs them in a worker thread.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from front_doors.access_logs.position import Position, fingerprint

__all__ = ["find_saved", "identity_at", "open_with_identity"]


def identity_at(path: Path) -> Position | None:
    """Identity of the file at ``path`` now (offset: its size), or ``None`` if absent."""
    try:
        with path.open("rb") as file:
            stat = os.fstat(file.fileno())
            mark = fingerprint(file.fileno())
    except FileNotFoundError:
        return None
    return Position(stat.st_dev, stat.st_ino, mark or "", stat.st_size)


def open_with_identity(path: Path, start: int | None) -> tuple[BinaryIO, Position] | None:
    """The file at ``path`` opened, with its identity and where to start reading
    (``start``, or with ``None`` just after its last complete line); ``None`` while it is
    missing or its first line is incomplete (its identity is not settled yet)."""
    try:
        file = path.open("rb")
    except FileNotFoundError:
        return None
    stat = os.fstat(file.fileno())
    mark = fingerprint(file.fileno())
    if mark is None:
        file.close()
        return None
    offset = start if start is not None else _last_line_end(file, stat.st_size)
    return file, Position(stat.st_dev, stat.st_ino, mark, offset)


def _last_line_end(file: BinaryIO, size: int) -> int:
    tail = os.pread(file.fileno(), min(size, 1 << 20), max(0, size - (1 << 20)))
    return max(0, size - len(tail)) + tail.rfind(b"\n") + 1


def find_saved(path: Path, saved: Position) -> Path | None:
    """The file ``saved`` was about: at ``path``, or rotated beside it (``path.1``, ...)."""
    candidates = [path, *sorted(path.parent.glob(path.name + "?*"))]
    for candidate in candidates:
        found = identity_at(candidate)
        if found is not None and found.same_file(saved) and saved.offset <= found.offset:
            return candidate
    return None
