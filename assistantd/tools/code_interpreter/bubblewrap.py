"""``SandboxBackend`` on bubblewrap (``bwrap``): namespaces, read-only binds, no network.

Two modes, chosen by who runs the server:

* **root** — bwrap runs privileged without a user namespace; every other namespace (mount, pid,
  net, ipc, uts, cgroup) is new. The launcher keeps only CAP_SETUID/CAP_SETGID, immediately
  switches to a host uid of its own (``uid_base + slot``) and so owns nothing on the host and is
  bound by RLIMIT_NPROC (which the kernel never enforces on uid 0).
* **unprivileged** — ``--unshare-all --unshare-user --disable-userns``: the kernel runs as the
  server's own uid mapped into a fresh user namespace, with no capabilities.

Either way bwrap sets no_new_privs, mounts binds nosuid, kills the sandbox with its parent, and
installs ``seccomp_filter``'s program (no new namespaces, mounts, ptrace, bpf, …). In root mode
``--disable-userns`` is not available (it needs ``--unshare-user``, which would map the sandbox to
host root); the seccomp filter alone keeps user namespaces out there.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from assistantd.tools.code_interpreter.backend import (
    CONNECTION_FILE,
    DATA_MOUNT,
    IPC_MOUNT,
    LAUNCHER_MOUNT,
    SandboxSpec,
)
from assistantd.tools.code_interpreter.limits import ResourceLimits
from assistantd.tools.code_interpreter.seccomp_filter import SeccompUnavailable, program_fd

LAUNCHER = Path(__file__).with_name("kernel_launcher.py")
SYSTEM_RO_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32")
# Only what the interpreter and matplotlib use from /etc; nothing with secrets.
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/mime.types", "/etc/fonts")
INSIDE_UID_UNPRIVILEGED = 1000
SELF_CHECK = "import ipykernel, zmq, sys; sys.stdout.write('sandbox-ok')"


def sandbox_env(inside_home: str = "/tmp") -> dict[str, str]:
    """The whole environment of the kernel (bwrap starts from an empty one)."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": inside_home,
        "USER": "sandbox",
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",  # Agg canvas, PNG display
        "MPLCONFIGDIR": "/tmp/.matplotlib",
        "IPYTHONDIR": "/tmp/.ipython",
        "JUPYTER_RUNTIME_DIR": "/tmp/.jupyter",
        "PYTHONDONTWRITEBYTECODE": "1",
        # One BLAS/OpenMP thread: threads count against RLIMIT_NPROC and address space.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


class BubblewrapSandbox:
    """Runs each kernel under ``bwrap`` with only the interpreter and libraries visible.

    ``python`` is the interpreter used inside (default: the one running the server, i.e. the
    project venv); ``extra_ro_paths`` are more host paths to show read-only at the same place.
    """

    def __init__(
        self,
        bwrap: str | None = None,
        python: str | None = None,
        extra_ro_paths: Iterable[str] = (),
        uid_base: int = 1_900_000_000,
    ) -> None:
        self.bwrap = bwrap or shutil.which("bwrap")
        self.python = python or sys.executable
        self.privileged = os.geteuid() == 0
        self.uid_base = uid_base
        self._ro_paths = _dedupe([sys.base_prefix, sys.prefix, *extra_ro_paths])
        self._checked: str | bool | None = False  # False: not checked yet

    def sandbox_uid(self, slot: int) -> int | None:
        return self.uid_base + slot if self.privileged else None

    async def unavailable_reason(self) -> str | None:
        if self._checked is False:
            self._checked = await self._self_check()
        return self._checked if isinstance(self._checked, str) else None

    async def spawn(self, spec: SandboxSpec) -> asyncio.subprocess.Process:
        if self.bwrap is None:
            raise FileNotFoundError("bwrap")
        config = {
            "connection_file": f"{IPC_MOUNT}/{CONNECTION_FILE}",
            "limits": spec.limits.as_dict(),
            "uid": self.sandbox_uid(spec.slot),
            "preload": list(spec.preload),
        }
        seccomp = program_fd()
        try:
            argv = [
                *self._bwrap_args(spec, seccomp),
                self.python,
                "-I",
                "-B",
                LAUNCHER_MOUNT,
                json.dumps(config),
            ]
            return await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                pass_fds=(seccomp,),
            )
        finally:
            os.close(seccomp)  # bwrap has its own copy (or failed to start)

    def _bwrap_args(self, spec: SandboxSpec, seccomp_fd: int) -> list[str]:
        assert self.bwrap is not None
        args = [self.bwrap, *self._namespace_args(), "--die-with-parent", "--new-session"]
        args += ["--seccomp", str(seccomp_fd)]
        args += ["--clearenv", "--hostname", "sandbox", "--chdir", DATA_MOUNT]
        for key, value in sandbox_env().items():
            args += ["--setenv", key, value]
        # The private /tmp first: an interpreter or venv that lives under the host's /tmp (a CI
        # checkout, say) is then bound on top of it instead of hidden by it.
        args += ["--perms", "1777", "--size", str(spec.limits.tmp_bytes), "--tmpfs", "/tmp"]
        args += ["--proc", "/proc", "--dev", "/dev"]
        args += _system_args()
        args += _dirs_then_binds("--ro-bind", [(p, p) for p in self._ro_paths])
        args += _dirs_then_binds(
            "--bind", [(str(spec.data_dir), DATA_MOUNT), (str(spec.ipc_dir), IPC_MOUNT)]
        )
        args += _dirs_then_binds("--ro-bind", [(str(LAUNCHER), LAUNCHER_MOUNT)])
        return args

    def _namespace_args(self) -> list[str]:
        if self.privileged:
            return [
                *("--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"),
                *("--unshare-cgroup-try", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"),
            ]
        uid = str(INSIDE_UID_UNPRIVILEGED)
        return ["--unshare-all", "--unshare-user", "--disable-userns", "--uid", uid, "--gid", uid]

    async def _self_check(self) -> str | None:
        if self.bwrap is None or not os.access(self.bwrap, os.X_OK):
            return f"bwrap not found ({self.bwrap or 'not on PATH'}); apt-get install bubblewrap"
        try:
            seccomp = program_fd()
        except SeccompUnavailable as exc:
            return str(exc)
        try:
            return await self._run_self_check(seccomp)
        finally:
            os.close(seccomp)

    async def _run_self_check(self, seccomp: int) -> str | None:
        assert self.bwrap is not None
        with tempfile.TemporaryDirectory(prefix="aci-check-") as tmp:
            data, ipc = Path(tmp, "data"), Path(tmp, "ipc")
            data.mkdir()
            ipc.mkdir()
            spec = SandboxSpec(data_dir=data, ipc_dir=ipc, slot=0, limits=ResourceLimits())
            argv = [*self._bwrap_args(spec, seccomp), self.python, "-I", "-B", "-c", SELF_CHECK]
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                pass_fds=(seccomp,),
            )
            try:
                out, err = await asyncio.wait_for(proc.communicate(), 30)
            except TimeoutError:
                proc.kill()
                return "bwrap self-check timed out"
        if proc.returncode != 0 or out != b"sandbox-ok":
            detail = err.decode(errors="replace").strip()[-500:]
            return f"bwrap self-check failed (exit {proc.returncode}): {detail}"
        return None


def _system_args() -> list[str]:
    args: list[str] = []
    for path in SYSTEM_RO_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--perms", "0755", "--dir", "/etc"]
    for path in ETC_FILES:
        args += ["--ro-bind-try", path, path]
    return args


def _dirs_then_binds(flag: str, binds: list[tuple[str, str]]) -> list[str]:
    """Create each destination's missing parents world-traversable (bwrap's default is 0700,
    which the unprivileged kernel could not enter), then bind."""
    args: list[str] = []
    for _, dest in binds:
        for parent in reversed(PurePosixPath(dest).parents):
            if str(parent) not in ("/", *SYSTEM_RO_DIRS):
                args += ["--perms", "0755", "--dir", str(parent)]
    for source, dest in binds:
        args += [flag, source, dest]
    return args


def _dedupe(paths: Iterable[str]) -> list[str]:
    """Drop duplicates and paths already inside another one (or inside /usr)."""
    resolved = sorted({os.path.realpath(p) for p in paths if p})
    kept: list[str] = []
    for path in resolved:
        inside = [*kept, *SYSTEM_RO_DIRS]
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in inside):
            kept.append(path)
    return kept
