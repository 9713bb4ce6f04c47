"""Hostile code stays inside its sandbox, and the session (or a fresh one) keeps working."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistantd.config import Settings
from assistantd.tools.code_interpreter import CodeSessions
from tests.tools.code_interpreter.conftest import data_dir_of, needs_sandbox

pytestmark = needs_sandbox


def new_key() -> str:
    return f"tenant:{uuid.uuid4().hex}"


async def assert_usable(sessions: CodeSessions, key: str) -> None:
    result = await sessions.execute(key, "print(6 * 7)")
    assert result.error is None, result.logs
    assert "42" in result.logs


def attempt(code: str) -> str:
    """Wrap ``code`` so the cell prints BLOCKED <exception> or ALLOWED."""
    body = "\n".join(f"    {line}" for line in code.splitlines())
    return f"try:\n{body}\n    print('ALLOWED')\nexcept BaseException as e:\n    print('BLOCKED', repr(e))"


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


async def test_no_loopback_network(sessions: CodeSessions, listening_port: int) -> None:
    key = new_key()
    code = f"import socket\nsocket.create_connection(('127.0.0.1', {listening_port}), timeout=2)"
    result = await sessions.execute(key, attempt(code))
    assert "BLOCKED" in result.logs, result.logs
    await assert_usable(sessions, key)


async def test_no_outside_network(sessions: CodeSessions) -> None:
    key = new_key()
    # 192.0.2.1 is TEST-NET-1 (reserved for documentation): nothing is ever reachable there.
    code = "import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=2)"
    result = await sessions.execute(key, attempt(code))
    assert "BLOCKED" in result.logs, result.logs
    interfaces = await sessions.execute(key, "import socket\nprint(socket.if_nameindex())")
    assert "eth" not in interfaces.logs  # only the namespace's own (down) loopback exists


async def test_cannot_read_etc_shadow(sessions: CodeSessions) -> None:
    result = await sessions.execute(new_key(), attempt("print(open('/etc/shadow').read())"))
    assert "BLOCKED" in result.logs, result.logs
    assert "root:" not in result.logs


async def test_cannot_reach_server_data_or_other_sessions(
    sessions: CodeSessions, settings: Settings
) -> None:
    victim, attacker = new_key(), new_key()
    await sessions.execute(victim, "open('/mnt/data/private.txt', 'w').write('victim-secret')")
    targets = [
        str(settings.data_dir.resolve()),
        str(data_dir_of(settings, sessions, victim)),
        "/root",
        str(Path.cwd()),
    ]
    for target in targets:
        result = await sessions.execute(attacker, attempt(f"print(os.listdir({target!r}))"))
        assert "BLOCKED" in result.logs or "[]" in result.logs, (target, result.logs)
    # Every file name the attacker can see, skipping the read-only system and Python trees.
    sweep = await sessions.execute(
        attacker,
        "import os, sys\n"
        "skip = ('/proc', '/usr', '/dev', sys.base_prefix, sys.prefix)\n"
        "names = [n for root, dirs, files in os.walk('/')"
        " if not root.startswith(skip) for n in files]\n"
        "print(len(names), sorted(names))",
    )
    assert "private.txt" not in sweep.logs, sweep.logs


async def test_fork_bomb_is_contained(sessions: CodeSessions) -> None:
    key = new_key()
    bomb = (
        "import subprocess, sys, os\n"
        "bomb = 'import os\\nwhile True:\\n  try: os.fork()\\n  except OSError: pass'\n"
        "try:\n"
        "    subprocess.run([sys.executable, '-c', bomb], timeout=3)\n"
        "except subprocess.TimeoutExpired:\n"
        "    pass\n"
        "print('TASKS', sum(len(os.listdir(f'/proc/{p}/task')) for p in os.listdir('/proc')"
        " if p.isdigit() and os.path.exists(f'/proc/{p}/task')))"
    )
    result = await sessions.execute(key, bomb)
    tasks = int(result.logs.split("TASKS")[1].split()[0]) if "TASKS" in result.logs else 0
    assert tasks <= sessions.limits.processes + 2, result.logs  # + bwrap's two, not the uid's
    assert subprocess.run(["true"]).returncode == 0  # the host can still start processes
    await sessions.close(key)  # kills the whole pid namespace, spinning children included
    await assert_usable(sessions, key)


async def test_memory_bomb_is_contained(sessions: CodeSessions) -> None:
    key = new_key()
    one_shot = await sessions.execute(key, attempt("b = bytearray(8 * 1024**3)"))
    assert "BLOCKED" in one_shot.logs and "MemoryError" in one_shot.logs, one_shot.logs
    growing = await sessions.execute(
        key, attempt("hog = []\nwhile True:\n    hog.append(bytearray(64 * 1024**2))")
    )
    assert "MemoryError" in growing.logs, growing.logs
    await sessions.execute(key, "hog = None")
    await assert_usable(sessions, key)


async def test_infinite_loop_is_interrupted_and_state_kept(sessions: CodeSessions) -> None:
    key = new_key()
    await sessions.execute(key, "kept = 'yes'")
    result = await sessions.execute(key, "while True:\n    pass", timeout=1)
    assert result.error == "ExecutionTimeout"
    after = await sessions.execute(key, "print(kept)")
    assert after.error is None and "yes" in after.logs


async def test_loop_ignoring_interrupts_restarts_the_kernel(sessions: CodeSessions) -> None:
    key = new_key()
    await sessions.execute(key, "lost = 1")
    stubborn = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    result = await sessions.execute(key, stubborn, timeout=1)
    assert result.error == "ExecutionTimeout"
    after = await sessions.execute(key, "print('lost' in globals())")
    assert "False" in after.logs


async def test_huge_file_write_hits_the_size_limit(
    sessions: CodeSessions, settings: Settings
) -> None:
    key = new_key()
    code = (
        "chunk = b'\\0' * (64 * 1024**2)\n"
        "with open('/mnt/data/big.bin', 'wb') as f:\n"
        "    for _ in range(160):  # 10 GiB\n"
        "        f.write(chunk)"
    )
    result = await sessions.execute(key, attempt(code))
    assert "BLOCKED" in result.logs and "File too large" in result.logs, result.logs
    on_host = data_dir_of(settings, sessions, key) / "big.bin"
    assert on_host.stat().st_size <= settings.max_file_bytes
    await assert_usable(sessions, key)


@pytest.mark.parametrize("path", ["/usr/x", "/etc/x", "/x", "/root/x", "/proc/sys/kernel/x"])
async def test_cannot_write_outside_mnt_data(sessions: CodeSessions, path: str) -> None:
    result = await sessions.execute(new_key(), attempt(f"open({path!r}, 'w').write('x')"))
    assert "BLOCKED" in result.logs, result.logs
    assert not os.path.exists(path)


async def test_tmp_is_private(sessions: CodeSessions) -> None:
    marker = f"/tmp/sandbox-{uuid.uuid4().hex}"
    result = await sessions.execute(new_key(), f"open({marker!r}, 'w').write('x')")
    assert result.error is None, result.logs
    assert not os.path.exists(marker)


@pytest.mark.parametrize(
    "code", ["os.kill(os.getppid(), 9)", "os.kill(1, 9)", "os.kill(-1, 9)", "os.kill(0, 9)"]
)
async def test_killing_parents_leaves_the_host_alive(sessions: CodeSessions, code: str) -> None:
    key = new_key()
    await sessions.execute(key, f"import os\n{code}")
    assert os.getpid() > 0  # still here: the host is unaffected
    await assert_usable(sessions, key)  # the same kernel, or a fresh one after KernelDied


async def test_symlinks_planted_in_mnt_data_are_not_followed(
    sessions: CodeSessions, tmp_path: Path
) -> None:
    victim = tmp_path / "host-file.txt"
    victim.write_text("host secret")
    key = new_key()
    planted = await sessions.execute(
        key,
        f"import os\nos.symlink({str(victim)!r}, '/mnt/data/in.txt')\n"
        f"os.symlink({str(victim)!r}, '/mnt/data/leak.txt')",
    )
    assert all(f.data != b"host secret" for f in planted.files)
    overwrite = await sessions.execute(
        key, "print(open('/mnt/data/in.txt').read())", files={"in.txt": b"upload"}
    )
    assert "upload" in overwrite.logs
    assert victim.read_text() == "host secret"


# Each probe runs in a fresh single-threaded child (unshare(CLONE_NEWUSER) refuses a threaded
# caller such as the kernel itself) and prints the errno it got, 0 for success.
KERNEL_SURFACE_PROBES = {
    "unshare_user": "libc.unshare(0x10000000)",
    "unshare_user_and_mount": "libc.unshare(0x10000000 | 0x00020000)",
    "clone_new_user": "libc.syscall(56 if machine == 'x86_64' else 220, 0x10000000 | 17, 0, 0, 0, 0)",
    "mount_tmpfs": "libc.mount(b'none', b'/mnt', b'tmpfs', 0, None)",
    "ptrace_traceme": "libc.ptrace(0, 0, None, None)",
    "netlink_netfilter": "socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12) and 0",
}
PROBE = """
import ctypes, json, os, platform, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
machine = platform.machine()
try:
    result = {expr}
    if result > 0:  # clone's child: leave at once
        os.waitpid(result, 0) if os.getpid() != 1 else None
        result = 0
    elif result == 0 and {is_clone}:
        os._exit(0)
    print(ctypes.get_errno() if result < 0 else 0)
except OSError as e:
    print(e.errno)
"""


@pytest.mark.parametrize("probe", sorted(KERNEL_SURFACE_PROBES))
async def test_kernel_surface_behind_namespaces_is_blocked(
    sessions: CodeSessions, probe: str
) -> None:
    expr = KERNEL_SURFACE_PROBES[probe]
    script = PROBE.format(expr=expr, is_clone=probe.startswith("clone"))
    code = f"import subprocess, sys\nprint(subprocess.run([sys.executable, '-c', {script!r}],"
    code += " capture_output=True, text=True).stdout)"
    result = await sessions.execute(new_key(), code)
    assert result.error is None, result.logs
    assert result.logs.strip() == str(errno.EPERM), (probe, result.logs)


async def test_a_new_user_namespace_grants_no_capabilities(sessions: CodeSessions) -> None:
    """The `unshare -Ur` route to CAP_NET_ADMIN / CAP_SYS_ADMIN over fresh namespaces is shut."""
    code = (
        "import subprocess\n"
        "p = subprocess.run(['unshare', '-Ur', 'grep', 'CapEff', '/proc/self/status'],"
        " capture_output=True, text=True)\n"
        "print(p.returncode, p.stdout, p.stderr)"
    )
    result = await sessions.execute(new_key(), code)
    assert "000001ff" not in result.logs, result.logs
    assert "Operation not permitted" in result.logs, result.logs


async def test_data_science_code_runs_under_the_filter(sessions: CodeSessions) -> None:
    """Threads (clone3 falls back to clone), subprocesses and BLAS still work."""
    code = (
        "import subprocess, threading, numpy as np, pandas as pd\n"
        "t = threading.Thread(target=lambda: None); t.start(); t.join()\n"
        "print(subprocess.run(['echo', 'child'], capture_output=True, text=True).stdout.strip())\n"
        "print(int(np.linalg.inv(np.eye(3) * 2).sum() * 2), pd.DataFrame({'a': [1, 2]}).a.sum())"
    )
    result = await sessions.execute(new_key(), code)
    assert result.error is None, result.logs
    assert result.logs.split() == ["child", "3", "3"], result.logs
