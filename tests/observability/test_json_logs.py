"""``ASSISTANTD_LOG_FORMAT=json``: every line the server writes is one JSON object with its
request id; a run's end line has its fields as fields."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from tests.harness.clients import sdk_client
from tests.harness.cluster import start_process
from tests.harness.contract import ContractLog
from tests.runs.conftest import wait_for


def test_json_lines_carry_the_request_id_and_the_runs_end_fields(
    scripted_model_url: str, tmp_path: Path, contract_log: ContractLog, model: str
) -> None:
    env = {"ASSISTANTD_LLM_BASE_URL": scripted_model_url, "ASSISTANTD_LOG_FORMAT": "json"}
    server = start_process("serve", tmp_path, env, log_level="info")
    try:
        assert server.url is not None
        client = sdk_client(server.url, contract_log)
        assistant = client.beta.assistants.create(model=model)
        mine = f"json-{uuid.uuid4().hex}"
        run = client.beta.threads.create_and_run_poll(
            assistant_id=assistant.id,
            thread={"messages": [{"role": "user", "content": "Hi"}]},
            extra_headers={"x-request-id": mine},
        )
        assert run.status == "completed"

        def records() -> list[dict]:
            return [json.loads(line) for line in server.log]  # each line parses, or this fails

        wait_for(records, lambda rs: any(r.get("run_id") == run.id for r in rs), seconds=10)
    finally:
        server.stop()
    lines = records()
    assert all({"time", "level", "logger", "request_id", "message"} <= set(r) for r in lines)
    access = [r for r in lines if r["logger"] == "uvicorn.access" and r["request_id"] == mine]
    # The SDK's poll helper sends the same headers with its polls: the create comes first.
    assert "POST /v1/threads/runs" in access[0]["message"]
    [ended] = [r for r in lines if r.get("run_id") == run.id]
    assert ended["request_id"] == mine and ended["level"] == "INFO"
    assert (ended["status"], ended["model"], ended["error"]) == ("completed", model, None)
    assert ended["prompt_tokens"] > 0 and ended["completion_tokens"] > 0
    assert ended["thread_id"] == run.thread_id and ended["seconds"] >= 0
