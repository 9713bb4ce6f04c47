"""Usage per project and model (``GET /v1/organization/usage/completions`` and ``…/embeddings``,
OpenAI's Usage API) and the live runs across projects (``GET /v1/organization/runs``, an
assistantd extension), through plain HTTP with the admin key, after real runs and pass-through
calls against the scripted model."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import make_settings
from tests.harness.admin import ADMIN_KEY, AdminClient
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database
from tests.harness.server import running_server
from tests.runs.conftest import Scripted, scripted, wait_for

__all__ = ["scripted"]

LOOKUP = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}


@dataclass(frozen=True)
class Tenants:
    base: str
    admin: AdminClient
    alpha: str  # project ids
    beta: str
    alpha_client: openai.OpenAI
    beta_client: openai.OpenAI


@pytest.fixture(scope="module")
def tenants(
    backend: str,
    scripted_model_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
) -> Iterator[Tenants]:
    data_dir = tmp_path_factory.mktemp(f"usage-{backend}")
    with fresh_database(backend, data_dir) as url:
        settings = make_settings(
            data_dir, url, admin_key=ADMIN_KEY, llm_base_url=scripted_model_url
        )
        with running_server(settings) as base:
            admin = AdminClient(base)
            alpha, alpha_key = admin.project_key("Alpha")
            beta, beta_key = admin.project_key("Beta")
            yield Tenants(
                base, admin, alpha, beta,
                sdk_client(base, contract_log, api_key=alpha_key),
                sdk_client(base, contract_log, api_key=beta_key),
            )  # fmt: skip


def _model() -> str:
    return f"usage-model-{uuid.uuid4().hex[:8]}"


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion}


def _run(client: openai.OpenAI, model: str, **options: Any) -> Any:
    assistant = client.beta.assistants.create(model=model, **options)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "hi"}])
    return client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)


def _usage_page(admin: AdminClient, kind: str = "completions", **params: Any) -> dict[str, Any]:
    params.setdefault("start_time", int(time.time()) - 3600)
    return admin.call("GET", f"/usage/{kind}", params=params)


def _results(page: dict[str, Any]) -> list[dict[str, Any]]:
    return [result for bucket in page["data"] for result in bucket["results"]]


def _by_group(page: dict[str, Any]) -> dict[tuple[Any, Any], tuple[int, int, int]]:
    totals: dict[tuple[Any, Any], tuple[int, int, int]] = {}
    for r in _results(page):
        key = (r["project_id"], r["model"])
        was = totals.get(key, (0, 0, 0))
        totals[key] = (
            was[0] + r["input_tokens"],
            was[1] + r["output_tokens"],
            was[2] + r["num_model_requests"],
        )
    return totals


def test_runs_usage_is_bucketed_per_project_and_model(tenants: Tenants, scripted: Scripted) -> None:
    one, two = _model(), _model()
    scripted.script(
        one, {"text": "a", "usage": _usage(11, 5)}, {"text": "b", "usage": _usage(13, 2)}
    )
    for _ in range(2):
        assert _run(tenants.alpha_client, one).status == "completed"
    # Two model calls in one run: a function call, then the answer after its output.
    scripted.script(
        two,
        {"tool_calls": [{"id": "call_1", "name": "lookup"}], "usage": _usage(20, 3)},
        {"text": "done", "usage": _usage(30, 4)},
    )
    run = _run(tenants.beta_client, two, tools=[LOOKUP])
    assert run.status == "requires_action"
    run = tenants.beta_client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=run.thread_id,
        tool_outputs=[{"tool_call_id": "call_1", "output": "x"}],
    )  # fmt: skip
    assert run.status == "completed"

    page = _usage_page(tenants.admin, group_by=["project_id", "model"], models=[one, two])
    assert page["object"] == "page" and page["has_more"] is False
    bucket = page["data"][-1]
    assert bucket["object"] == "bucket" and bucket["end_time"] - bucket["start_time"] == 86400
    result = bucket["results"][0]
    assert result["object"] == "organization.usage.completions.result"
    assert result["input_cached_tokens"] == 0
    assert _by_group(page) == {
        (tenants.alpha, one): (24, 7, 2),
        (tenants.beta, two): (50, 7, 2),
    }
    # Not grouped: one result per bucket, project and model null.
    whole = _usage_page(tenants.admin, models=[one, two])
    assert _by_group(whole) == {(None, None): (74, 14, 4)}
    only_beta = _usage_page(tenants.admin, group_by="model", project_ids=[tenants.beta])
    assert (None, two) in _by_group(only_beta) and (None, one) not in _by_group(only_beta)


def test_pass_through_calls_count_under_their_project(tenants: Tenants, scripted: Scripted) -> None:
    model = _model()
    scripted.script(model, {"text": "whole", "usage": _usage(9, 4)}, {"text": "streamed"})
    tenants.alpha_client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hi"}]
    )
    stream = tenants.alpha_client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hi"}], stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    streamed = chunks[-1].usage
    assert streamed is not None
    embedded = tenants.beta_client.embeddings.create(model=model, input=["one", "two words"])

    page = _usage_page(tenants.admin, group_by=["project_id", "model"], models=model)
    assert _by_group(page) == {
        (tenants.alpha, model): (9 + streamed.prompt_tokens, 4 + streamed.completion_tokens, 2)
    }
    page = _usage_page(tenants.admin, "embeddings", group_by=["project_id"], models=model)
    results = _results(page)
    assert [(r["project_id"], r["input_tokens"], r["num_model_requests"]) for r in results] == [
        (tenants.beta, embedded.usage.prompt_tokens, 1)
    ]
    assert results[0]["object"] == "organization.usage.embeddings.result"


def test_minute_buckets_page_through_the_range(tenants: Tenants, scripted: Scripted) -> None:
    model = _model()
    scripted.script(model, {"text": "a", "usage": _usage(3, 1)})
    assert _run(tenants.alpha_client, model).status == "completed"
    now = int(time.time())
    start = now - now % 60 - 9 * 60  # ten whole minutes, the last one now
    first = _usage_page(tenants.admin, start_time=start, bucket_width="1m", limit=4, models=model)
    assert len(first["data"]) == 4 and first["has_more"] is True and first["next_page"]
    assert [b["start_time"] for b in first["data"]] == [start + 60 * i for i in range(4)]
    pages, page = [first], first
    while page["has_more"]:
        page = _usage_page(
            tenants.admin, start_time=start, bucket_width="1m", limit=4, models=model,
            page=page["next_page"],
        )  # fmt: skip
        pages.append(page)
    buckets = [b for p in pages for b in p["data"]]
    assert len(buckets) == 10 and pages[-1]["next_page"] is None
    assert sum(r["input_tokens"] for b in buckets for r in b["results"]) == 3
    assert buckets[-1]["results"] and not buckets[0]["results"]  # empty buckets are listed


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({}, "start_time"),
        ({"start_time": "soon"}, "start_time"),
        ({"start_time": 0, "bucket_width": "1w"}, "bucket_width"),
        ({"start_time": 0, "group_by": "user"}, "group_by"),
        ({"start_time": 0, "bucket_width": "1d", "limit": 32}, "limit"),
        ({"start_time": 0, "limit": 0}, "limit"),
        ({"start_time": 0, "page": "not-a-page"}, "page"),
        ({"start_time": 100, "end_time": 50}, "end_time"),
    ],
)
def test_bad_usage_queries_are_refused_naming_the_parameter(
    tenants: Tenants, params: dict[str, Any], param: str
) -> None:
    answer = tenants.admin.http.get("/usage/completions", params=params)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param


def test_live_runs_lists_runs_in_progress_across_projects(
    tenants: Tenants, scripted: Scripted
) -> None:
    model = _model()
    scripted.script(model, {"tool_calls": [{"id": "call_1", "name": "lookup"}]}, {"text": "ok"})
    run = _run(tenants.beta_client, model, tools=[LOOKUP])
    assert run.status == "requires_action"

    live = tenants.admin.call("GET", "/runs", params={"limit": 100})
    assert live["object"] == "list"
    listed = {item["id"]: item for item in live["data"]}
    assert listed[run.id]["project_id"] == tenants.beta
    assert listed[run.id]["status"] == "requires_action"
    assert listed[run.id]["thread_id"] == run.thread_id and listed[run.id]["object"] == "thread.run"
    waiting = tenants.admin.call("GET", "/runs", params={"status": "in_progress"})
    assert run.id not in {item["id"] for item in waiting["data"]}

    tenants.beta_client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=run.thread_id,
        tool_outputs=[{"tool_call_id": "call_1", "output": "x"}],
    )  # fmt: skip
    wait_for(
        lambda: tenants.admin.call("GET", "/runs", params={"limit": 100})["data"],
        lambda live: run.id not in {item["id"] for item in live},
    )
    bad = tenants.admin.http.get("/runs", params={"status": "completed"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "status"


@pytest.mark.parametrize("path", ["/usage/completions?start_time=0", "/runs"])
def test_project_keys_may_not_read_usage_or_live_runs(tenants: Tenants, path: str) -> None:
    key = tenants.alpha_client.api_key
    answer = httpx.get(
        f"{tenants.base}/v1/organization{path}", headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 401
    assert "insufficient permissions" in answer.json()["error"]["message"]
