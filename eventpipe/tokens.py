"""Bearer tokens bound to components: one format for the read API and the collector.

An entry is ``TOKEN=SCOPE`` where SCOPE is ``*`` (every component) or a comma-separated
list of components. In a token file there is one entry a line (blank lines and ``#``
comments ignored); inline (an environment variable) entries are separated by ``;`` or
newlines. A TOKEN written as ``sha256:<64 hex digits>`` is the SHA-256 of the real token,
so the file need not hold secrets.

A token is printable ASCII (space to ``~``), as RFC 6750 has bearer tokens: HTTP carries
header bytes, which servers read as Latin-1 and clients send as UTF-8 or refuse to send at
all (browsers, httpx), so a token with other characters could never match. Such a token is
refused when the entries are parsed, naming its entry, rather than failing every request.

A presented token is hashed and compared with *every* entry by :func:`hmac.compare_digest`,
without stopping at the first match: the time taken does not depend on which entry (or how
much of one) matched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydantic import SecretStr

from events.model import COMPONENT_PATTERN

__all__ = [
    "Components",
    "MissingToken",
    "TokenEntry",
    "TokenTable",
    "UnknownToken",
    "hashed_form",
    "parse_entries",
    "sources_problem",
]

#: The components a token covers; ``None`` means every component.
Components = frozenset[str] | None

_HASHED: Final = re.compile(r"sha256:([0-9a-fA-F]{64})")
_SENDABLE: Final = re.compile(r"[ -~]+")  # printable ASCII: what HTTP clients can send
_COMPONENT: Final = re.compile(COMPONENT_PATTERN)


class MissingToken(Exception):
    """No token was presented (and anonymous access is off)."""


class UnknownToken(Exception):
    """The presented token is in no entry."""


@dataclass(frozen=True)
class TokenEntry:
    digest: bytes
    components: Components


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _refuse_unsendable(token: str, where: str) -> None:
    """Raise ``ValueError`` for a token that is not printable ASCII (module docstring)."""
    if not _SENDABLE.fullmatch(token):
        raise ValueError(
            f"{where}a token must be printable ASCII (RFC 6750): HTTP servers read header "
            "bytes as Latin-1, so a token with other characters would never match"
        )


def hashed_form(token: str) -> str:
    """``token`` as a token file may hold it without holding the secret: ``sha256:<hex>``.

    Raises ``ValueError`` for a token that is not printable ASCII.
    """
    _refuse_unsendable(token, "")
    return "sha256:" + _digest(token).hex()


def _entry(text: str, where: str) -> TokenEntry:
    token, sep, scope = text.partition("=")
    token, scope = token.strip(), scope.strip()
    if not sep or not token or not scope:
        raise ValueError(f"{where}: expected TOKEN=component,... or TOKEN=*")
    hashed = _HASHED.fullmatch(token)
    if not hashed:
        _refuse_unsendable(token, f"{where}: ")
    digest = bytes.fromhex(hashed.group(1)) if hashed else _digest(token)
    if scope == "*":
        return TokenEntry(digest, None)
    components = frozenset(c.strip() for c in scope.split(",") if c.strip())
    bad = sorted(c for c in components if not _COMPONENT.match(c))
    if bad:
        raise ValueError(f"{where}: not component names: {', '.join(bad)}")
    return TokenEntry(digest, components)


def parse_entries(lines: Iterable[str], source: str) -> list[TokenEntry]:
    """Token entries from text lines; raises ``ValueError`` naming the bad entry."""
    entries = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if text:
            entries.append(_entry(text, f"{source} entry {number}"))
    return entries


def _file_entries(file: Path | None) -> list[TokenEntry]:
    """The entries of a token file (none without one). Raises ``OSError``, ``ValueError``."""
    if file is None:
        return []
    return parse_entries(file.read_text(encoding="utf-8").splitlines(), str(file))


def _inline_entries(inline: SecretStr | None, name: str) -> list[TokenEntry]:
    """The entries of inline tokens (``;`` or newline separated). Raises ``ValueError``."""
    if inline is None:
        return []
    return parse_entries(re.split(r"[;\n]", inline.get_secret_value()), name)


class TokenTable:
    """Who may touch which components. Built once at start-up."""

    def __init__(self, entries: Iterable[TokenEntry], *, allow_anonymous: bool = False) -> None:
        self._entries = tuple(entries)
        self._anonymous = allow_anonymous

    @classmethod
    def load(
        cls,
        file: Path | None,
        inline: SecretStr | None,
        *,
        inline_name: str,
        allow_anonymous: bool = False,
    ) -> TokenTable:
        """Entries of the token file and the inline tokens. Blocking (reads a file).

        Raises ``ValueError`` naming a malformed entry, ``OSError`` for an unreadable file.
        """
        entries = _file_entries(file) + _inline_entries(inline, inline_name)
        return cls(entries, allow_anonymous=allow_anonymous)

    def __len__(self) -> int:
        return len(self._entries)

    def components_of(self, token: str | None) -> Components:
        """The components ``token`` covers. Raises :class:`MissingToken` / :class:`UnknownToken`."""
        if token is None:
            if self._anonymous:
                return None
            raise MissingToken
        presented = _digest(token)
        found: TokenEntry | None = None
        for entry in self._entries:  # no early exit: constant time over the table
            if hmac.compare_digest(presented, entry.digest) and found is None:
                found = entry
        if found is None:
            raise UnknownToken
        return found.components


def sources_problem(file: Path | None, inline: SecretStr | None, *, variable: str) -> str | None:
    """Why the token file (``<variable>_FILE``) or the inline tokens (``variable``) cannot
    be loaded, starting with the variable that names them (never a token), or ``None`` when
    both load. Blocking (reads a file).

    For entry points to check before they serve: a server reads its tokens as it starts,
    where a failure is a traceback in its logs after the other start-up waits.
    """
    try:
        _file_entries(file)
    except OSError as exc:
        return f"{variable}_FILE: cannot read {file}: {exc.strerror or exc}"
    except ValueError as exc:  # a malformed entry, or text that is not UTF-8
        return f"{variable}_FILE: {exc}"
    try:
        _inline_entries(inline, variable)
    except ValueError as exc:  # names the variable and the entry's number
        return f"{variable}: {str(exc).removeprefix(variable + ' ')}"
    return None
