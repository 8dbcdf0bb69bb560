"""What `eventpipe migrate` says about the events table's TTL."""

from __future__ import annotations

import pytest

from storage.retention import OTHER_TTL, RetentionReport, retention_line


@pytest.mark.parametrize(
    ("report", "line"),
    [
        (
            RetentionReport("not_enforced", 30, 0),
            "warning: EVENTPIPE_RETENTION_DAYS=30 is not enforced: ClickHouse 18.16.1 has no "
            "table TTL (20.1.0 and later have); every event is kept",
        ),
        (
            RetentionReport("not_removable", 0, 30),
            "warning: EVENTPIPE_RETENTION_DAYS=0 is not applied: ClickHouse 20.3.1 cannot "
            "remove a TTL (21.1.0 and later can); the table keeps a TTL of 30 days",
        ),
        (
            RetentionReport("set", 7, OTHER_TTL),
            "retention: TTL set to 7 days (was a TTL of its own); the server applies it to "
            "the stored events in the background",
        ),
        (
            RetentionReport("removed", 0, 30),
            "retention: TTL removed (was a TTL of 30 days); every event is kept from now on",
        ),
        (RetentionReport("kept", 30, 30), "retention: a TTL of 30 days (unchanged)"),
        (RetentionReport("kept", 0, 0), "retention: none, every event is kept"),
    ],
)
def test_one_line_per_outcome(report: RetentionReport, line: str) -> None:
    version = "20.3.1" if report.action == "not_removable" else "18.16.1"
    assert retention_line(report, version) == line
