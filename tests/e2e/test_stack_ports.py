"""``eventpipe stack up`` (``make run``) when a port it needs is taken, on the real services
(a topic, a database and a consumer group of the test's own; no services started)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from clickhouse_driver import Client

from eventpipe.stack import StackSettings
from eventpipe.stack.runner import Stack
from events.topics import dlq_topic
from tests.support.kafka import delete_topics
from tests.support.names import unique
from tests.support.private_clickhouse import free_port
from tests.support.services import Endpoints
from tests.support.stack import run_stack


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def other_server() -> Iterator[int]:
    """A server answering 200 to every GET, like the API of a stack already running."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_a_busy_port_is_named_before_anything_starts(
    endpoints: Endpoints,
    other_server: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The stack started its workers, API and collector anyway; the other server answered
    # the API's readiness probe, so it printed "eventpipe is running" with a URL that was
    # not its API, then stopped everything as its API died on the taken port.
    topic, database = unique("stackport"), unique("stackport")
    monkeypatch.setenv("EVENTPIPE_TOPIC", topic)
    monkeypatch.setenv("EVENTPIPE_CLICKHOUSE_DATABASE", database)
    monkeypatch.setenv("EVENTPIPE_WORKER_GROUP", unique("stackport"))
    monkeypatch.setattr(
        Stack,
        "service_env",
        lambda self: {
            "EVENTPIPE_KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
            "EVENTPIPE_CLICKHOUSE_URL": endpoints.clickhouse_url,
        },
    )
    settings = StackSettings(
        state_dir=tmp_path,
        stack_manage_services=False,
        stack_workers=1,
        stack_worker_web_port=free_port(),
        stack_api_port=other_server,
        stack_collector_port=free_port(),
        stack_simulate_rate=0,
        stack_ready_timeout=300,
    )
    try:
        code, text = run_stack(settings)
    finally:
        delete_topics({"bootstrap.servers": endpoints.kafka_bootstrap}, [topic, dlq_topic(topic)])
        client = Client.from_url(endpoints.clickhouse_url)
        client.execute(f"DROP DATABASE IF EXISTS `{database}`")
        client.disconnect()
    assert code == 1, text
    assert "eventpipe is running" not in text, text
    assert f"port {other_server} " in text and "EVENTPIPE_STACK_API_PORT" in text, text
    assert not (tmp_path / "stack" / "logs").exists(), text  # no process was started
