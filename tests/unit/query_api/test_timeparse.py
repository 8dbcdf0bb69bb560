from __future__ import annotations

import pytest

from query_api.timeparse import Span, format_ms, parse_time

JAN_1_2018 = 1_514_764_800_000


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("2018-1-1", Span(JAN_1_2018, JAN_1_2018 + 86_400_000, True)),
        ("2018-01-01", Span(JAN_1_2018, JAN_1_2018 + 86_400_000, True)),
        ("2018-01-01T00:00", Span(JAN_1_2018, JAN_1_2018 + 1, False)),
        ("2018-01-01 00:00:01.5", Span(JAN_1_2018 + 1500, JAN_1_2018 + 1501, False)),
        ("2018-01-01T02:00:00+02:00", Span(JAN_1_2018, JAN_1_2018 + 1, False)),
        ("2017-12-31T23:00:00-0100", Span(JAN_1_2018, JAN_1_2018 + 1, False)),
        ("2018-01-01T00:00:00.123456789Z", Span(JAN_1_2018 + 123, JAN_1_2018 + 124, False)),
        ("1514764800000", Span(JAN_1_2018, JAN_1_2018 + 1, False)),
    ],
)
def test_accepted_forms(text: str, span: Span) -> None:
    assert parse_time(text) == span


@pytest.mark.parametrize(
    "text",
    ["", "soon", "2018-02-30", "2018-1-1T25:00", "2018-1-1Z", "1" * 16, "2018-1-1T10:00+99:00"],
)
def test_refused_forms(text: str) -> None:
    with pytest.raises(ValueError, match="not a time"):
        parse_time(text)


def test_format_ms() -> None:
    assert format_ms(JAN_1_2018 + 7) == "2018-01-01T00:00:00.007Z"
