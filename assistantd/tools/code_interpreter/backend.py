"""The isolation interface: something that can start a kernel launcher inside a sandbox.

``BubblewrapSandbox`` is the implementation today; a gVisor (``runsc``) backend can implement the
same protocol. Paths *inside* every sandbox are fixed so the kernel never learns host paths.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from assistantd.tools.code_interpreter.limits import ResourceLimits

DATA_MOUNT = "/mnt/data"  # the session's files
IPC_MOUNT = "/run/kernel"  # the kernel's unix sockets and connection file
CONNECTION_FILE = "kernel.json"  # inside IPC_MOUNT
LAUNCHER_MOUNT = "/opt/assistantd/kernel_launcher.py"


class SandboxUnavailable(RuntimeError):
    """No working sandbox: code must not run at all."""


@dataclass(frozen=True)
class SandboxSpec:
    """One sandbox instance: what to mount and how to limit it."""

    data_dir: Path  # host dir mounted read-write at DATA_MOUNT
    ipc_dir: Path  # host dir mounted read-write at IPC_MOUNT; holds kernel.json
    slot: int  # which of the backend's sandbox identities (uids) to use
    limits: ResourceLimits
    preload: tuple[str, ...] = ()  # modules the kernel imports before it starts


class SandboxBackend(Protocol):
    """Starts kernels in isolation. Implementations must never fall back to running unsandboxed."""

    async def unavailable_reason(self) -> str | None:
        """``None`` when the sandbox works (a self-check, cached); otherwise why not."""
        ...

    def sandbox_uid(self, slot: int) -> int | None:
        """The host uid the kernel in ``slot`` will run as (to chown its dirs), or ``None``."""
        ...

    async def spawn(self, spec: SandboxSpec) -> asyncio.subprocess.Process:
        """Start ``kernel_launcher.py`` inside a new sandbox built from ``spec``."""
        ...
