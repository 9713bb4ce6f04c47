"""Hostile code sent through runs: every attack is contained, the run still completes with the
failure in its step logs, and the server keeps serving. A server of its own per backend, with
a short execution timeout, a 512 MB memory limit, a 16 MiB file limit and two tenants."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import make_settings
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database
from tests.harness.server import running_server
from tests.runs.conftest import Scripted
from tests.tools.code_interpreter.conftest import needs_sandbox
from tests.tools.code_interpreter.run_harness import (
    TOOL,
    CodeRun,
    new_assistant,
    new_model,
    run_code,
)
from tests.tools.code_interpreter.test_security import attempt

pytestmark = needs_sandbox
MIB = 1024 * 1024
FILE_LIMIT = 16 * MIB


@dataclass
class Hardened:
    base: str
    data_dir: Path
    alice: openai.OpenAI
    bob: openai.OpenAI

    def alive(self) -> bool:
        return httpx.get(f"{self.base}/health").json() == {"status": "ok"}


@pytest.fixture(scope="session")
def scripted(scripted_model_url: str) -> Scripted:
    return Scripted(scripted_model_url)


@pytest.fixture(scope="module")
def hardened(
    backend: str,
    scripted_model_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
) -> Iterator[Hardened]:
    data_dir = tmp_path_factory.mktemp(f"ci-security-{backend}")
    with fresh_database(backend, data_dir) as url:
        settings = make_settings(
            data_dir,
            url,
            llm_base_url=scripted_model_url,
            code_interpreter_exec_timeout_seconds=3,
            # Small enough that the growing memory bomb reaches it well within the 3 s.
            code_interpreter_memory_mb=512,
            max_file_bytes=FILE_LIMIT,
            api_keys="sk-alice,sk-bob",
        )
        with running_server(settings) as base:
            yield Hardened(
                base,
                data_dir,
                sdk_client(base, contract_log, api_key="sk-alice"),
                sdk_client(base, contract_log, api_key="sk-bob"),
            )


def attack(hardened: Hardened, scripted: Scripted, code: str, client: Any = None) -> CodeRun:
    """Run ``code`` in a new thread; the run must complete and the server must stay up."""
    client = client or hardened.alice
    assistant = new_assistant(client, new_model())
    thread = client.beta.threads.create()
    done = run_code(client, scripted, assistant, thread.id, code, "I could not do that.")
    assert done.run.status == "completed", done.run.last_error
    assert done.message.content[0].text.value == "I could not do that."
    assert hardened.alive()
    return done


def test_the_network_is_unreachable(hardened: Hardened, scripted: Scripted) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        server_port = int(hardened.base.rsplit(":", 1)[1])
        code = "\n".join(
            attempt(f"import socket\nsocket.create_connection(({host!r}, {p}), timeout=2)")
            for host, p in [("127.0.0.1", port), ("127.0.0.1", server_port), ("192.0.2.1", 80)]
        )
        done = attack(hardened, scripted, code)
    assert done.logs.count("BLOCKED") == 3 and "ALLOWED" not in done.logs, done.logs


def test_nothing_outside_mnt_data_can_be_read_or_written(
    hardened: Hardened, scripted: Scripted
) -> None:
    reads = [
        "print(open('/etc/shadow').read())",
        f"print(os.listdir({str(hardened.data_dir.resolve())!r}))",
        f"print(open({str(hardened.data_dir.resolve() / 'assistantd.sqlite3')!r}, 'rb').read(9))",
    ]
    # The venv may live in the source tree (its bind makes the parent dirs exist); nothing else.
    source_tree = f"print(os.listdir({str(Path.cwd())!r}))"
    writes = ["/usr/x", "/etc/x", "/x", "/root/x", "/proc/sys/kernel/x"]
    code = "import os\n" + "\n".join(
        [attempt(read) for read in reads]
        + [source_tree]
        + [attempt(f"open({path!r}, 'w').write('x')") for path in writes]
    )
    done = attack(hardened, scripted, code)
    assert done.logs.count("BLOCKED") == len(reads) + len(writes), done.logs
    assert "root:" not in done.logs and "SQLite" not in done.logs
    assert "pyproject.toml" not in done.logs and "assistantd" not in done.logs
    assert not any(Path(path).exists() for path in writes)


def test_another_threads_files_are_out_of_reach(hardened: Hardened, scripted: Scripted) -> None:
    alice = hardened.alice
    secret = alice.files.create(file=("secret.txt", io.BytesIO(b"s3cr3t")), purpose="assistants")
    assistant = new_assistant(alice, new_model())
    victim = alice.beta.threads.create(
        messages=[
            {
                "role": "user",
                "content": "Keep this.",
                "attachments": [{"file_id": secret.id, "tools": [TOOL]}],
            }
        ]
    )
    code = "print(open('/mnt/data/secret.txt').read())\nopen('/mnt/data/made.txt', 'w').write('m')"
    seen = run_code(alice, scripted, assistant, victim.id, code)
    assert "s3cr3t" in seen.logs
    sandboxes = hardened.data_dir.resolve() / "sandboxes"
    sweep = attack(
        hardened,
        scripted,
        "import os, sys\n"
        + attempt("print(open('/mnt/data/secret.txt').read())")
        + "\n"
        + attempt(f"print(os.listdir({str(sandboxes)!r}))")
        + "\nskip = {'/proc', '/usr', '/dev', sys.base_prefix, sys.prefix}\nnames = []\n"
        "for root, dirs, files in os.walk('/'):\n"
        "    dirs[:] = [d for d in dirs if os.path.join(root, d) not in skip]\n"
        "    names += files\n"
        "print(sorted(names))",
    )
    assert sweep.logs.count("BLOCKED") == 2, sweep.logs
    assert "s3cr3t" not in sweep.logs
    assert "secret.txt'" not in sweep.logs.split("BLOCKED")[-1] and "made.txt" not in sweep.logs


def test_another_tenant_never_sees_the_files(hardened: Hardened, scripted: Scripted) -> None:
    alice, bob = hardened.alice, hardened.bob
    private = alice.files.create(file=("private.csv", io.BytesIO(b"a,b")), purpose="assistants")
    made = attack(
        hardened, scripted, "open('/mnt/data/alice-out.csv', 'w').write('1')\nprint('ok')"
    )
    [output] = [
        f
        for f in alice.files.list(purpose="assistants_output").data
        if f.filename == "alice-out.csv"
    ]
    # Bob names Alice's files in his own resources: they are not his, so they are refused (404)
    # and never appear.
    with pytest.raises(openai.NotFoundError):
        bob.beta.assistants.create(
            model=new_model(),
            tools=[TOOL],
            tool_resources={"code_interpreter": {"file_ids": [private.id]}},
        )
    assistant = bob.beta.assistants.create(model=new_model(), tools=[TOOL])
    thread = bob.beta.threads.create()
    done = run_code(
        bob, scripted, assistant, thread.id, "import os\nprint(os.listdir('/mnt/data'))"
    )
    assert done.run.status == "completed"
    assert done.logs.strip() == "[]", done.logs
    assert output.id not in [f.id for f in bob.files.list(purpose="assistants_output").data]
    for file_id in (private.id, output.id):
        with pytest.raises(openai.NotFoundError):
            bob.files.retrieve(file_id)
    assert made.run.status == "completed"


def test_a_fork_bomb_is_contained(hardened: Hardened, scripted: Scripted) -> None:
    bomb = (
        "import subprocess, sys\n"
        "bomb = 'import os\\nwhile True:\\n  try: os.fork()\\n  except OSError: pass'\n"
        "try:\n"
        "    subprocess.run([sys.executable, '-c', bomb], timeout=1)\n"
        "except subprocess.TimeoutExpired:\n"
        "    print('BOMB STOPPED')"
    )
    done = attack(hardened, scripted, bomb)
    assert "BOMB STOPPED" in done.logs or "Error" in done.logs, done.logs


def test_a_memory_bomb_is_contained(hardened: Hardened, scripted: Scripted) -> None:
    code = (
        attempt("b = bytearray(8 * 1024**3)")
        + "\n"
        + attempt("hog = []\nwhile True:\n    hog.append(bytearray(64 * 1024**2))")
    )
    done = attack(hardened, scripted, code)
    assert done.logs.count("MemoryError") == 2, done.logs


def test_an_infinite_loop_is_stopped_and_the_session_kept(
    hardened: Hardened, scripted: Scripted
) -> None:
    alice = hardened.alice
    assistant = new_assistant(alice, new_model())
    thread = alice.beta.threads.create()
    run_code(alice, scripted, assistant, thread.id, "kept = 'still here'")
    looped = run_code(alice, scripted, assistant, thread.id, "while True:\n    pass")
    assert looped.run.status == "completed"
    assert "ExecutionTimeout" in looped.logs, looped.logs
    after = run_code(alice, scripted, assistant, thread.id, "print(kept)")
    assert after.logs.strip() == "still here"
    assert hardened.alive()


def test_a_10_gb_write_hits_the_file_size_limit(hardened: Hardened, scripted: Scripted) -> None:
    code = attempt(
        "chunk = b'\\0' * (64 * 1024**2)\n"
        "with open('/mnt/data/big.bin', 'wb') as f:\n"
        "    for _ in range(160):  # 10 GiB\n"
        "        f.write(chunk)"
    )
    done = attack(hardened, scripted, code)
    assert "BLOCKED" in done.logs and "File too large" in done.logs, done.logs
    big = [
        f
        for f in hardened.alice.files.list(purpose="assistants_output").data
        if f.filename == "big.bin"
    ]
    assert all(f.bytes <= FILE_LIMIT for f in big)


def test_killing_the_parent_leaves_the_server_running(
    hardened: Hardened, scripted: Scripted
) -> None:
    alice = hardened.alice
    assistant = new_assistant(alice, new_model())
    thread = alice.beta.threads.create()
    kills = [
        ("os.kill(os.getppid(), 9)", "PermissionError"),  # the sandbox's init is not its own
        ("os.kill(-1, 9)", "ProcessLookupError"),  # nothing else of its uid to signal
        ("os.kill(os.getpid(), 9)", "KernelDied"),  # itself: the next call gets a fresh kernel
    ]
    for kill, logged in kills:
        killed = run_code(alice, scripted, assistant, thread.id, f"import os\n{kill}")
        assert killed.run.status == "completed"
        assert logged in killed.logs, killed.logs
        assert hardened.alive()
    again = run_code(alice, scripted, assistant, thread.id, "print(6 * 7)")
    assert again.run.status == "completed" and again.logs.strip() == "42", again.logs


def test_a_file_name_that_is_not_utf8_gets_a_safe_name(
    hardened: Hardened, scripted: Scripted
) -> None:
    code = (
        "import os\n"
        "fd = os.open(b'/mnt/data/bad\\xff\\xfe.txt', os.O_WRONLY | os.O_CREAT, 0o644)\n"
        "os.write(fd, b'undecodable'); os.close(fd)\n"
        "print('written')"
    )
    done = attack(hardened, scripted, code)
    assert "written" in done.logs, done.logs
    listed = httpx.get(f"{hardened.base}/v1/files", headers={"Authorization": "Bearer sk-alice"})
    assert listed.status_code == 200, listed.text
    [made] = [f for f in listed.json()["data"] if f["filename"].startswith("bad")]
    assert made["filename"] == "bad\ufffd\ufffd.txt"
    assert hardened.alice.files.content(made["id"]).read() == b"undecodable"


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_deleting_a_thread_ends_its_session_and_deletes_its_files(
    hardened: Hardened, scripted: Scripted
) -> None:
    alice = hardened.alice
    sandboxes = hardened.data_dir.resolve() / "sandboxes"
    before = set(sandboxes.iterdir()) if sandboxes.exists() else set()
    assistant = new_assistant(alice, new_model())
    thread = alice.beta.threads.create()
    run_code(alice, scripted, assistant, thread.id, "open('/mnt/data/kept.txt', 'w').write('x')")
    [session_dir] = set(sandboxes.iterdir()) - before
    assert (session_dir / "data" / "kept.txt").exists()
    assert _processes_mentioning(str(session_dir))  # its kernel is running
    assert alice.beta.threads.delete(thread.id).deleted
    assert not session_dir.exists()
    assert _processes_mentioning(str(session_dir)) == []
    assert hardened.alive()
