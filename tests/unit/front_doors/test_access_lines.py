"""Splitting streams into lines: offsets, numbers, partial and over-long lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from front_doors.access_logs.lines import Line, LineSplitter


def _split(chunks: list[bytes], max_line: int = 10) -> tuple[list[Line], int]:
    splitter = LineSplitter(max_line)
    lines = [line for chunk in chunks for line in splitter.feed(chunk)]
    return lines + splitter.finish(), splitter.consumed


def test_lines_carry_their_offset_and_number_across_chunks() -> None:
    lines, consumed = _split([b"ab\ncd", b"e\n\nfg\n", b"h"])
    assert lines == [
        Line(0, 1, b"ab", False),
        Line(3, 2, b"cde", False),
        Line(8, 4, b"fg", False),  # line 3 was blank
        Line(11, 5, b"h", False),  # unterminated, handed out by finish()
    ]
    assert consumed == 12


def test_a_partial_line_waits_for_its_newline() -> None:
    splitter = LineSplitter(100)
    assert splitter.feed(b"half a li") == []
    assert splitter.consumed == 0  # a resume point never splits a line
    assert splitter.feed(b"ne\n") == [Line(0, 1, b"half a line", False)]
    assert splitter.consumed == 12


def test_an_over_long_line_comes_out_once_cut_and_the_rest_is_skipped() -> None:
    lines, consumed = _split([b"0123456789ABCDEF", b"GHIJ", b"KL\nok\n"], max_line=10)
    assert lines == [Line(0, 1, b"0123456789", True), Line(23, 2, b"ok", False)]
    assert consumed == 26


def test_an_over_long_complete_line_is_cut_too() -> None:
    lines, _ = _split([b"short\n0123456789ABC\nok\n"], max_line=10)
    assert [(line.raw, line.too_long) for line in lines] == [
        (b"short", False),
        (b"0123456789", True),
        (b"ok", False),
    ]


@given(st.lists(st.binary(max_size=40), max_size=20), st.integers(min_value=1, max_value=8))
def test_any_chunking_yields_the_lines_of_the_whole(chunks: list[bytes], max_line: int) -> None:
    whole = b"".join(chunks)
    expected = []
    offset = 0
    for number, piece in enumerate(whole.split(b"\n"), start=1):
        if piece.strip():
            expected.append(Line(offset, number, piece[:max_line], len(piece) > max_line))
        offset += len(piece) + 1
    lines, consumed = _split(chunks, max_line)
    assert lines == expected
    assert consumed == len(whole)
