"""Times as readers write them: ``2018-1-1``, ``2024-03-05T10:00``, RFC 3339, epoch ms.

A date alone denotes its whole UTC day; a date-time (naive means UTC) denotes one
millisecond. :class:`Span` keeps both ends so callers can choose: ``until`` excludes a
date-time but includes the whole of a date; ``since`` starts at either. Digits are ASCII,
and a time must fall within years 1..9999 UTC, the range RFC 3339 (and our answers) can
write.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from events.rules import EPOCH

__all__ = ["Span", "format_ms", "parse_time"]

_DAY_MS: Final = 86_400_000
_EPOCH: Final = re.compile(r"[0-9]{1,15}")
# An offset's + written unencoded in a URL arrives as a space ("10:00 01:00"): read as +.
_TEXT: Final = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:[T ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?"
    r"(?:\s*(Z|z|[+-][0-9]{2}:?[0-5][0-9])|\s+([0-9]{2}:?[0-5][0-9]))?)?"
)
_FIRST_MS: Final = -62_135_596_800_000  # 0001-01-01T00:00:00.000Z
_LAST_MS: Final = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_FORMS: Final = "use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM] or epoch milliseconds"


@dataclass(frozen=True)
class Span:
    """``[start_ms, end_ms)``: a whole day for a date, one millisecond for a date-time."""

    start_ms: int
    end_ms: int
    date_only: bool


def _offset(text: str | None) -> timezone:
    if text is None or text in "Zz":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    return timezone(sign * timedelta(minutes=minutes))


def parse_time(text: str) -> Span:
    """Parse a reader's time; raises ``ValueError`` with a message for anything else."""
    text = text.strip()
    if _EPOCH.fullmatch(text):
        return _within_years(text, Span(int(text), int(text) + 1, date_only=False))
    match = _TEXT.fullmatch(text)
    if match is None:
        raise ValueError(f"not a time: {text!r} ({_FORMS})")
    year, month, day, hour, minute, second, fraction, offset, plus = match.groups()
    if plus is not None:
        offset = "+" + plus
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=_offset(offset),
        )
    except ValueError as exc:
        raise ValueError(f"not a time: {text!r} ({exc})") from None
    ms = (moment - EPOCH) // timedelta(milliseconds=1)
    if hour is None:
        return _within_years(text, Span(ms, ms + _DAY_MS, date_only=True))
    return _within_years(text, Span(ms, ms + 1, date_only=False))


def _within_years(text: str, span: Span) -> Span:
    if not _FIRST_MS <= span.start_ms <= _LAST_MS:
        raise ValueError(f"not a time: {text!r} (outside 0001-01-01..9999-12-31 UTC)")
    return span


def format_ms(ms: int) -> str:
    """Epoch milliseconds as RFC 3339 UTC with milliseconds (``...T10:00:00.000Z``).

    Years 1..9999 (every time :func:`parse_time` accepts) are written with four digits.
    """
    seconds, millis = divmod(ms, 1000)
    moment = time.gmtime(seconds)
    # %Y is not padded everywhere (glibc writes year 1 as "1"), so the year is ours
    return f"{moment.tm_year:04d}{time.strftime('-%m-%dT%H:%M:%S', moment)}.{millis:03d}Z"
