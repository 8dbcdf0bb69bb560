"""Root fixtures. Integration tests get real services through :func:`endpoints`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from tests.support.services import Endpoints, resolve

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        if _HERE / "integration" in path.parents:
            item.add_marker(pytest.mark.integration)
        if _HERE / "e2e" in path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def endpoints() -> Iterator[Endpoints]:
    """Real Kafka, ClickHouse and PostgreSQL: from the environment, Docker, or deploy/local."""
    found, stop = resolve()
    try:
        yield found
    finally:
        stop()


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A fresh logger of its own (no propagation); its handlers are closed afterwards."""
    log = logging.getLogger(f"test.{uuid4().hex}")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """Put the root logger's handlers and level back after each test.

    A test that configures logging (``eventpipe.logs.configure``) points the root logger
    at the stream pytest captured for that test; the records of later tests would go to
    that closed stream ("--- Logging error ---" on their stderr).
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
