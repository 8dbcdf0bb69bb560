"""Write tokens and the components each may write (the shared format of
:mod:`eventpipe.tokens`, so one file can serve the collector and the read API).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from eventpipe.tokens import MissingToken, TokenEntry, TokenTable, UnknownToken, parse_entries
from front_doors.collector.errors import Forbidden, Unauthorized
from front_doors.collector.settings import CollectorSettings

__all__ = ["EVERYTHING", "Scope", "WriteTokens", "parse_entries"]


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


class WriteTokens:
    """Who may write what. Built once at start-up."""

    def __init__(
        self,
        entries: Iterable[TokenEntry] = (),
        *,
        allow_anonymous: bool = False,
        table: TokenTable | None = None,
    ) -> None:
        self._table = (
            table if table is not None else TokenTable(entries, allow_anonymous=allow_anonymous)
        )

    @classmethod
    def from_settings(cls, settings: CollectorSettings) -> WriteTokens:
        """Read the token file and the inline tokens. Blocking (reads a file).

        Raises ``ValueError`` naming a malformed entry, ``OSError`` for an unreadable file.
        """
        return cls(
            table=TokenTable.load(
                settings.collector_tokens_file,
                settings.collector_tokens,
                inline_name="EVENTPIPE_COLLECTOR_TOKENS",
                allow_anonymous=settings.collector_allow_anonymous,
            )
        )

    @classmethod
    def parse(cls, text: str, *, allow_anonymous: bool = False) -> WriteTokens:
        """Tokens from inline text (``;`` or newline separated); for tests and tools."""
        return cls(
            parse_entries(re.split(r"[;\n]", text), "tokens"), allow_anonymous=allow_anonymous
        )

    def __len__(self) -> int:
        return len(self._table)

    def scope_of(self, token: str | None) -> Scope:
        """The scope of ``token``; :class:`Unauthorized` when missing or unknown."""
        try:
            return Scope(self._table.components_of(token))
        except MissingToken:
            raise Unauthorized("send Authorization: Bearer <token>") from None
        except UnknownToken:
            raise Unauthorized("unknown token") from None
