"""The local stack's demo tokens: usable by the API and the collector, readable by no one else."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from eventpipe.stack import runner
from eventpipe.stack.runner import Stack
from eventpipe.stack.settings import StackSettings
from eventpipe.tokens import TokenTable
from tests.support.private_clickhouse import free_port
from tests.support.stack import run_stack


def test_demo_tokens_are_secret_to_their_owner(tmp_path: Path) -> None:
    # The token files given to the API and the collector were world-readable (umask 022)
    # and held the tokens themselves: anyone on the host could read events or write them.
    stack = Stack(StackSettings(state_dir=tmp_path), lambda line: None)
    old = os.umask(0o022)
    try:
        tokens = stack.tokens()
    finally:
        os.umask(old)
    for name in ("api_tokens", "ingest_tokens"):
        text = (stack.home / name).read_text()
        assert tokens["read"] not in text and tokens["ingest"] not in text
    for name in ("tokens.env", "api_tokens", "ingest_tokens"):
        mode = stat.S_IMODE((stack.home / name).stat().st_mode)
        assert mode & 0o077 == 0, (name, oct(mode))
    for name, token in (("api_tokens", "read"), ("ingest_tokens", "ingest")):
        table = TokenTable.load(stack.home / name, None, inline_name="-")
        assert table.components_of(tokens[token]) is None  # every component
    assert stack.tokens() == tokens  # made once, kept


def test_token_files_of_an_older_stack_are_rewritten_private(tmp_path: Path) -> None:
    stack = Stack(StackSettings(state_dir=tmp_path), lambda line: None)
    stack.home.mkdir(parents=True)
    (stack.home / "tokens.env").write_text("read=r-token\ningest=i-token\n")
    (stack.home / "api_tokens").write_text("r-token=*\n")
    (stack.home / "tokens.env").chmod(0o644)
    (stack.home / "api_tokens").chmod(0o644)
    assert stack.tokens() == {"read": "r-token", "ingest": "i-token"}
    assert "r-token" not in (stack.home / "api_tokens").read_text()
    for name in ("tokens.env", "api_tokens"):
        assert stat.S_IMODE((stack.home / name).stat().st_mode) & 0o077 == 0, name
    table = TokenTable.load(
        None, SecretStr((stack.home / "api_tokens").read_text()), inline_name="-"
    )
    assert table.components_of("r-token") is None


def test_a_stale_pid_file_never_stops_another_process(tmp_path: Path) -> None:
    # A stack killed outright leaves its pid files; once the pid is reused, `make stop`
    # sent SIGTERM to whatever process had it (here: a `sleep`), or died on a
    # PermissionError when that process was another user's.
    stack = Stack(StackSettings(state_dir=tmp_path, stack_stop_timeout=2), lambda line: None)
    stack.pids.mkdir(parents=True)
    other = subprocess.Popen(["sleep", "60"])
    try:
        _wait_for_exec(other.pid)
        (stack.pids / "worker-0.pid").write_text(str(other.pid))
        (stack.pids / "api.pid").write_text("not a pid\n")
        said: list[str] = []
        stack.say = said.append
        stack.stop_processes()
        assert other.poll() is None, "an unrelated process was stopped"
        assert list(stack.pids.glob("*.pid")) == []
        assert any("worker-0" in line and "not" in line for line in said), said
    finally:
        other.kill()
        other.wait()


def test_processes_of_a_stack_left_running_are_stopped(tmp_path: Path) -> None:
    stack = Stack(StackSettings(state_dir=tmp_path, stack_stop_timeout=2), lambda line: None)
    stack.pids.mkdir(parents=True)
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "-m", "eventpipe", "worker"]
    )
    try:
        _wait_for_exec(child.pid)
        (stack.pids / "worker-0.pid").write_text(str(child.pid))
        stack.stop_processes()
        assert child.wait(10) != 0
        assert list(stack.pids.glob("*.pid")) == []
    finally:
        child.kill()
        child.wait()


def _wait_for_exec(pid: int) -> None:
    """Popen returns before the kernel has set up the new command line (it is empty
    in /proc a little longer): wait for it, so the process is what it says it is."""
    for _ in range(100):
        if Path(f"/proc/{pid}/cmdline").read_bytes():
            return
        time.sleep(0.05)


def test_services_started_before_a_failed_start_are_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # deploy/local/services.sh up starts kafka, clickhouse, postgres in turn and stops at
    # the first failure (or at Ctrl-C, which reaches it too): what it had started kept
    # running after `make run` had ended, though "Ctrl-C stops everything it started".
    calls = tmp_path / "calls"
    script = tmp_path / "services.sh"
    script.write_text(
        "case $1 in\n"
        "  status) echo 'kafka: not running' >&2; echo 'clickhouse: not running' >&2;"
        " echo 'postgres: running (pid 1)' >&2; exit 1 ;;\n"
        "  up) echo 'kafka: started' >&2; echo 'clickhouse: did not start' >&2; exit 1 ;;\n"
        f'  down) echo "down $EVENTPIPE_SERVICES" >> {calls}; echo "kafka: stopped" >&2 ;;\n'
        "  *) exit 64 ;;\n"
        "esac\n"
    )
    monkeypatch.setattr(runner, "SERVICES", script)
    settings = StackSettings(
        state_dir=tmp_path,
        stack_api_port=free_port(),
        stack_collector_port=free_port(),
        stack_worker_web_port=free_port(),
        stack_workers=1,
    )
    code, text = run_stack(settings)
    assert code == 1
    assert "services.sh up failed" in text
    assert calls.read_text() == "down kafka clickhouse\n", text  # not postgres
