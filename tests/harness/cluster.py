"""Several real ``assistantd`` processes on one database, each with a data dir of its own (as on
separate machines), the way a scaled-out deployment runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.harness.server import free_port

REPO = Path(__file__).resolve().parents[2]


@dataclass
class ServerProcess:
    """One ``assistantd`` process; ``url`` is None for a worker (it serves no HTTP)."""

    role: str
    process: subprocess.Popen[str]
    url: str | None
    log: list[str] = field(default_factory=list)

    def kill(self) -> None:
        """SIGKILL: the process dies holding whatever it holds."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


def start_process(
    role: str, data_dir: Path, env: dict[str, str], log_level: str = "warning"
) -> ServerProcess:
    """Start ``assistantd <role>`` (``serve``, ``serve --no-worker`` or ``worker``) and wait
    until it is ready: answering ``/health``, or (a worker) saying it started. ``log_level``:
    uvicorn's (``info`` logs each request)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [sys.executable, "-m", "assistantd.cli", *role.split()]
    if role.startswith("serve"):
        command += ["--port", str(port), "--log-level", log_level]
    full_env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "ASSISTANTD_DATA_DIR": str(data_dir),
        # ``stop`` (SIGTERM) should not wait out a test's hanging model call: a short grace.
        "ASSISTANTD_SHUTDOWN_GRACE_SECONDS": "2",
        **env,
    }
    process = subprocess.Popen(
        command, env=full_env, stderr=subprocess.PIPE, text=True, cwd=str(data_dir)
    )
    url = f"http://127.0.0.1:{port}" if role.startswith("serve") else None
    server = ServerProcess(role, process, url)
    threading.Thread(target=_collect, args=(server,), daemon=True).start()
    deadline = time.monotonic() + 60
    while not _ready(server):
        if not server.alive:
            raise RuntimeError(f"assistantd {role} exited:\n" + "".join(server.log[-40:]))
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"assistantd {role} did not start:\n" + "".join(server.log[-40:]))
        time.sleep(0.05)
    return server


def _collect(server: ServerProcess) -> None:
    assert server.process.stderr is not None
    for line in server.process.stderr:
        server.log.append(line)


def _ready(server: ServerProcess) -> bool:
    if server.url is None:
        return any("worker" in line and "started" in line for line in server.log)
    try:
        return httpx.get(f"{server.url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def cluster(
    roles: list[str], root: Path, env: dict[str, str], log_level: str = "warning"
) -> Iterator[list[ServerProcess]]:
    """Start each role in turn (its own data dir under ``root``); stop them all at the end."""
    with ExitStack() as stack:
        servers = []
        for index, role in enumerate(roles):
            server = start_process(role, root / f"process-{index}", env, log_level)
            stack.callback(server.stop)
            servers.append(server)
        yield servers
