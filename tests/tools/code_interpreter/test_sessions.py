"""Persistent sessions: state, files in and out, charts, errors, idle reaping."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from assistantd.config import Settings
from assistantd.tools.code_interpreter import BubblewrapSandbox, CodeSessions
from assistantd.tools.code_interpreter.host_uids import live_uids
from assistantd.tools.code_interpreter.sessions import STOP_BOUND_SECONDS
from tests.tools.code_interpreter.conftest import needs_sandbox

MIB = 1024 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def new_key() -> str:
    return f"tenant:{uuid.uuid4().hex}"


@needs_sandbox
async def test_state_persists_between_calls(sessions: CodeSessions) -> None:
    key = new_key()
    first = await sessions.execute(key, "x = 41")
    assert first.error is None
    second = await sessions.execute(key, "x + 1")
    assert second.error is None
    assert "42" in second.logs


@needs_sandbox
async def test_keys_share_neither_state_nor_files(sessions: CodeSessions) -> None:
    a, b = new_key(), new_key()
    await sessions.execute(a, "secret = 'alpha'\nopen('/mnt/data/a.txt', 'w').write('alpha')")
    seen = await sessions.execute(
        b, "import os\nprint('secret' in globals(), os.listdir('/mnt/data'))"
    )
    assert seen.error is None
    assert "False []" in seen.logs


@needs_sandbox
async def test_input_csv_is_readable_with_pandas(sessions: CodeSessions) -> None:
    csv = b"city,sales\nOslo,3\nLima,4\n"
    result = await sessions.execute(
        new_key(),
        "import pandas as pd\n"
        "df = pd.read_csv('/mnt/data/sales.csv')\n"
        "print('total', df.sales.sum())",
        files={"sales.csv": csv},
    )
    assert result.error is None, result.logs
    assert "total 7" in result.logs
    assert result.files == []  # an input the code only read is not an output


@needs_sandbox
async def test_written_and_modified_files_come_back(sessions: CodeSessions) -> None:
    key = new_key()
    result = await sessions.execute(
        key,
        "import os\nos.makedirs('out', exist_ok=True)\n"
        "open('/mnt/data/report.txt', 'w').write('done')\n"
        "open('out/nested.csv', 'w').write('a,b')\n"
        "open('/mnt/data/in.txt', 'a').write('+more')",
        files={"in.txt": b"base"},
    )
    assert result.error is None, result.logs
    assert {f.name: f.data for f in result.files} == {
        "in.txt": b"base+more",
        "out/nested.csv": b"a,b",
        "report.txt": b"done",
    }
    again = await sessions.execute(key, "print(open('/mnt/data/report.txt').read())")
    assert again.files == []  # unchanged files are not reported twice
    assert "done" in again.logs


@needs_sandbox
async def test_charts_come_back_as_images_and_files(sessions: CodeSessions) -> None:
    result = await sessions.execute(
        new_key(),
        "import matplotlib.pyplot as plt\n"
        "plt.plot([1, 2, 3], [2, 4, 1])\n"
        "plt.savefig('/mnt/data/x.png')\n"
        "plt.show()",
    )
    assert result.error is None, result.logs
    assert len(result.images) == 1
    assert result.images[0].startswith(PNG_MAGIC)
    assert [f.name for f in result.files] == ["x.png"]
    assert result.files[0].data.startswith(PNG_MAGIC)


@needs_sandbox
async def test_concurrent_calls_on_one_new_key_run_in_turn(sessions: CodeSessions) -> None:
    key = new_key()
    results = await asyncio.gather(
        *(sessions.execute(key, "n = globals().get('n', 0) + 1\nprint(n)") for _ in range(3))
    )
    assert all(r.error is None for r in results), [(r.error, r.logs) for r in results]
    assert sorted(r.logs.strip() for r in results) == ["1", "2", "3"]


@needs_sandbox
async def test_exception_is_reported_with_its_traceback(sessions: CodeSessions) -> None:
    key = new_key()
    result = await sessions.execute(key, "print('before')\n1 / 0")
    assert result.error == "ZeroDivisionError"
    assert "before" in result.logs
    assert "division by zero" in result.logs
    assert (await sessions.execute(key, "print('still here')")).error is None


@needs_sandbox
async def test_logs_are_capped(sessions: CodeSessions) -> None:
    result = await sessions.execute(new_key(), "print('x' * 500_000)")
    assert result.error is None
    assert len(result.logs) < sessions.log_cap + 100
    assert result.logs.endswith("[output truncated]\n")


@needs_sandbox
async def test_close_gives_an_empty_session(sessions: CodeSessions) -> None:
    key = new_key()
    await sessions.execute(key, "kept = 1\nopen('/mnt/data/f', 'w').write('1')")
    await sessions.close(key)
    result = await sessions.execute(key, "import os\nprint('kept' in globals(), os.listdir('.'))")
    assert "False []" in result.logs


@needs_sandbox
async def test_idle_session_comes_back_empty(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, code_interpreter_idle_seconds=0.5)
    code_sessions = CodeSessions(settings)
    try:
        key = new_key()
        await code_sessions.execute(key, "x = 1\nopen('/mnt/data/f', 'w').write('1')")
        await asyncio.sleep(1.0)
        await code_sessions.reap_idle()  # the background reaper may have been first
        assert key not in code_sessions._sessions
        result = await code_sessions.execute(
            key, "import os\nprint('x' in globals(), os.listdir('/mnt/data'))"
        )
        assert "False []" in result.logs
    finally:
        await code_sessions.aclose()


@pytest.mark.parametrize("name", ["../escape", "a/b", "/etc/passwd", "nul\0byte", "..", ".", ""])
async def test_untrusted_file_names_are_rejected(tmp_path: Path, name: str) -> None:
    code_sessions = CodeSessions(Settings(data_dir=tmp_path))
    with pytest.raises(ValueError):
        await code_sessions.execute(new_key(), "1", files={name: b"x"})
    assert not (tmp_path / "escape").exists()


async def test_without_a_sandbox_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    backend = BubblewrapSandbox(bwrap=str(tmp_path / "no-such-bwrap"))
    code_sessions = CodeSessions(Settings(data_dir=tmp_path), backend)
    result = await code_sessions.execute(new_key(), f"open({str(marker)!r}, 'w')")
    assert result.error is not None
    assert result.error.startswith("SandboxUnavailable:")
    assert not marker.exists()
    await code_sessions.aclose()


@needs_sandbox
@pytest.mark.skipif(os.geteuid() != 0, reason="sandbox uids are only assigned when run as root")
async def test_a_new_session_never_shares_a_uid_that_still_has_processes(
    settings: Settings,
) -> None:
    """A uid still owning processes (a fork bomb not yet reaped, another server's session) is
    skipped: the process limit counts every process of a uid, so sharing it would starve one."""
    backend = BubblewrapSandbox()
    occupied = backend.sandbox_uid(0)
    squatter = subprocess.Popen(["sleep", "60"], user=occupied, group=occupied)
    taken_before = live_uids()  # other sessions' kernels may hold more sandbox uids
    fresh = CodeSessions(settings, backend)
    try:
        result = await fresh.execute(new_key(), "import os; print(os.getuid())")
        assert result.error is None, result.logs
        uid = int(result.logs.strip())
        assert uid != occupied
        assert uid not in taken_before
        assert uid >= backend.uid_base
    finally:
        squatter.kill()
        squatter.wait()
        await fresh.aclose()


@needs_sandbox
async def test_output_bytes_are_bounded_per_call_and_per_session(tmp_path: Path) -> None:
    """A sparse 100 MB file costs no disk inside but would be 100 MB stored: outputs are
    counted by the bytes that would be stored, and what does not fit is left out, saying so."""
    settings = Settings(
        data_dir=tmp_path,
        code_interpreter_max_output_bytes_per_call=8 * MIB,
        code_interpreter_max_output_bytes_per_session=12 * MIB,
    )
    code_sessions = CodeSessions(settings)
    key = new_key()
    write = "open('/mnt/data/{}', 'wb').write(b'x' * 5 * 1024**2)"
    try:
        sparse = await code_sessions.execute(
            key, "with open('/mnt/data/sparse.bin', 'wb') as f:\n    f.truncate(10**8)"
        )
        assert sparse.error is None, sparse.logs
        assert sparse.files == []
        assert "sparse.bin" in sparse.logs and "not stored" in sparse.logs, sparse.logs
        per_call = await code_sessions.execute(key, f"{write.format('a')}\n{write.format('b')}")
        assert [f.name for f in per_call.files] == ["a"]
        assert "/mnt/data/b" in per_call.logs and "not stored" in per_call.logs, per_call.logs
        fits = await code_sessions.execute(key, write.format("c"))
        assert [f.name for f in fits.files] == ["c"]  # 10 MiB stored in this session so far
        over = await code_sessions.execute(key, write.format("d"))
        assert over.files == [] and "not stored" in over.logs, over.logs
    finally:
        await code_sessions.aclose()


@needs_sandbox
async def test_live_sessions_are_capped_evicting_the_least_recently_used(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, code_interpreter_max_sessions=2)
    code_sessions = CodeSessions(settings)
    a, b, c = new_key(), new_key(), new_key()
    try:
        for key in (a, b):
            await code_sessions.execute(key, f"name = {key!r}")
        await code_sessions.execute(a, "name")  # b is now the least recently used
        await code_sessions.execute(c, "name = 'c'")
        assert len(code_sessions._sessions) == 2
        kept = await code_sessions.execute(a, "print(name)")
        assert kept.logs.strip() == a and "restarted" not in kept.logs, kept.logs
        evicted = await code_sessions.execute(b, "print('name' in globals())")
        assert "the session was restarted: earlier state is gone" in evicted.logs, evicted.logs
        assert evicted.logs.strip().endswith("False"), evicted.logs
        again = await code_sessions.execute(b, "print('name' in globals())")
        assert again.logs.strip() == "False"  # said once, on the first call after eviction
        assert len(code_sessions._sessions) == 2
    finally:
        await code_sessions.aclose()


@needs_sandbox
async def test_closing_all_sessions_is_bounded_even_with_fork_bombs(tmp_path: Path) -> None:
    """Server shutdown: every kernel is killed at once and the wait for them is bounded, so
    sessions full of processes (each takes a while to tear down) do not add up."""
    code_sessions = CodeSessions(Settings(data_dir=tmp_path))
    bomb = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c',"
        " 'import os\\nwhile True:\\n  try: os.fork()\\n  except OSError: pass'])\n"
        "time.sleep(1)"
    )
    keys = [new_key() for _ in range(10)]
    for key in keys:
        result = await code_sessions.execute(key, bomb)
        assert result.error is None, result.logs
    roots = [code_sessions._root_for(key) for key in keys]
    started = time.monotonic()
    await code_sessions.aclose()
    assert time.monotonic() - started < STOP_BOUND_SECONDS + 0.5
    assert not any(root.exists() for root in roots)
    leftover = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _mentions(p, roots)]
    assert leftover == []


def _mentions(proc: Path, roots: list[Path]) -> bool:
    try:
        cmdline = (proc / "cmdline").read_bytes()
    except OSError:
        return False
    return any(str(root).encode() in cmdline for root in roots)


@needs_sandbox
async def test_a_512_mb_kernel_starts_and_runs_the_data_stack(tmp_path: Path) -> None:
    """The limit counts memory the code can fill (RLIMIT_DATA), not address space reserved by
    thread stacks and malloc arenas, which alone came to ~650 MB for an idle kernel."""
    code_sessions = CodeSessions(Settings(data_dir=tmp_path, code_interpreter_memory_mb=512))
    key = new_key()
    try:
        for _ in range(3):  # a fresh kernel each time
            result = await code_sessions.execute(
                key,
                "import numpy as np, pandas as pd, matplotlib.pyplot as plt\n"
                "plt.plot(np.arange(10)); plt.show()\n"
                "print(pd.DataFrame({'a': np.ones(1000)}).a.sum())",
            )
            assert result.error is None, result.logs
            assert "1000.0" in result.logs and len(result.images) == 1
            await code_sessions.close(key)
        hog = await code_sessions.execute(key, "b = bytearray(600 * 1024**2)")
        assert hog.error == "MemoryError", hog.logs
    finally:
        await code_sessions.aclose()


def test_a_memory_limit_too_small_for_a_kernel_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="CODE_INTERPRETER_MEMORY_MB"):
        Settings(code_interpreter_memory_mb=128)
