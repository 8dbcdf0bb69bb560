"""Where the follower is in a log file, saved across restarts.

A position names the file by *identity*, not by path (a rotated file keeps its inode but
changes its name, and a new file takes the old name): device, inode and a fingerprint —
a hash of the file's first line — which tells a new file from an old one whose inode
number was reused. The offset is always just after a complete line.

Saving is atomic (write a temporary file, ``fsync``, rename over): a crash leaves the old
position or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

__all__ = ["FINGERPRINT_BYTES", "Position", "PositionStore", "fingerprint"]

_log = logging.getLogger("front_doors.access_logs")

#: The fingerprint covers the first line, or the first this many bytes of a longer one.
FINGERPRINT_BYTES: Final = 1024


@dataclass(frozen=True)
class Position:
    device: int
    inode: int
    fingerprint: str
    offset: int

    def same_file(self, other: Position) -> bool:
        return (self.device, self.inode, self.fingerprint) == (
            other.device,
            other.inode,
            other.fingerprint,
        )


def fingerprint(fd: int) -> str | None:
    """The fingerprint of an open file, or ``None`` while its first line is incomplete.

    Blocking (one small ``pread``).
    """
    head = os.pread(fd, FINGERPRINT_BYTES, 0)
    newline = head.find(b"\n")
    if newline >= 0:
        head = head[: newline + 1]
    elif len(head) < FINGERPRINT_BYTES:
        return None
    return hashlib.sha256(head).hexdigest()[:32]


class PositionStore:
    """The saved position of one followed path, in ``state_dir``. Blocking file I/O."""

    def __init__(self, state_dir: Path, followed: Path) -> None:
        key = hashlib.sha256(str(followed.resolve()).encode()).hexdigest()[:12]
        self.path = state_dir / f"{followed.name}.{key}.position.json"

    def load(self) -> Position | None:
        """The saved position, or ``None`` (none saved, or unreadable: logged)."""
        try:
            return Position(**json.loads(self.path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            _log.warning("ignoring unreadable position file %s: %s", self.path, exc)
            return None

    def save(self, position: Position) -> None:
        """Replace the saved position atomically. Raises ``OSError``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            json.dump(asdict(position), out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)
