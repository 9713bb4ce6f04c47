"""``CodeSessions``: one persistent sandboxed Python session per key (tenant:thread)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
import shutil
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from assistantd.config import Settings
from assistantd.tools.code_interpreter.backend import SandboxBackend, SandboxSpec
from assistantd.tools.code_interpreter.bubblewrap import BubblewrapSandbox
from assistantd.tools.code_interpreter.host_uids import live_uids
from assistantd.tools.code_interpreter.kernel_session import (
    KernelSession,
    KernelStartError,
    new_ipc_dir,
)
from assistantd.tools.code_interpreter.limits import ResourceLimits
from assistantd.tools.code_interpreter.log_buffer import DEFAULT_LOG_CAP
from assistantd.tools.code_interpreter.result import ExecutionResult
from assistantd.tools.code_interpreter.workspace import (
    changed_files,
    checked_name,
    place_files,
    snapshot,
)

KERNEL_START_TIMEOUT_SECONDS = 30.0
# Server shutdown waits this long in all for the killed kernels to be gone, then stops waiting.
STOP_BOUND_SECONDS = 3.0
# How many evicted keys are remembered (to tell their next call); older ones are forgotten.
REMEMBERED_EVICTIONS = 4096
EVICTED_NOTE = (
    "[the session was restarted: earlier state is gone (variables and /mnt/data files; it was"
    " idle and closed to make room for other conversations)]\n"
)


@dataclass
class _Session:
    key: str
    root: Path  # host dir of this session; root/data is its /mnt/data
    slot: int
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    kernel: KernelSession | None = None
    prepared: bool = False  # its host dirs exist (made under the lock, before the first kernel)
    # The caller's tags (say file ids) of the inputs placed in this session's /mnt/data, by name.
    inputs: dict[str, str] = field(default_factory=dict)
    last_used: float = field(default_factory=time.monotonic)
    stored_bytes: int = 0  # of the outputs handed back during this session's life

    @property
    def data_dir(self) -> Path:
        return self.root / "data"


def _fitting(images: list[bytes], budget: int) -> list[bytes]:
    """The images, in order, as long as they fit in ``budget`` bytes."""
    kept: list[bytes] = []
    for image in images:
        if len(image) > budget:
            break
        kept.append(image)
        budget -= len(image)
    return kept


class CodeSessions:
    """Runs code for many keys, each in its own sandboxed kernel with its own ``/mnt/data``.

    State (variables, imports, files) persists between ``execute`` calls of one key until the
    session is idle for ``settings.code_interpreter_idle_seconds``, is closed, or its kernel
    dies; the next call then starts an empty session. Keys share nothing. Safe to call from
    asyncio concurrently; calls for one key run one at a time.
    """

    def __init__(
        self,
        settings: Settings,
        backend: SandboxBackend | None = None,
        *,
        limits: ResourceLimits | None = None,
        preload: tuple[str, ...] = (),
        log_cap: int = DEFAULT_LOG_CAP,
    ) -> None:
        self.settings = settings
        self.backend: SandboxBackend = backend or BubblewrapSandbox()
        self.limits = limits or ResourceLimits.from_settings(settings)
        self.preload = preload
        self.log_cap = log_cap
        self._sessions: dict[str, _Session] = {}
        self._evicted: OrderedDict[str, None] = OrderedDict()
        self._reaper: asyncio.Task[None] | None = None

    def live_count(self) -> int:
        """Sessions (kernels) live now."""
        return len(self._sessions)

    def live(self, key: str) -> bool:
        """Whether ``key`` has a session here now (its state would be kept)."""
        return key in self._sessions

    @property
    def idle_seconds(self) -> float:
        return self.settings.code_interpreter_idle_seconds

    async def execute(
        self,
        key: str,
        code: str,
        files: Mapping[str, bytes] | None = None,
        timeout: float | None = None,
        *,
        tags: Mapping[str, str] | None = None,
    ) -> ExecutionResult:
        """Run ``code`` in ``key``'s session after writing ``files`` into ``/mnt/data``.

        ``tags`` label some of ``files`` (name → tag, e.g. the file id); ``placed_inputs``
        reports them for as long as this session lives, so callers upload each input once.
        Raises ``ValueError`` for a file name that is not a plain basename. Everything that
        goes wrong inside the sandbox comes back as ``ExecutionResult.error``.
        """
        files = {checked_name(name): data for name, data in (files or {}).items()}
        tags = {name: tag for name, tag in (tags or {}).items() if name in files}
        reason = await self.backend.unavailable_reason()
        if reason is not None:
            return ExecutionResult(error=f"SandboxUnavailable: {reason}")
        self._ensure_reaper()
        if not await self._make_room(key):
            cap = self.settings.code_interpreter_max_sessions
            return ExecutionResult(error=f"SandboxBusy: all {cap} sessions are running code")
        session = await self._session(key)
        async with session.lock:
            try:
                result = await self._run(session, code, files, tags, timeout)
            finally:
                session.last_used = time.monotonic()
        if key in self._evicted:  # told once, on the first call after the eviction
            del self._evicted[key]
            result.logs = EVICTED_NOTE + result.logs
        return result

    async def _make_room(self, key: str) -> bool:
        """Close least recently used idle sessions until a session for ``key`` fits under the
        cap; False when every session is busy running code."""
        cap = self.settings.code_interpreter_max_sessions
        while key not in self._sessions and len(self._sessions) >= cap:
            idle = [s for s in self._sessions.values() if not s.lock.locked()]
            if not idle:
                return False
            victim = min(idle, key=lambda s: s.last_used)
            await self.close(victim.key)
            self._evicted[victim.key] = None
            while len(self._evicted) > REMEMBERED_EVICTIONS:
                self._evicted.popitem(last=False)
        return True

    def placed_inputs(self, key: str) -> dict[str, str]:
        """The tagged inputs (name → tag) in ``key``'s live session; empty for a new one."""
        session = self._sessions.get(key)
        if session is None or (self._expired(session) and not session.lock.locked()):
            return {}
        return dict(session.inputs)

    async def _run(
        self,
        session: _Session,
        code: str,
        files: dict[str, bytes],
        tags: dict[str, str],
        timeout: float | None,
    ) -> ExecutionResult:
        if not session.prepared:
            await asyncio.to_thread(self._fresh_dirs, session)
            session.prepared = True
        if session.kernel is None or not session.kernel.alive:
            try:
                session.kernel = await self._start_kernel(session)
            except (KernelStartError, OSError) as exc:
                session.kernel = None
                return ExecutionResult(error=f"SandboxUnavailable: {exc}")
        uid = self.backend.sandbox_uid(session.slot)
        await asyncio.to_thread(place_files, session.data_dir, files, uid)
        for name in files:  # an untagged file under a tagged name replaces that input
            session.inputs.pop(name, None)
        session.inputs.update(tags)
        before = await asyncio.to_thread(snapshot, session.data_dir)
        limit = timeout or self.settings.code_interpreter_exec_timeout_seconds
        out = await session.kernel.execute(code, limit, self.log_cap)
        if out.kernel_lost:
            await session.kernel.kill()
            session.kernel = None
        budget = self._output_budget(session)
        images = _fitting(out.images, budget)
        budget -= sum(map(len, images))
        produced = await asyncio.to_thread(
            changed_files, session.data_dir, before, self.limits.file_size_bytes, budget
        )
        session.stored_bytes += sum(map(len, images)) + sum(len(f.data) for f in produced.files)
        refused = [f"/mnt/data/{name}" for name in produced.refused]
        if len(images) < len(out.images):
            refused.append(f"{len(out.images) - len(images)} displayed image(s)")
        logs = out.logs.text() + self._refusal_note(refused)
        return ExecutionResult(logs=logs, images=images, files=produced.files, error=out.error)

    def _output_budget(self, session: _Session) -> int:
        """Bytes of output this call may store: the per-call bound, or less when the session's
        bound is nearly used up."""
        per_session = self.settings.code_interpreter_max_output_bytes_per_session
        per_call = self.settings.code_interpreter_max_output_bytes_per_call
        return max(0, min(per_call, per_session - session.stored_bytes))

    def _refusal_note(self, refused: list[str]) -> str:
        if not refused:
            return ""
        per_call = self.settings.code_interpreter_max_output_bytes_per_call
        per_session = self.settings.code_interpreter_max_output_bytes_per_session
        return (
            f"\n[not stored, over the output limit ({per_call} bytes per call, {per_session}"
            f" per session, counting a file's full length): {', '.join(refused)}]\n"
        )

    async def _start_kernel(self, session: _Session) -> KernelSession:
        uid = self.backend.sandbox_uid(session.slot)
        spec = SandboxSpec(
            data_dir=session.data_dir,
            ipc_dir=new_ipc_dir(uid),
            slot=session.slot,
            limits=self.limits,
            preload=self.preload,
        )
        kernel = KernelSession(self.backend, spec)
        await kernel.start(KERNEL_START_TIMEOUT_SECONDS)
        return kernel

    async def _session(self, key: str) -> _Session:
        session = self._sessions.get(key)
        if session is not None and not session.lock.locked() and self._expired(session):
            await self.close(key)
            session = None
        if session is None:
            session = _Session(key=key, root=self._root_for(key), slot=self._free_slot())
            self._sessions[key] = session
        return session

    def _expired(self, session: _Session) -> bool:
        return time.monotonic() - session.last_used >= self.idle_seconds

    def _root_for(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return self.settings.sandboxes_dir.resolve() / digest

    def _free_slot(self) -> int:
        """The lowest slot no session of ours holds and whose uid owns no process on the host."""
        used = {s.slot for s in self._sessions.values()}
        busy = live_uids() if self.backend.sandbox_uid(0) is not None else set()
        return next(
            slot
            for slot in itertools.count()
            if slot not in used and self.backend.sandbox_uid(slot) not in busy
        )

    def _fresh_dirs(self, session: _Session) -> None:
        self.settings.sandboxes_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.rmtree(session.root, ignore_errors=True)  # a leftover of an earlier server run
        session.root.mkdir(mode=0o700)
        session.data_dir.mkdir(mode=0o755)
        uid = self.backend.sandbox_uid(session.slot)
        if uid is not None:
            os.chown(session.data_dir, uid, uid)

    async def close(self, key: str) -> None:
        """End ``key``'s session now (waiting for a running execution) and delete its files."""
        self._evicted.pop(key, None)  # closed on purpose: nothing to tell its next call
        session = self._sessions.get(key)
        if session is None:
            return
        async with session.lock:
            if self._sessions.get(key) is session:
                del self._sessions[key]
            await self._destroy(session)

    async def _destroy(self, session: _Session) -> None:
        if session.kernel is not None:
            await session.kernel.kill()
            session.kernel = None
        await asyncio.to_thread(shutil.rmtree, session.root, True)

    async def reap_idle(self) -> int:
        """Close every session idle for longer than the configured time; return how many."""
        idle = [
            key
            for key, session in self._sessions.items()
            if not session.lock.locked() and self._expired(session)
        ]
        for key in idle:
            await self.close(key)
        return len(idle)

    def _ensure_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.create_task(self._reap_forever())

    async def _reap_forever(self) -> None:
        interval = min(60.0, max(self.idle_seconds / 2, 0.05))
        while True:
            await asyncio.sleep(interval)
            await self.reap_idle()

    async def aclose(self) -> None:
        """Kill every session and delete their files (server shutdown)."""
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
            self._reaper = None
        sessions, self._sessions = list(self._sessions.values()), {}
        # All at once: each task sends its SIGKILL before its first await, so every kernel is
        # killed right away; tearing down a pid namespace full of processes takes a while, and
        # one after another 45 sessions took longer than a service manager waits.
        stopping = {asyncio.create_task(self._destroy(s)): s for s in sessions}
        if not stopping:
            return
        _done, late = await asyncio.wait(stopping, timeout=STOP_BOUND_SECONDS)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        for task in late:  # killed, but not seen gone in time: still delete its files
            shutil.rmtree(stopping[task].root, ignore_errors=True)
