"""A ClickHouse server of the test's own, that the test may stop and start.

Started by the project's script (``deploy/local/clickhouse.sh``) with a private state
directory and free ports, so stopping it cannot disturb any other test.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from tests.support.services import LOCAL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateClickHouse:
    def __init__(self, state_dir: Path) -> None:
        self.port = free_port()
        self.http_port = free_port()
        self._env = {
            **os.environ,
            "EVENTPIPE_STATE_DIR": str(state_dir),
            "EVENTPIPE_CLICKHOUSE_PORT": str(self.port),
            "EVENTPIPE_CLICKHOUSE_HTTP_PORT": str(self.http_port),
        }

    @property
    def url(self) -> str:
        return f"clickhouse://default@127.0.0.1:{self.port}/default"

    def _run(self, action: str) -> None:
        result = subprocess.run(
            ["bash", str(LOCAL / "clickhouse.sh"), action],
            env=self._env, capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, f"clickhouse.sh {action} failed: {result.stderr}"

    def start(self) -> None:
        self._run("start")

    def stop(self) -> None:
        self._run("stop")
