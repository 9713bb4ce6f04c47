"""file_search inside runs, through the official SDK: the tool_calls step and its results (content
only with ``include[]``), what the model is given, ``file_citation`` annotations on the answer,
message attachments in the thread's own vector store, and waiting for files still indexed.

The embedder is the scripted model's hashed bag-of-words, served through a gate that can hold
back a document's embedding requests, so a file can be kept "in progress" for as long as a test
needs (the embedding service is the edge of the world here).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import openai
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from assistantd.scripted_model.embeddings import embed
from tests.conftest import make_settings
from tests.harness.databases import fresh_database
from tests.harness.server import free_port, running_server
from tests.runs.conftest import Scripted
from tests.vector_stores.conftest import embedding_settings, wait_until

CONTENT = "step_details.tool_calls[*].file_search.results[*].content"
WAIT_SECONDS = 4.0  # the server's bound on waiting for files still being indexed
Upload = Callable[[str, str], str]

REFUNDS = (
    "Refund policy. Customers receive a refund within 14 days of returning the item. "
    "Refunds go back to the original card."
)
SHIPPING = (
    "Shipping policy. Parcels leave the warehouse every weekday and arrive by courier. "
    "Tracking numbers are emailed."
)


# --- an embeddings endpoint whose answers for chosen words wait for a gate ---------------------


class GatedEmbeddings:
    def __init__(self) -> None:
        self._gates: dict[str, threading.Event] = {}

    def hold(self, word: str) -> threading.Event:
        """Hold back embedding requests whose input contains ``word`` until the event is set."""
        return self._gates.setdefault(word, threading.Event())

    def open_all(self) -> None:
        for gate in self._gates.values():
            gate.set()

    async def embeddings(self, request: Request) -> Response:
        body = await request.json()
        raw = body["input"]
        texts = [raw] if isinstance(raw, str) else list(raw)
        for word, gate in list(self._gates.items()):
            while any(word in text for text in texts) and not gate.is_set():
                await asyncio.sleep(0.02)
        dimensions = body.get("dimensions") or 256
        data = [
            {"object": "embedding", "index": i, "embedding": embed(text, dimensions)}
            for i, text in enumerate(texts)
        ]
        usage = {"prompt_tokens": 0, "total_tokens": 0}
        return JSONResponse({"object": "list", "data": data, "model": "gated", "usage": usage})


@contextmanager
def serving(app: Starlette) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="gated-embeddings", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the gated embeddings server did not start")
        threading.Event().wait(0.01)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def gated() -> Iterator[tuple[GatedEmbeddings, str]]:
    gate = GatedEmbeddings()
    app = Starlette(routes=[Route("/v1/embeddings", gate.embeddings, methods=["POST"])])
    with serving(app) as url:
        yield gate, url
        gate.open_all()  # let held requests finish so the servers can stop


@pytest.fixture(scope="session")
def server(
    backend: str,
    scripted_model_url: str,
    gated: tuple[GatedEmbeddings, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp(f"file-search-{backend}")
    options = embedding_settings(scripted_model_url) | {
        "embedding_base_url": gated[1],
        "file_search_wait_seconds": WAIT_SECONDS,
        # Files reach the worker when they are added, not by its periodic look for strays.
        "ingestion_sweep_interval_seconds": 3600,
    }
    with (
        fresh_database(backend, data_dir) as url,
        running_server(make_settings(data_dir, url, **options)) as base,
    ):
        yield base


@pytest.fixture(scope="session")
def scripted(scripted_model_url: str) -> Scripted:
    return Scripted(scripted_model_url)


@pytest.fixture
def model() -> str:
    return f"model-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def upload(client: openai.OpenAI) -> Upload:
    def make(name: str, text: str) -> str:
        return client.files.create(file=(name, text.encode()), purpose="assistants").id

    return make


def indexed_store(client: openai.OpenAI, *file_ids: str) -> str:
    store = client.vector_stores.create(file_ids=list(file_ids))
    wait_until(
        lambda: client.vector_stores.retrieve(store.id).file_counts.completed == len(file_ids),
        "the store to be indexed",
    )
    return store.id


def search_then_answer(scripted: Scripted, model: str, queries: list[str], answer: str) -> None:
    scripted.script(
        model,
        {"tool_calls": [{"name": "file_search", "arguments": {"queries": queries}}]},
        {"text": answer},
    )


def tool_step(client: openai.OpenAI, thread_id: str, run_id: str, **options: Any) -> Any:
    steps = client.beta.threads.runs.steps.list(
        thread_id=thread_id, run_id=run_id, order="asc", **options
    ).data
    [step] = [s for s in steps if s.type == "tool_calls"]
    return step


def citations(client: openai.OpenAI, thread_id: str, run_id: str) -> tuple[str, list[Any]]:
    [message] = client.beta.threads.messages.list(thread_id=thread_id, run_id=run_id).data
    [part] = message.content
    return part.text.value, part.text.annotations


# --- the tool over an assistant's store ----------------------------------------------------


def test_search_step_results_and_citation(
    client: openai.OpenAI, scripted: Scripted, model: str, upload: Upload
) -> None:
    refunds, shipping = upload("refunds.txt", REFUNDS), upload("shipping.txt", SHIPPING)
    store_id = indexed_store(client, refunds, shipping)
    assistant = client.beta.assistants.create(
        model=model,
        tools=[{"type": "file_search"}],
        tool_resources={"file_search": {"vector_store_ids": [store_id]}},
    )
    thread = client.beta.threads.create(
        messages=[{"role": "user", "content": "How long do refunds take?"}]
    )
    answer = "Refunds arrive within 14 days 【0:0†refunds.txt】."
    search_then_answer(scripted, model, ["refund within days"], answer)

    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, include=[CONTENT]
    )
    assert run.status == "completed"

    step = tool_step(client, thread.id, run.id)
    assert step.status == "completed"
    [call] = step.step_details.tool_calls
    assert call.type == "file_search"
    assert call.file_search.ranking_options.ranker == "auto"
    assert call.file_search.ranking_options.score_threshold == 0.0
    first = call.file_search.results[0]
    assert (first.file_id, first.file_name) == (refunds, "refunds.txt")
    assert 0.0 <= first.score <= 1.0
    assert all(result.content is None for result in call.file_search.results)

    with_content = tool_step(client, thread.id, run.id, include=[CONTENT])
    [text] = with_content.step_details.tool_calls[0].file_search.results[0].content
    assert text.type == "text" and "within 14 days" in text.text
    retrieved = client.beta.threads.runs.steps.retrieve(
        step.id, thread_id=thread.id, run_id=run.id, include=[CONTENT]
    )
    assert retrieved.step_details.tool_calls[0].file_search.results[0].content[0].text == text.text
    plain = client.beta.threads.runs.steps.retrieve(step.id, thread_id=thread.id, run_id=run.id)
    assert plain.step_details.tool_calls[0].file_search.results[0].content is None

    request = scripted.requests(model)[-1]
    [tool_message] = [m for m in request["messages"] if m["role"] == "tool"]
    assert "【0:0†refunds.txt】\n" + text.text in tool_message["content"]
    [function] = [t["function"] for t in request["tools"] if t["function"]["name"] == "file_search"]
    assert "queries" in function["parameters"]["properties"]

    value, annotations = citations(client, thread.id, run.id)
    [citation] = annotations
    assert citation.type == "file_citation"
    assert citation.text == "【0:0†refunds.txt】"
    assert value[citation.start_index : citation.end_index] == citation.text
    assert citation.file_citation.file_id == refunds


def test_query_matching_nothing_finds_nothing_and_cites_nothing(
    client: openai.OpenAI, scripted: Scripted, model: str, upload: Upload
) -> None:
    store_id = indexed_store(client, upload("refunds.txt", REFUNDS))
    assistant = client.beta.assistants.create(
        model=model,
        tools=[
            {"type": "file_search", "file_search": {"ranking_options": {"score_threshold": 0.9}}}
        ],
        tool_resources={"file_search": {"vector_store_ids": [store_id]}},
    )
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Any zebras?"}])
    search_then_answer(scripted, model, ["zebra migration"], "Nothing on zebras 【0:0†made-up】.")

    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed"
    [call] = tool_step(client, thread.id, run.id).step_details.tool_calls
    assert call.file_search.results == []
    assert call.file_search.ranking_options.score_threshold == 0.9
    tool_message = scripted.requests(model)[-1]["messages"][-1]
    assert tool_message["role"] == "tool" and "No results were found." in tool_message["content"]
    value, annotations = citations(client, thread.id, run.id)
    assert "【0:0†made-up】" in value and annotations == []


def test_second_search_in_a_thread_is_numbered_after_the_first(
    client: openai.OpenAI, scripted: Scripted, model: str, upload: Upload
) -> None:
    refunds, shipping = upload("refunds.txt", REFUNDS), upload("shipping.txt", SHIPPING)
    store_id = indexed_store(client, refunds, shipping)
    assistant = client.beta.assistants.create(
        model=model,
        tools=[{"type": "file_search"}],
        tool_resources={"file_search": {"vector_store_ids": [store_id]}},
    )
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Refunds?"}])
    search_then_answer(scripted, model, ["refund"], "14 days 【0:0†refunds.txt】.")
    client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    client.beta.threads.messages.create(thread.id, role="user", content="And shipping?")
    # The answer cites this run's result and, again, the first run's.
    answer = "Weekdays 【1:0†shipping.txt】; refunds 【0:0†refunds.txt】."
    search_then_answer(scripted, model, ["shipping parcels courier"], answer)

    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed"
    assert "【1:0†shipping.txt】" in scripted.requests(model)[-1]["messages"][-1]["content"]
    value, annotations = citations(client, thread.id, run.id)
    assert [(a.text, a.file_citation.file_id) for a in annotations] == [
        ("【1:0†shipping.txt】", shipping),
        ("【0:0†refunds.txt】", refunds),
    ]
    assert all(value[a.start_index : a.end_index] == a.text for a in annotations)


# --- attachments go into the thread's own store ------------------------------------------------


def test_thread_attachment_gets_a_thread_store_the_run_searches(
    client: openai.OpenAI, scripted: Scripted, model: str, upload: Upload
) -> None:
    file_id = upload("refunds.txt", REFUNDS)
    assistant = client.beta.assistants.create(model=model, tools=[{"type": "file_search"}])
    thread = client.beta.threads.create(
        messages=[
            {
                "role": "user",
                "content": "How long do refunds take?",
                "attachments": [{"file_id": file_id, "tools": [{"type": "file_search"}]}],
            }
        ]
    )
    [store_id] = thread.tool_resources.file_search.vector_store_ids
    assert client.beta.threads.retrieve(thread.id).tool_resources.file_search.vector_store_ids == [
        store_id
    ]
    store = client.vector_stores.retrieve(store_id)
    assert store.name == f"Vector store for {thread.id}"
    assert (store.expires_after.anchor, store.expires_after.days) == ("last_active_at", 7)
    assert store.file_counts.total == 1
    search_then_answer(scripted, model, ["refund days"], "14 days 【0:0†refunds.txt】.")

    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed"
    [call] = tool_step(client, thread.id, run.id).step_details.tool_calls
    assert call.file_search.results[0].file_id == file_id
    _, [citation] = citations(client, thread.id, run.id)
    assert citation.file_citation.file_id == file_id


def test_message_and_run_attachments_share_the_thread_store(
    client: openai.OpenAI, scripted: Scripted, model: str, upload: Upload
) -> None:
    refunds, shipping = upload("refunds.txt", REFUNDS), upload("shipping.txt", SHIPPING)
    assistant = client.beta.assistants.create(model=model, tools=[{"type": "file_search"}])
    thread = client.beta.threads.create()
    assert thread.tool_resources.file_search is None
    attach = [{"type": "file_search"}]
    client.beta.threads.messages.create(
        thread.id,
        role="user",
        content="Refunds?",
        attachments=[{"file_id": refunds, "tools": attach}],
    )
    [store_id] = client.beta.threads.retrieve(thread.id).tool_resources.file_search.vector_store_ids
    search_then_answer(scripted, model, ["shipping courier"], "By courier 【0:0†shipping.txt】.")

    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id,
        assistant_id=assistant.id,
        additional_messages=[
            {
                "role": "user",
                "content": "And shipping?",
                "attachments": [{"file_id": shipping, "tools": attach}],
            }
        ],
    )
    assert run.status == "completed"
    thread_now = client.beta.threads.retrieve(thread.id)
    assert thread_now.tool_resources.file_search.vector_store_ids == [store_id]
    assert client.vector_stores.retrieve(store_id).file_counts.total == 2
    [call] = tool_step(client, thread.id, run.id).step_details.tool_calls
    assert call.file_search.results[0].file_id == shipping


def test_create_thread_and_run_attachments_are_searched(
    client: openai.OpenAI, scripted: Scripted, model: str, upload: Upload
) -> None:
    refunds = upload("refunds.txt", REFUNDS)
    assistant = client.beta.assistants.create(model=model, tools=[{"type": "file_search"}])
    attachment = {"file_id": refunds, "tools": [{"type": "file_search"}]}
    search_then_answer(scripted, model, ["refund days"], "14 days 【0:0†refunds.txt】.")

    run = client.beta.threads.create_and_run_poll(
        assistant_id=assistant.id,
        thread={"messages": [{"role": "user", "content": "Refunds?", "attachments": [attachment]}]},
    )
    assert run.status == "completed"
    [call] = tool_step(client, run.thread_id, run.id).step_details.tool_calls
    assert [r.file_id for r in call.file_search.results] == [refunds]


@pytest.mark.parametrize(
    ("model_prefix", "set_to", "expected"),
    [("model", None, 7), ("gpt-3.5-turbo", None, 5), ("gpt-3.5-turbo", 6, 6), ("model", 2, 2)],
)
def test_max_num_results_defaults_by_model_as_the_hosted_api(
    client: openai.OpenAI,
    scripted: Scripted,
    upload: Upload,
    model_prefix: str,
    set_to: int | None,
    expected: int,
) -> None:
    """20 results unless set, 5 for gpt-3.5-turbo models (7 files here: fewer than 20)."""
    model = f"{model_prefix}-{uuid.uuid4().hex[:10]}"
    file_ids = [upload(f"policy{n}.txt", f"{REFUNDS} Policy number {n}.") for n in range(7)]
    options = {} if set_to is None else {"file_search": {"max_num_results": set_to}}
    assistant = client.beta.assistants.create(
        model=model,
        tools=[{"type": "file_search", **options}],
        tool_resources={"file_search": {"vector_store_ids": [indexed_store(client, *file_ids)]}},
    )
    search_then_answer(scripted, model, ["refund"], "Refunds.")
    run = client.beta.threads.create_and_run_poll(
        assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": "Refunds?"}]}
    )
    assert run.status == "completed"
    [call] = tool_step(client, run.thread_id, run.id).step_details.tool_calls
    assert len(call.file_search.results) == expected


def test_the_assistants_store_is_searched_with_the_threads(
    client: openai.OpenAI, scripted: Scripted, model: str, upload: Upload
) -> None:
    refunds, shipping = upload("refunds.txt", REFUNDS), upload("shipping.txt", SHIPPING)
    assistant = client.beta.assistants.create(
        model=model,
        tools=[{"type": "file_search"}],
        tool_resources={"file_search": {"vector_store_ids": [indexed_store(client, refunds)]}},
    )
    attachment = {"file_id": shipping, "tools": [{"type": "file_search"}]}
    thread = client.beta.threads.create(
        messages=[{"role": "user", "content": "Refunds and shipping?", "attachments": [attachment]}]
    )
    search_then_answer(scripted, model, ["refund", "shipping courier"], "Both.")

    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed"
    [call] = tool_step(client, thread.id, run.id).step_details.tool_calls
    assert {r.file_id for r in call.file_search.results} == {refunds, shipping}


def test_attachment_for_code_interpreter_only_makes_no_store(
    client: openai.OpenAI, upload: Upload
) -> None:
    file_id = upload("data.csv", "a,b\n1,2\n")
    thread = client.beta.threads.create(
        messages=[
            {
                "role": "user",
                "content": "Plot it",
                "attachments": [{"file_id": file_id, "tools": [{"type": "code_interpreter"}]}],
            }
        ]
    )
    assert thread.tool_resources.file_search is None


def test_attachment_of_a_missing_file_is_refused(client: openai.OpenAI) -> None:
    thread = client.beta.threads.create()
    with pytest.raises(openai.APIStatusError) as raised:
        client.beta.threads.messages.create(
            thread.id,
            role="user",
            content="Read this",
            attachments=[{"file_id": "file-missing", "tools": [{"type": "file_search"}]}],
        )
    assert raised.value.status_code in (400, 404)
    assert client.beta.threads.messages.list(thread.id).data == []
    assert client.beta.threads.retrieve(thread.id).tool_resources.file_search is None


# --- files still being indexed -----------------------------------------------------------------


def test_a_store_still_indexing_is_waited_for(
    client: openai.OpenAI,
    scripted: Scripted,
    model: str,
    upload: Upload,
    gated: tuple[GatedEmbeddings, str],
) -> None:
    word = f"held{uuid.uuid4().hex[:8]}"
    gate = gated[0].hold(word)
    file_id = upload("late.txt", f"The {word} warranty lasts five years on every kettle.")
    store = client.vector_stores.create(file_ids=[file_id])
    assistant = client.beta.assistants.create(
        model=model,
        tools=[{"type": "file_search"}],
        tool_resources={"file_search": {"vector_store_ids": [store.id]}},
    )
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Warranty?"}])
    search_then_answer(scripted, model, ["kettle warranty years"], "Five 【0:0†late.txt】.")
    run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)

    # The tool has been called while the file is held back in indexing …
    wait_until(lambda: _has_tool_step(client, thread.id, run.id), "the file_search call")
    assert client.vector_stores.files.retrieve(file_id, vector_store_id=store.id).status == (
        "in_progress"
    )
    assert client.beta.threads.runs.retrieve(run.id, thread_id=thread.id).status == "in_progress"
    gate.set()  # … and finds the file once it is indexed.

    run = client.beta.threads.runs.poll(run.id, thread_id=thread.id)
    assert run.status == "completed"
    [call] = tool_step(client, thread.id, run.id).step_details.tool_calls
    assert [r.file_id for r in call.file_search.results] == [file_id]


def test_waiting_for_indexing_is_bounded(
    client: openai.OpenAI,
    scripted: Scripted,
    model: str,
    upload: Upload,
    gated: tuple[GatedEmbeddings, str],
) -> None:
    word = f"stuck{uuid.uuid4().hex[:8]}"
    gate = gated[0].hold(word)  # opened only once the run is over
    file_id = upload("stuck.txt", f"The {word} manual covers the toaster.")
    store = client.vector_stores.create(file_ids=[file_id])
    assistant = client.beta.assistants.create(
        model=model,
        tools=[{"type": "file_search"}],
        tool_resources={"file_search": {"vector_store_ids": [store.id]}},
    )
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Toaster?"}])
    search_then_answer(scripted, model, ["toaster manual"], "I could not find it yet.")

    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed"
    [call] = tool_step(client, thread.id, run.id).step_details.tool_calls
    assert call.file_search.results == []
    tool_message = scripted.requests(model)[-1]["messages"][-1]["content"]
    assert "1 file(s) were still being indexed" in tool_message
    gate.set()  # frees the ingestion worker that held the file


def _has_tool_step(client: openai.OpenAI, thread_id: str, run_id: str) -> bool:
    steps = client.beta.threads.runs.steps.list(thread_id=thread_id, run_id=run_id).data
    return any(step.type == "tool_calls" for step in steps)


# --- streaming ---------------------------------------------------------------------------------


def _cited_refunds_run(
    client: openai.OpenAI, scripted: Scripted, model: str, upload: Upload
) -> tuple[str, str, str]:
    """An indexed refunds file, an assistant searching it and a thread asking about refunds,
    with the model scripted to search and then cite the file; returns their ids."""
    refunds = upload("refunds.txt", REFUNDS)
    store_id = indexed_store(client, refunds)
    assistant = client.beta.assistants.create(
        model=model,
        tools=[{"type": "file_search"}],
        tool_resources={"file_search": {"vector_store_ids": [store_id]}},
    )
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Refunds?"}])
    search_then_answer(scripted, model, ["refund days"], "Within 14 days 【0:0†refunds.txt】.")
    return refunds, assistant.id, thread.id


def test_streamed_answer_carries_the_citation_in_a_delta(
    client: openai.OpenAI, scripted: Scripted, model: str, upload: Upload
) -> None:
    refunds, assistant_id, thread_id = _cited_refunds_run(client, scripted, model, upload)

    with client.beta.threads.runs.stream(thread_id=thread_id, assistant_id=assistant_id) as stream:
        events = list(stream)
        [message] = stream.get_final_messages()
    deltas = [
        annotation
        for event in events
        if event.event == "thread.message.delta"
        for part in event.data.delta.content or []
        if part.type == "text" and part.text.annotations
        for annotation in part.text.annotations
    ]
    [streamed] = deltas
    assert streamed.type == "file_citation" and streamed.file_citation.file_id == refunds
    [citation] = message.content[0].text.annotations
    value = message.content[0].text.value
    assert value[citation.start_index : citation.end_index] == "【0:0†refunds.txt】"
    assert (citation.text, citation.file_citation.file_id) == ("【0:0†refunds.txt】", refunds)


@pytest.mark.parametrize("include", [[], [CONTENT]], ids=["without-include", "with-include"])
def test_streamed_steps_show_result_contents_only_when_included(
    client: openai.OpenAI, scripted: Scripted, model: str, upload: Upload, include: list[str]
) -> None:
    _, assistant_id, thread_id = _cited_refunds_run(client, scripted, model, upload)

    with client.beta.threads.runs.stream(
        thread_id=thread_id, assistant_id=assistant_id, include=include
    ) as stream:
        events = list(stream)
    [completed] = [
        event.data
        for event in events
        if event.event == "thread.run.step.completed" and event.data.type == "tool_calls"
    ]
    [call] = completed.step_details.tool_calls
    assert call.file_search.results, "the search found the document"
    contents = [result.content for result in call.file_search.results]
    if include:
        assert all(content and content[0].text for content in contents)
    else:
        assert contents == [None] * len(contents)
