"""code_interpreter on a scaled-out deployment: a thread's runs go to the worker that holds its
Python session, so state set in one run is there in the next, however the runs are spread; when
that worker dies, another takes the thread on and the model is told the state is gone. A
process that serves requests and executes runs keeps the runs created through it (tests/
scale_out/test_runs_across_processes.py), except those of a thread another process's session
holds: they go to that process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import pytest

from tests.harness.clients import sdk_client
from tests.harness.cluster import cluster
from tests.harness.contract import ContractLog
from tests.runs.conftest import Scripted
from tests.tools.code_interpreter.conftest import UNAVAILABLE

pytestmark = pytest.mark.skipif(
    UNAVAILABLE is not None, reason=f"bubblewrap sandbox unavailable: {UNAVAILABLE}"
)
ROLES = ["serve --no-worker", "worker", "worker"]


def _code_run(client: openai.OpenAI, scripted: Scripted, model: str, thread: Any, code: str) -> str:
    """A run whose model runs ``code`` once and then answers; the call's logs."""
    scripted.script(
        model,
        {"tool_calls": [{"name": "code_interpreter", "arguments": {"code": code}}]},
        {"text": "Done."},
    )
    assistant = client.beta.assistants.create(model=model, tools=[{"type": "code_interpreter"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed", run.last_error
    steps = client.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id).data
    [call] = [c for s in steps if s.type == "tool_calls" for c in s.step_details.tool_calls]
    return "".join(o.logs for o in call.code_interpreter.outputs if o.type == "logs")


def test_a_threads_python_state_follows_its_runs_across_workers(
    shared_env: dict[str, str], tmp_path: Path, contract_log: ContractLog,
    scripted: Scripted, model: str,
) -> None:  # fmt: skip
    with cluster(ROLES, tmp_path, shared_env) as servers:
        client = sdk_client(servers[0].url or "", contract_log)
        thread = client.beta.threads.create()
        _code_run(client, scripted, model, thread, "x = 41")
        # With two workers claiming at random, six runs in a row on the holder are no luck.
        seen = [_code_run(client, scripted, model, thread, "x += 1\nprint(x)") for _ in range(6)]
        assert [logs.strip() for logs in seen] == [str(n) for n in range(42, 48)]
        holder = next(s for s in servers[1:] if sum(" ended: " in line for line in s.log) == 7)
        holder.kill()
        after = _code_run(client, scripted, model, thread, "print('x' in dir())")
    assert "session was restarted" in after and after.strip().endswith("False")


def test_a_run_created_where_another_process_holds_the_session_goes_to_that_process(
    shared_env: dict[str, str], tmp_path: Path, contract_log: ContractLog,
    scripted: Scripted, model: str,
) -> None:  # fmt: skip
    with cluster(["serve", "serve"], tmp_path, shared_env) as servers:
        clients = [sdk_client(s.url or "", contract_log) for s in servers]
        thread = clients[0].beta.threads.create()
        _code_run(clients[0], scripted, model, thread, "x = 41")  # the session: process 0's
        seen = [
            _code_run(clients[n % 2], scripted, model, thread, "x += 1\nprint(x)")
            for n in range(1, 5)
        ]
    assert [logs.strip() for logs in seen] == ["42", "43", "44", "45"]
