"""Query text → tokens. Pure; raises :class:`~query_api.errors.InvalidQuery`.

Tokens: ``(`` ``)`` ``,``, quoted strings (single or double quotes; a quote inside is
doubled or backslash-escaped), bare numbers, and words (field names, ``AND``/``OR``/``NOT``,
operators). Whitespace separates tokens and is otherwise ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from query_api.errors import InvalidQuery

__all__ = ["Token", "TokenKind", "describe", "tokenize"]

TokenKind = Literal["(", ")", ",", "string", "number", "word", "end"]

_WORD: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
# Unambiguous, as in :mod:`.check`: a run of digits that is no number fails in linear time.
_NUMBER: Final = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?![A-Za-z0-9_.])")
_SPACE: Final = re.compile(r"\s+")
_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str  # the value: unquoted for strings
    position: int


def describe(token: Token) -> str:
    """How an error message names the token that was found."""
    if token.kind == "end":
        return "end of query"
    if token.kind == "string":
        return repr(token.text)
    return f"'{token.text}'" if token.kind in "()," else token.text


def _string(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
        elif char == quote:
            if text.startswith(quote, i + 1):  # doubled quote: one literal quote
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    raise InvalidQuery(
        f"unterminated string starting at position {start}",
        position=start,
        expected=(f"a closing {quote}",),
        found="end of query",
    )


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``end`` token."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if (space := _SPACE.match(text, i)) is not None:
            i = space.end()
        elif char in "(),":
            tokens.append(Token(char, char, i))  # type: ignore[arg-type]
            i += 1
        elif char in "'\"":
            value, end = _string(text, i)
            tokens.append(Token("string", value, i))
            i = end
        elif (number := _NUMBER.match(text, i)) is not None:
            tokens.append(Token("number", number.group(), i))
            i = number.end()
        elif (word := _WORD.match(text, i)) is not None:
            tokens.append(Token("word", word.group(), i))
            i = word.end()
        else:
            raise InvalidQuery(
                f"unexpected character {char!r} at position {i}",
                position=i,
                expected=("'('", "')'", "a field name", "an operator", "a quoted value"),
                found=repr(char),
            )
    tokens.append(Token("end", "", len(text)))
    return tokens
