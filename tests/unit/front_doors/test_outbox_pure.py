"""The outbox's pure parts: settings (with the replaced service's names), events, DDL."""

from __future__ import annotations

import orjson
import psycopg
import pytest

from events.errors import InvalidEvent
from events.model import Event
from front_doors.outbox import OutboxSettings, OutsideTransaction, ddl
from front_doors.outbox.write import _check_transaction, prepare

IDLE = psycopg.pq.TransactionStatus.IDLE
INTRANS = psycopg.pq.TransactionStatus.INTRANS


def test_defaults_are_the_replaced_services() -> None:
    settings = OutboxSettings()
    assert (settings.outbox_batch_size, settings.outbox_retries) == (1000, 5)
    assert (settings.outbox_clean_minutes, settings.interval) == (1440, 5.0)


def test_the_replaced_services_variable_names_are_honoured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOG_EVENTS_PARTITION_QUANTITY", "250")
    monkeypatch.setenv("FAILED_LOG_SENDING_RETRIES", "2")
    monkeypatch.setenv("LOG_SENDING_FREQUENCY_IN_MINUTES", "0.5")
    monkeypatch.setenv("OUTBOX_CLEAN_IN_MINUTES", "60")
    settings = OutboxSettings()
    assert (settings.outbox_batch_size, settings.outbox_retries) == (250, 2)
    assert (settings.interval, settings.outbox_clean_minutes) == (30.0, 60)


def test_our_names_win_over_the_replaced_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_EVENTS_PARTITION_QUANTITY", "250")
    monkeypatch.setenv("EVENTPIPE_OUTBOX_BATCH_SIZE", "70")
    assert OutboxSettings().outbox_batch_size == 70
    assert OutboxSettings(outbox_batch_size=9).outbox_batch_size == 9


def test_bad_values_are_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAILED_LOG_SENDING_RETRIES", "-1")
    with pytest.raises(ValueError, match="RETRIES"):
        OutboxSettings()


def test_a_prepared_event_carries_its_id_and_time_in_its_line() -> None:
    event_id, component, line = prepare({"component": "orders", "message": "placed"})
    sent = orjson.loads(line)
    assert (sent["event_id"], sent["component"], component) == (event_id, "orders", "orders")
    assert isinstance(sent["timestamp"], int)


def test_a_model_event_keeps_its_own_id() -> None:
    event = Event(component="orders", message="m", event_id="1f4e804b-ebec-44f5-b2ac-48f54cf62c46")
    assert prepare(event)[0] == "1f4e804b-ebec-44f5-b2ac-48f54cf62c46"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"component": "orders"}, "message"),
        ({"component": "Orders!", "message": "m"}, "component"),
        ({"component": "orders", "message": "m", "data": {"x": object()}}, "data"),
    ],
)
def test_invalid_events_are_refused_before_anything_is_written(
    event: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        prepare(event)
    assert caught.value.field == field


def test_an_autocommit_connection_outside_a_transaction_is_refused() -> None:
    with pytest.raises(OutsideTransaction, match="transaction"):
        _check_transaction(True, IDLE, standalone=False)
    _check_transaction(True, IDLE, standalone=True)  # asked for
    _check_transaction(True, INTRANS, standalone=False)  # inside conn.transaction()
    _check_transaction(False, IDLE, standalone=False)  # the INSERT opens the transaction


def test_the_ddl_names_the_table_everywhere() -> None:
    text = ddl("shop_outbox")
    assert 'CREATE TABLE IF NOT EXISTS "shop_outbox"' in text
    assert text.count('ON "shop_outbox"') == 4
    assert "eventpipe_outbox" not in text
