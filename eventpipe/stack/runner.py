"""The local stack: every process of the pipeline on one host, until Ctrl-C.

``up``: backing services (deploy/local, only those not running yet) → topics and
migrations → demo tokens → workers, read API, collector, simulator as child processes →
wait until each answers → print where everything is → supervise → on Ctrl-C/SIGTERM stop
the children in reverse order (the simulator first, the workers last, so they flush), then
the services it started. ``down`` stops a stack left running, from its pid files.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from eventpipe.stack.settings import StackSettings
from eventpipe.tokens import hashed_form

__all__ = ["Child", "Stack"]

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "deploy" / "local" / "services.sh"
Say = Callable[[str], None]


@dataclass
class Child:
    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    ready_url: str | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, pid_dir: Path) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            # A session of its own: Ctrl-C reaches only us, and we stop the children in order.
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "eventpipe", *self.args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )
        (pid_dir / f"{self.name}.pid").write_text(str(self.proc.pid))

    def ready(self) -> bool:
        if self.ready_url is None:
            return self.alive()
        try:
            with urllib.request.urlopen(self.ready_url, timeout=2) as reply:  # noqa: S310 (http only)
                return bool(reply.status == 200)
        except OSError:
            return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file only its owner can read, from its first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # O_CREAT's mode is not applied to a file that already exists
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def stop_pid(pid: int, timeout: float) -> None:
    """SIGTERM, wait, then SIGKILL. Missing processes are fine."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


class Stack:
    def __init__(self, settings: StackSettings, say: Say) -> None:
        self.settings = settings
        self.say = say
        self.state = (settings.state_dir or ROOT / ".state").resolve()
        self.home = self.state / "stack"
        self.pids = self.home / "pids"
        self.stop = threading.Event()

    def check_ports(self) -> None:
        """Raise ``RuntimeError`` naming the first port of the stack's own servers that is
        taken. Checked before anything starts: a server of another stack on it would answer
        the readiness probe in place of ours (and ours would die on the taken port)."""
        s = self.settings
        ports = [
            (s.stack_api_port, "the read API", "EVENTPIPE_STACK_API_PORT"),
            (s.stack_collector_port, "the collector", "EVENTPIPE_STACK_COLLECTOR_PORT"),
        ] + [
            (
                s.stack_worker_web_port + i,
                f"worker-{i}'s /metrics",
                "EVENTPIPE_STACK_WORKER_WEB_PORT",
            )
            for i in range(s.stack_workers)
        ]
        for port, what, variable in ports:
            if _taken(port):
                raise RuntimeError(
                    f"port {port} ({what}, {variable}) is in use: is another stack running? "
                    f"`make stop` stops it; or set {variable} to a free port"
                )

    # --- backing services ---------------------------------------------------------------

    def _script(
        self, *args: str, only: list[str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "EVENTPIPE_STATE_DIR": str(self.state)}
        if only is not None:
            env["EVENTPIPE_SERVICES"] = " ".join(only)
        return subprocess.run(
            ["bash", str(SERVICES), *args], env=env, text=True, capture_output=True, check=False
        )

    def services_up(self) -> list[str]:
        """Start the backing services not running yet; return those started."""
        if not self.settings.stack_manage_services:
            return []
        before = self._script("status").stderr
        starting = [
            name for name in ("kafka", "clickhouse", "postgres") if f"{name}: not running" in before
        ]
        result = self._script("up")
        for line in result.stderr.splitlines():
            self.say(line)
        if result.returncode != 0:
            # The script stops at the first service that fails (or at Ctrl-C, which reaches
            # it too); those it started before that are ours to stop.
            self.services_down(starting)
            if self.stop.is_set():
                raise KeyboardInterrupt
            raise RuntimeError("deploy/local/services.sh up failed")
        return starting

    def services_down(self, names: list[str]) -> None:
        if names:
            for line in self._script("down", only=names).stderr.splitlines():
                self.say(line)

    def service_env(self) -> dict[str, str]:
        pairs = (line.split("=", 1) for line in self._script("env").stdout.split() if "=" in line)
        return dict(pairs)

    # --- the pipeline's own processes ---------------------------------------------------

    def tokens(self) -> dict[str, str]:
        """Demo tokens (made once, kept in the state dir): read-all and ingest-all.

        Only their owner may read them; the API's and the collector's token files hold
        their SHA-256 digests, not the tokens.
        """
        self.home.mkdir(parents=True, exist_ok=True)
        path = self.home / "tokens.env"
        if not path.exists():
            _write_private(
                path, f"read={secrets.token_urlsafe(24)}\ningest={secrets.token_urlsafe(24)}\n"
            )
        path.chmod(0o600)  # made by an older stack with the umask's mode
        tokens = dict(line.split("=", 1) for line in path.read_text().split())
        _write_private(self.home / "api_tokens", f"{hashed_form(tokens['read'])}=*\n")
        _write_private(self.home / "ingest_tokens", f"{hashed_form(tokens['ingest'])}=*\n")
        return tokens

    def children(self, base_env: dict[str, str]) -> list[Child]:
        s, logs = self.settings, self.home / "logs"
        env = {**os.environ, **base_env, "EVENTPIPE_LOG_FORMAT": "json"}
        out = []
        for i in range(s.stack_workers):
            port = s.stack_worker_web_port + i
            out.append(
                Child(
                    f"worker-{i}",
                    ["worker", "--web-port", str(port)],
                    env,
                    logs / f"worker-{i}.log",
                    f"http://127.0.0.1:{port}/healthz",
                )
            )
        api_env = env | {
            "EVENTPIPE_API_PORT": str(s.stack_api_port),
            "EVENTPIPE_API_TOKENS_FILE": str(self.home / "api_tokens"),
        }
        api_ready = f"http://127.0.0.1:{s.stack_api_port}/readyz"
        out.append(Child("api", ["api"], api_env, logs / "api.log", api_ready))
        collector_env = env | {
            "EVENTPIPE_COLLECTOR_PORT": str(s.stack_collector_port),
            "EVENTPIPE_COLLECTOR_TOKENS_FILE": str(self.home / "ingest_tokens"),
        }
        collector_ready = f"http://127.0.0.1:{s.stack_collector_port}/healthz"
        out.append(
            Child(
                "collector", ["collector"], collector_env, logs / "collector.log", collector_ready
            )
        )
        if s.stack_simulate_rate > 0:
            rate = str(s.stack_simulate_rate)
            simulate = ["simulate", "--rate", rate, "--quiet"]
            out.append(Child("simulator", simulate, env, logs / "simulator.log"))
        return out

    def wait_ready(self, children: list[Child]) -> None:
        deadline = time.monotonic() + self.settings.stack_ready_timeout
        waiting = list(children)
        while waiting:
            for child in list(waiting):
                if not child.alive():
                    raise RuntimeError(f"{child.name} exited during start:\n{child.tail()}")
                if child.ready():
                    self.say(f"{child.name}: ready")
                    waiting.remove(child)
            if self.stop.is_set():
                raise KeyboardInterrupt
            if time.monotonic() > deadline:
                names = ", ".join(c.name for c in waiting)
                raise RuntimeError(
                    f"not ready after {self.settings.stack_ready_timeout:.0f}s: {names}"
                )
            time.sleep(0.5)

    def supervise(self, children: list[Child]) -> int:
        """Block until a stop signal (0) or a child dying on its own (1)."""
        while not self.stop.wait(1.0):
            for child in children:
                if not child.alive():
                    self.say(f"{child.name} exited unexpectedly; last lines:\n{child.tail()}")
                    return 1
        return 0

    def stop_children(self, children: list[Child]) -> None:
        """SIGTERM the producers of events first, then the workers (they flush last)."""
        fronts = [c for c in children if not c.name.startswith("worker")]
        workers = [c for c in children if c.name.startswith("worker")]
        for group in (fronts, workers):
            running = [c for c in group if c.proc is not None and c.alive()]
            for child in running:
                self.say(f"stopping {child.name}")
                assert child.proc is not None
                child.proc.terminate()
            for child in running:
                assert child.proc is not None
                try:
                    child.proc.wait(self.settings.stack_stop_timeout)
                except subprocess.TimeoutExpired:
                    self.say(f"{child.name} did not stop in time: killed")
                    child.proc.kill()
                    child.proc.wait()
            for child in group:
                (self.pids / f"{child.name}.pid").unlink(missing_ok=True)

    def down(self) -> None:
        """Stop a stack left running (by its pid files), then the backing services."""
        self.stop_processes()
        result = self._script("down")
        for line in result.stderr.splitlines():
            self.say(line)

    def stop_processes(self) -> None:
        """Stop the processes of a stack left running, by its pid files.

        A pid file outlives its process when the stack was killed outright, and the pid
        may since belong to anything: only a process running eventpipe is stopped.
        """
        if not self.pids.exists():
            return
        for pid_file in sorted(self.pids.glob("*.pid"), key=lambda p: not p.name.startswith("sim")):
            pid = _eventpipe_pid(pid_file)
            if pid is None:
                self.say(f"{pid_file.stem}: not running (stale pid file)")
            else:
                self.say(f"stopping {pid_file.stem}")
                stop_pid(pid, self.settings.stack_stop_timeout)
            pid_file.unlink(missing_ok=True)


def _taken(port: int) -> bool:
    """Whether a process listens on ``port`` of 127.0.0.1 (or of every address)."""
    with socket.socket() as probe:
        # As the servers bind: a port whose last connections are in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _eventpipe_pid(pid_file: Path) -> int | None:
    """The pid in ``pid_file`` if that process runs eventpipe (``python -m eventpipe ...``)."""
    try:
        pid = int(pid_file.read_text())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):  # gone, unreadable, or not a pid
        return None
    return pid if b"\0eventpipe\0" in command else None
