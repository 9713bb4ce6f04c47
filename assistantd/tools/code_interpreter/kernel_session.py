"""One sandboxed IPython kernel and the jupyter client that talks to it over unix sockets."""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import json
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistantd.tools.code_interpreter.backend import (
    CONNECTION_FILE,
    IPC_MOUNT,
    SandboxBackend,
    SandboxSpec,
)
from assistantd.tools.code_interpreter.log_buffer import LogBuffer

if TYPE_CHECKING:
    from jupyter_client.asynchronous import AsyncKernelClient

SOCKET_PREFIX = "k"  # ipc sockets are <dir>/k-1 … k-5
INTERRUPT_GRACE_SECONDS = 3.0
POLL_SECONDS = 0.25  # how often a wait re-checks that the kernel process is alive
MAX_IMAGES = 50
STDERR_TAIL_BYTES = 4096


class KernelStartError(RuntimeError):
    """The sandboxed kernel did not come up."""


@dataclass
class ExecutionOutput:
    logs: LogBuffer
    images: list[bytes] = field(default_factory=list)
    error: str | None = None
    kernel_lost: bool = False  # the kernel is dead or was killed; the session must restart


class KernelSession:
    """Starts the kernel in a sandbox, runs code on it, and kills it."""

    def __init__(self, backend: SandboxBackend, spec: SandboxSpec) -> None:
        self.backend = backend
        self.spec = spec
        self.process: asyncio.subprocess.Process | None = None
        self.client: AsyncKernelClient | None = None
        self._stderr_tail: collections.deque[bytes] = collections.deque()
        self._stderr_task: asyncio.Task[None] | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self, timeout: float) -> None:
        info = self._write_connection_file()
        self.process = await self.backend.spawn(self.spec)
        self._stderr_task = asyncio.create_task(self._drain_stderr())
        # Imported here: the code-interpreter extra is optional, and the server (which imports
        # this module) must start without it; the sandbox self-check then reports it missing.
        from jupyter_client.asynchronous import AsyncKernelClient

        client = AsyncKernelClient()
        client.load_connection_info({**info, "ip": str(self.spec.ipc_dir / SOCKET_PREFIX)})
        client.start_channels()
        self.client = client
        if not await self._wait_for_kernel_info(timeout):
            await self.kill()
            raise KernelStartError(f"kernel did not start: {self.stderr_tail() or 'no output'}")

    async def _wait_for_kernel_info(self, timeout: float) -> bool:
        """Ask for kernel_info until its busy/idle status arrives on iopub.

        Seeing iopub traffic (not just the shell reply) matters: a SUB socket drops whatever is
        published before it has connected, which would lose the first execution's output.
        Not jupyter_client's ``wait_for_ready``: it gives up when the heartbeat has not beaten
        within a second, which a slow (preloading, loaded machine) kernel start trips over.
        """
        assert self.client is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive:
            self.client.kernel_info()
            try:
                await self.client.get_iopub_msg(timeout=POLL_SECONDS)
            except Exception:  # queue.Empty on timeout
                continue
            await self._flush_channels()
            return True
        return False

    async def _flush_channels(self) -> None:
        """Drop the replies to the kernel_info probes so they don't pile up."""
        assert self.client is not None
        for channel in (self.client.shell_channel, self.client.iopub_channel):
            while True:
                try:
                    await channel.get_msg(timeout=0.05)
                except Exception:
                    break

    def _write_connection_file(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "transport": "ipc",
            "ip": f"{IPC_MOUNT}/{SOCKET_PREFIX}",
            "shell_port": 1,
            "iopub_port": 2,
            "stdin_port": 3,
            "control_port": 4,
            "hb_port": 5,
            "key": secrets.token_hex(16),
            "signature_scheme": "hmac-sha256",
            "kernel_name": "",
        }
        path = self.spec.ipc_dir / CONNECTION_FILE
        path.write_text(json.dumps(info))
        path.chmod(0o600)
        uid = self.backend.sandbox_uid(self.spec.slot)
        if uid is not None:
            os.chown(path, uid, uid)
        return info

    async def execute(self, code: str, timeout: float, log_cap: int) -> ExecutionOutput:
        assert self.client is not None
        out = ExecutionOutput(logs=LogBuffer(log_cap))
        msg_id = self.client.execute(code, store_history=True, allow_stdin=False)
        deadline = time.monotonic() + timeout
        if not await self._collect(msg_id, out, deadline):
            out.error = "ExecutionTimeout"
            out.logs.append(f"\nExecution exceeded {timeout:g} s and was interrupted.\n")
            self._send_interrupt()
            if not await self._collect(msg_id, out, time.monotonic() + INTERRUPT_GRACE_SECONDS):
                out.logs.append("The kernel did not stop; it was restarted and its state lost.\n")
                out.kernel_lost = True
                await self.kill()
            out.error = "ExecutionTimeout"  # not the KeyboardInterrupt the interrupt raised
        if out.kernel_lost and out.error is None:
            out.error = f"KernelDied: {self.stderr_tail() or 'the kernel process exited'}"
        return out

    async def _collect(self, msg_id: str, out: ExecutionOutput, deadline: float) -> bool:
        """Read the execution's output until the kernel is idle (True) or the deadline (False)."""
        assert self.client is not None
        while (remaining := deadline - time.monotonic()) > 0:
            if not self.alive:
                out.kernel_lost = True
                out.logs.append(
                    "\nThe kernel died; the session was restarted and its state lost.\n"
                )
                return True
            try:
                msg = await self.client.get_iopub_msg(timeout=min(remaining, POLL_SECONDS))
            except Exception:  # queue.Empty from jupyter_client on timeout
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if _record(msg, out):
                await self._drain_shell_reply(msg_id)
                return True
        return False

    async def _drain_shell_reply(self, msg_id: str) -> None:
        assert self.client is not None
        with contextlib.suppress(Exception):
            while True:
                reply = await self.client.get_shell_msg(timeout=1.0)
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    return

    def _send_interrupt(self) -> None:
        # A control-channel message: ipykernel's control thread answers it by sending SIGINT to
        # the kernel's process group, which the host cannot address across the pid namespace.
        assert self.client is not None
        msg = self.client.session.msg("interrupt_request", {})
        self.client.control_channel.send(msg)

    async def kill(self) -> None:
        if self.client is not None:
            self.client.stop_channels()
        if self.process is not None and self.process.returncode is None:
            # The sandbox's pid 1 dies with bwrap (--die-with-parent), taking every process
            # of the pid namespace with it.
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()
        if self._stderr_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._stderr_task, 2)
        shutil.rmtree(self.spec.ipc_dir, ignore_errors=True)

    async def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        size = 0
        while chunk := await self.process.stderr.read(1024):
            self._stderr_tail.append(chunk)
            size += len(chunk)
            while size > STDERR_TAIL_BYTES and len(self._stderr_tail) > 1:
                size -= len(self._stderr_tail.popleft())

    def stderr_tail(self) -> str:
        return b"".join(self._stderr_tail).decode(errors="replace").strip()[-STDERR_TAIL_BYTES:]


def new_ipc_dir(uid: int | None) -> Path:
    """A short host path (unix socket paths are limited to 107 bytes) only the kernel uses."""
    path = Path(tempfile.mkdtemp(prefix="aci-"))
    if uid is not None:
        os.chown(path, uid, uid)
    return path


def _record(msg: dict[str, Any], out: ExecutionOutput) -> bool:
    """Fold one iopub message into ``out``; True when the kernel went idle."""
    kind, content = msg["header"]["msg_type"], msg["content"]
    if kind == "status":
        return content.get("execution_state") == "idle"
    if kind == "stream":
        out.logs.append(content.get("text", ""))
    elif kind in ("execute_result", "display_data", "update_display_data"):
        _record_data(content.get("data", {}), out, show_text=kind == "execute_result")
    elif kind == "error":
        out.error = content.get("ename") or "Error"
        out.logs.append("\n".join(content.get("traceback", [])) + "\n")
    return False


def _record_data(data: dict[str, Any], out: ExecutionOutput, show_text: bool) -> None:
    png = data.get("image/png")
    if png and len(out.images) < MAX_IMAGES:
        out.images.append(base64.b64decode(png))
    if (show_text or not png) and "text/plain" in data:
        out.logs.append(str(data["text/plain"]) + "\n")
