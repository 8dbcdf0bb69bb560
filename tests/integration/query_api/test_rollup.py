"""Stats read settled days from their roll-up, and never a stale one (real server)."""

from __future__ import annotations

import time
from typing import Any

from clickhouse_driver import Client

from query_api.timeparse import format_ms
from storage.rollup import DAY_MS, partition_states, partitions_sql, refresh
from tests.integration.query_api.support import ALL, PAY, OpenApi, insert_ch
from tests.unit.query_api.helpers import event

BASE = 1_704_067_200_000  # 2024-01-01
COMPONENTS = ("payments", "orders", "users")
SEVERITIES = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def batch(n: int, day: int = 0) -> list[dict[str, Any]]:
    return [
        event(
            timestamp=format_ms(BASE + day * DAY_MS + i * 997 % DAY_MS),
            component=COMPONENTS[i % 3],
            severity=SEVERITIES[i % 5],
            kind="error" if i % 7 == 0 else "log",
            message=f"m{i}",
        )
        for i in range(n)
    ]


def _now() -> int:
    return int(time.time() * 1000)


def _parts(client: Client, database: str) -> dict[str, str]:
    return {
        s.partition: s.part for s in partition_states(client.execute(*partitions_sql(database)))
    }


ASKS: list[tuple[dict[str, str], dict[str, str]]] = [
    ({}, ALL),
    ({}, PAY),  # the token's scope is a component filter: the roll-up answers it
    ({"component": "orders", "severity": "ERROR"}, ALL),
    ({"since": format_ms(BASE + DAY_MS), "until": format_ms(BASE + 3 * DAY_MS)}, ALL),
    # Cut days are counted from events, the whole day between from its roll-up.
    ({"since": format_ms(BASE + DAY_MS // 2), "until": format_ms(BASE + 5 * DAY_MS // 2)}, ALL),
    ({"q": "((severity gte 'WARNING') AND NOT (component ct 'PAY'))"}, ALL),
    ({"q": "(message ct 'm1')"}, ALL),  # not a roll-up column: counted from events
]


async def _stats(open_api: OpenApi) -> list[dict[str, Any]]:
    async with open_api() as http:
        answers = []
        for params, headers in ASKS:
            response = await http.get("/v1/stats", params=params, headers=headers)
            assert response.status_code == 200, response.text
            answers.append(response.json())
        return answers


async def test_rolled_up_days_answer_exactly_as_events_do(
    ch_client: Client, ch_database: str, open_api: OpenApi
) -> None:
    events = [e for day in range(3) for e in batch(300, day)]
    insert_ch(ch_client, ch_database, events)
    insert_ch(ch_client, ch_database, events[::5])  # redelivered copies
    assert refresh(ch_client, ch_database, now_ms=_now()).rolled_up == ()  # nothing settled
    from_events = await _stats(open_api)
    assert from_events[0]["total"] == 900

    ch_client.execute(f"OPTIMIZE TABLE `{ch_database}`.events FINAL")
    report = refresh(ch_client, ch_database, now_ms=_now())
    assert sorted(report.rolled_up) == sorted(_parts(ch_client, ch_database).values())
    assert refresh(ch_client, ch_database, now_ms=_now()).rolled_up == ()  # idempotent
    assert await _stats(open_api) == from_events

    # The roll-up rows are what is read: a forged row shows up in the answer.
    part = _parts(ch_client, ch_database)["20240102"]
    ch_client.execute(
        f"INSERT INTO `{ch_database}`.events_daily SELECT partition, part, 'ghost', kind, "
        "severity, 1000, first_ms, last_ms, computed_ms "
        f"FROM `{ch_database}`.events_daily WHERE part = %(part)s LIMIT 1",
        {"part": part},
    )
    forged = await _stats(open_api)
    assert forged[0]["total"] == 900 + 1000
    assert forged[0]["by_component"]["ghost"] == 1000
    assert forged[1] == from_events[1]  # outside the token's scope
    assert forged[3]["total"] == from_events[3]["total"] + 1000
    assert forged[4]["total"] == from_events[4]["total"] + 1000
    assert forged[6] == from_events[6]  # a message filter never reads the roll-up
    ch_client.execute(f"TRUNCATE TABLE `{ch_database}`.events_daily")
    assert len(refresh(ch_client, ch_database, now_ms=_now()).rolled_up) == 3
    assert await _stats(open_api) == from_events


async def test_a_late_event_unsettles_a_rolled_day_until_it_is_rolled_up_again(
    ch_client: Client, ch_database: str, open_api: OpenApi
) -> None:
    events = [e for day in range(2) for e in batch(200, day)]
    insert_ch(ch_client, ch_database, events)
    ch_client.execute(f"OPTIMIZE TABLE `{ch_database}`.events FINAL")
    first = refresh(ch_client, ch_database, now_ms=_now()).rolled_up
    assert len(first) == 2

    late = batch(1, 1)[0] | {"message": "late"}
    insert_ch(ch_client, ch_database, [late, events[250]])  # a new event and a copy
    assert (await _stats(open_api))[0]["total"] == 401  # day 2 is counted from events
    ch_client.execute(f"OPTIMIZE TABLE `{ch_database}`.events FINAL")
    assert (await _stats(open_api))[0]["total"] == 401  # a settled day, not rolled up yet
    report = refresh(ch_client, ch_database, now_ms=_now())
    parts = _parts(ch_client, ch_database)
    assert parts["20240102"] not in first
    # OPTIMIZE ... FINAL rewrites single parts too: every day gets a new part.
    assert sorted(report.rolled_up) == sorted(parts.values())
    assert sorted(report.removed) == sorted(first)  # rows of merged-away parts are deleted
    assert (await _stats(open_api))[0]["total"] == 401


def test_only_ended_days_are_rolled_up(ch_client: Client, ch_database: str) -> None:
    today = _now() // DAY_MS * DAY_MS
    insert_ch(ch_client, ch_database, [event(timestamp=format_ms(today + 1))])
    ch_client.execute(f"OPTIMIZE TABLE `{ch_database}`.events FINAL")
    assert refresh(ch_client, ch_database, now_ms=_now()).rolled_up == ()
    assert len(refresh(ch_client, ch_database, now_ms=today + DAY_MS).rolled_up) == 1
