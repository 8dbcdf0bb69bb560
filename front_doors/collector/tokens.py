"""Write tokens and the components each may write.

Entries are ``TOKEN=SCOPE`` where SCOPE is ``*`` (every component) or a comma-separated
list of components — the read API's format, so one file can serve both. In
``collector_tokens_file`` there is one entry a line (blank lines and ``#`` comments
ignored); in ``collector_tokens`` entries are separated by ``;`` or newlines. A TOKEN
written as ``sha256:<64 hex digits>`` is the SHA-256 of the real token, so the file need
not hold secrets.

A presented token is hashed and compared with *every* entry by
:func:`hmac.compare_digest`, without stopping at the first match: the time taken does not
depend on which entry (or how much of one) matched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from events.model import COMPONENT_PATTERN
from front_doors.collector.errors import Forbidden, Unauthorized
from front_doors.collector.settings import CollectorSettings

__all__ = ["Scope", "WriteTokens", "parse_entries"]

_HASHED: Final = re.compile(r"sha256:([0-9a-fA-F]{64})")
_COMPONENT: Final = re.compile(COMPONENT_PATTERN)


@dataclass(frozen=True)
class Scope:
    """The components a token may write; ``None`` means every component."""

    components: frozenset[str] | None

    def check(self, components: Iterable[str]) -> None:
        """Raise :class:`Forbidden` naming the components this scope may not write."""
        if self.components is None:
            return
        outside = sorted(set(components) - self.components)
        if outside:
            raise Forbidden(
                f"this token may not write component(s) {', '.join(outside)}; "
                f"it may write {', '.join(sorted(self.components))}",
                components=outside,
            )


EVERYTHING: Final = Scope(None)


@dataclass(frozen=True)
class _Entry:
    digest: bytes
    scope: Scope


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _entry(text: str, where: str) -> _Entry:
    token, sep, scope_text = text.partition("=")
    token, scope_text = token.strip(), scope_text.strip()
    if not sep or not token or not scope_text:
        raise ValueError(f"{where}: expected TOKEN=component,... or TOKEN=*")
    hashed = _HASHED.fullmatch(token)
    digest = bytes.fromhex(hashed.group(1)) if hashed else _digest(token)
    if scope_text == "*":
        return _Entry(digest, EVERYTHING)
    components = frozenset(c.strip() for c in scope_text.split(",") if c.strip())
    bad = sorted(c for c in components if not _COMPONENT.match(c))
    if bad:
        raise ValueError(f"{where}: not component names: {', '.join(bad)}")
    return _Entry(digest, Scope(components))


def parse_entries(lines: Iterable[str], source: str) -> list[_Entry]:
    """Token entries from text lines; raises ``ValueError`` naming the bad entry."""
    entries = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if text:
            entries.append(_entry(text, f"{source} entry {number}"))
    return entries


class WriteTokens:
    """Who may write what. Built once at start-up."""

    def __init__(self, entries: Iterable[_Entry], *, allow_anonymous: bool = False) -> None:
        self._entries = tuple(entries)
        self._anonymous = allow_anonymous

    @classmethod
    def from_settings(cls, settings: CollectorSettings) -> WriteTokens:
        """Read the token file and the inline tokens. Blocking (reads a file).

        Raises ``ValueError`` naming a malformed entry, ``OSError`` for an unreadable file.
        """
        entries = []
        if settings.collector_tokens_file is not None:
            text = settings.collector_tokens_file.read_text(encoding="utf-8")
            entries += parse_entries(text.splitlines(), str(settings.collector_tokens_file))
        if settings.collector_tokens is not None:
            inline = re.split(r"[;\n]", settings.collector_tokens.get_secret_value())
            entries += parse_entries(inline, "EVENTPIPE_COLLECTOR_TOKENS")
        return cls(entries, allow_anonymous=settings.collector_allow_anonymous)

    @classmethod
    def parse(cls, text: str, *, allow_anonymous: bool = False) -> WriteTokens:
        """Tokens from inline text (``;`` or newline separated); for tests and tools."""
        return cls(
            parse_entries(re.split(r"[;\n]", text), "tokens"), allow_anonymous=allow_anonymous
        )

    def __len__(self) -> int:
        return len(self._entries)

    def scope_of(self, token: str | None) -> Scope:
        """The scope of ``token``; :class:`Unauthorized` when missing or unknown."""
        if token is None:
            if self._anonymous:
                return EVERYTHING
            raise Unauthorized("send Authorization: Bearer <token>")
        presented = _digest(token)
        found: Scope | None = None
        for entry in self._entries:  # no early exit: constant time over the table
            if hmac.compare_digest(presented, entry.digest) and found is None:
                found = entry.scope
        if found is None:
            raise Unauthorized("unknown token")
        return found
