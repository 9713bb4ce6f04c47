"""Runs: create (alone or with a new thread), read, list, modify (metadata), cancel, submit tool
outputs. Execution itself is the run engine's (``assistantd.runs``); these are the rules of the
requests, each in the caller's transaction."""

from __future__ import annotations

from typing import Any

from assistantd.clock import now
from assistantd.errors import InvalidRequest, NotFound
from assistantd.ids import new_id
from assistantd.objects import assistants, messages, threads
from assistantd.objects.thread_lock import find_thread, lock_thread
from assistantd.objects.thread_store import IngestionJob
from assistantd.objects.tool_resources import check_references, tool_resources_to_wire
from assistantd.observability import request_ids, run_timings, tracing
from assistantd.store import documents, run_rows, run_statuses
from assistantd.store.blobs import BlobStore
from assistantd.store.documents import Page, PageRequest
from assistantd.store.run_leases import Lease, release
from assistantd.store.runs import active_run_id
from assistantd.store.sessions import AsyncSession, Transaction
from assistantd.store.tables import Run, RunStep
from assistantd.wire.runs import (
    CreateRun,
    CreateThreadAndRun,
    ModifyRun,
    RunOptions,
    SubmitToolOutputs,
)
from assistantd.wire.threads import CreateThread
from assistantd.wire.tools import NamedToolChoice, response_format_to_wire, tool_to_wire

KIND = "run"


def thread_busy(thread_id: str, run_id: str | None) -> InvalidRequest:
    return InvalidRequest(f"Thread {thread_id} already has an active run {run_id}.")


async def create(
    session: AsyncSession,
    tenant: str,
    thread_id: str,
    body: CreateRun,
    *,
    lease: Lease | None,
    expiry_seconds: int,
    blobs: BlobStore,
    jobs: list[IngestionJob],
    include: list[str] | None = None,
) -> dict[str, Any]:
    """Queue a run on the thread, after adding ``additional_messages`` (all or nothing)."""
    await lock_thread(session, tenant, thread_id)
    if (active := await active_run_id(session, tenant, thread_id)) is not None:
        raise thread_busy(thread_id, active)
    assistant = await _assistant(session, tenant, body.assistant_id)
    for index, message in enumerate(body.additional_messages or ()):
        where = f"additional_messages[{index}]"
        await messages.insert(session, tenant, thread_id, message, blobs, jobs, where)
    data = _new_run(thread_id, assistant, body, body.additional_instructions, expiry_seconds)
    engine = {"include": include or [], "reasoning_effort": body.reasoning_effort}
    await _insert(session, tenant, data, engine, lease)
    return data


def writes_by_statements(body: CreateThreadAndRun) -> bool:
    """Whether creating it reads and writes by hand-written statements alone, so that it may
    run in ``Database.write(orm=False)`` (on PostgreSQL: the assistant's read, then thread,
    messages and run in one statement; two round trips where a session took seven): yes but
    for tool resources, attachments and image files, whose checks and vector stores go
    through the ORM."""
    thread = body.thread or CreateThread()
    if body.tool_resources is not None or thread.tool_resources is not None:
        return False
    return not any(
        message.attachments
        or (
            not isinstance(message.content, str)
            and any(part.type == "image_file" for part in message.content)
        )
        for message in thread.messages
    )


async def create_with_thread(
    session: Transaction,
    tenant: str,
    body: CreateThreadAndRun,
    *,
    lease: Lease | None,
    expiry_seconds: int,
    blobs: BlobStore,
    jobs: list[IngestionJob],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new thread (with its messages) and a queued run on it; returns (thread, run).
    ``session``: an ORM session unless ``writes_by_statements(body)``."""
    assistant = await _assistant(session, tenant, body.assistant_id)
    await check_references(session, tenant, body.tool_resources)
    new_thread = body.thread or CreateThread()
    thread = await threads.create(session, tenant, new_thread, blobs, jobs, "thread")
    data = _new_run(thread["id"], assistant, body, None, expiry_seconds)
    engine = {"tool_resources": tool_resources_to_wire(body.tool_resources)}
    await _insert(session, tenant, data, engine, lease)
    return thread, data


async def get_row(session: AsyncSession, tenant: str, thread_id: str, run_id: str) -> Run:
    row = await documents.fetch(session, Run, tenant, run_id, thread_id=thread_id)
    if row is None:
        raise NotFound.object(KIND, run_id)
    return row


async def lock_row(
    session: AsyncSession, tenant: str, thread_id: str, run_id: str
) -> run_rows.RunRecord:
    """The run, locked to be changed and then saved with ``run_rows.save_run``."""
    row = await run_rows.lock_run(session, run_id, tenant=tenant, thread_id=thread_id)
    if row is None:
        raise NotFound.object(KIND, run_id)
    return row


async def get(session: AsyncSession, tenant: str, thread_id: str, run_id: str) -> dict[str, Any]:
    return (await get_row(session, tenant, thread_id, run_id)).data


async def list_page(
    session: AsyncSession, tenant: str, thread_id: str, request: PageRequest
) -> Page:
    await find_thread(session, tenant, thread_id)
    return await documents.page(session, Run, tenant, request, thread_id=thread_id)


async def project_page(session: AsyncSession, tenant: str, request: PageRequest) -> Page:
    """The tenant's runs in all its threads (``GET /v1/runs``, beyond OpenAI)."""
    return await documents.page(session, Run, tenant, request)


async def modify(
    session: AsyncSession, tenant: str, thread_id: str, run_id: str, body: ModifyRun
) -> dict[str, Any]:
    row = await lock_row(session, tenant, thread_id, run_id)
    data = dict(row.data)
    if body.metadata is not None:
        data["metadata"] = body.metadata
    row.data = data
    await run_rows.save_run(session, row)
    return data


async def cancel(session: AsyncSession, tenant: str, thread_id: str, run_id: str) -> dict[str, Any]:
    """Ask the run to stop: it is ``cancelling`` until the engine has stopped it."""
    row = await lock_row(session, tenant, thread_id, run_id)
    if row.status not in run_statuses.ACTIVE:
        raise InvalidRequest(f"Cannot cancel run with status '{row.status}'.")
    if row.status == "cancelling":
        return row.data
    data = {**row.data, "status": "cancelling"}
    row.status = "cancelling"
    row.data = data
    await run_rows.save_run(session, row)
    return data


async def submit_tool_outputs(
    session: AsyncSession,
    tenant: str,
    thread_id: str,
    run_id: str,
    body: SubmitToolOutputs,
    lease: Lease | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Record every pending call's output and queue the run again; returns (run, the completed
    tool_calls step)."""
    row = await lock_row(session, tenant, thread_id, run_id)
    if row.status != "requires_action":
        raise InvalidRequest(f'Runs in status "{row.status}" do not accept tool outputs.')
    pending = [
        call["id"] for call in row.data["required_action"]["submit_tool_outputs"]["tool_calls"]
    ]
    outputs = _outputs_by_call(body, pending)
    engine = dict(row.engine or {})
    step = await _fill_outputs(session, tenant, engine.pop("pending_step_id"), outputs)
    data = {**row.data, "status": "queued", "required_action": None}
    row.status = "queued"
    row.engine = engine
    if lease is None:
        release(row)
    else:
        lease.take(row)
    row.data = data
    await run_rows.save_run(session, row)
    return data, step


def _outputs_by_call(body: SubmitToolOutputs, pending: list[str]) -> dict[str, str]:
    outputs: dict[str, str] = {}
    for position, item in enumerate(body.tool_outputs):
        if item.tool_call_id not in pending:
            raise InvalidRequest(
                f"Invalid tool_call_id: '{item.tool_call_id}' is not a pending tool call of this "
                f"run (pending: {pending}).",
                f"tool_outputs[{position}].tool_call_id",
            )
        if item.tool_call_id in outputs:
            raise InvalidRequest(
                f"Duplicate tool_call_id: '{item.tool_call_id}'.",
                f"tool_outputs[{position}].tool_call_id",
            )
        outputs[item.tool_call_id] = item.output
    missing = [call_id for call_id in pending if call_id not in outputs]
    if missing:
        raise InvalidRequest(
            f"Expected tool outputs for call_ids {pending}, got {list(outputs)}; missing "
            f"{missing}. Submit every output in one request.",
            "tool_outputs",
        )
    return outputs


async def _fill_outputs(
    session: AsyncSession, tenant: str, step_id: str, outputs: dict[str, str]
) -> dict[str, Any]:
    step = await documents.fetch_for_update(session, RunStep, tenant, step_id)
    assert step is not None, "a requires_action run always has its tool_calls step"
    data = dict(step.data)
    details = dict(data["step_details"])
    entries = []
    for entry in details["tool_calls"]:
        if entry["type"] == "function" and entry["id"] in outputs:
            entry = {**entry, "function": {**entry["function"], "output": outputs[entry["id"]]}}
        entries.append(entry)
    details["tool_calls"] = entries
    data.update(step_details=details, status="completed", completed_at=now())
    documents.replace_data(step, data)
    engine = dict(step.engine or {})
    engine["calls"] = [
        {**call, "output": outputs.get(call["id"], call.get("output"))}
        for call in engine.get("calls", [])
    ]
    step.engine = engine
    return data


async def _assistant(session: Transaction, tenant: str, assistant_id: str) -> dict[str, Any]:
    try:
        return await assistants.get(session, tenant, assistant_id)
    except NotFound:
        raise NotFound.object("assistant", assistant_id, "assistant_id") from None


def _new_run(
    thread_id: str,
    assistant: dict[str, Any],
    body: RunOptions,
    additional_instructions: str | None,
    expiry_seconds: int,
) -> dict[str, Any]:
    created_at = now()
    tools = [tool_to_wire(t) for t in body.tools] if body.tools is not None else assistant["tools"]
    _check_tool_choice(body, tools)
    instructions = body.instructions if body.instructions is not None else assistant["instructions"]
    if additional_instructions:
        instructions = "\n\n".join(filter(None, [instructions, additional_instructions]))
    truncation = body.truncation_strategy
    return {
        "id": new_id("run_"),
        "object": "thread.run",
        "created_at": created_at,
        "thread_id": thread_id,
        "assistant_id": assistant["id"],
        "status": "queued",
        "required_action": None,
        "last_error": None,
        "expires_at": created_at + expiry_seconds,
        "started_at": None,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": None,
        "incomplete_details": None,
        "model": body.model or assistant["model"],
        "instructions": instructions or "",
        "tools": tools,
        "metadata": body.metadata or {},
        "usage": None,
        "temperature": _first(body.temperature, assistant.get("temperature"), 1.0),
        "top_p": _first(body.top_p, assistant.get("top_p"), 1.0),
        "max_prompt_tokens": body.max_prompt_tokens,
        "max_completion_tokens": body.max_completion_tokens,
        "truncation_strategy": (
            truncation.model_dump() if truncation else {"type": "auto", "last_messages": None}
        ),
        "response_format": (
            response_format_to_wire(body.response_format)
            if body.response_format is not None
            else assistant.get("response_format", "auto")
        ),
        "tool_choice": _tool_choice_to_wire(body.tool_choice),
        "parallel_tool_calls": True
        if body.parallel_tool_calls is None
        else body.parallel_tool_calls,
    }


def _first(*values: Any) -> Any:
    return next(value for value in values if value is not None)


def _tool_choice_to_wire(choice: Any) -> Any:
    if choice is None:
        return "auto"
    if isinstance(choice, NamedToolChoice):
        return choice.model_dump(exclude_none=True)
    return choice


def _check_tool_choice(body: RunOptions, tools: list[dict[str, Any]]) -> None:
    choice = body.tool_choice
    if not isinstance(choice, NamedToolChoice):
        return
    if choice.type == "function":
        assert choice.function is not None
        names = {t["function"]["name"] for t in tools if t["type"] == "function"}
        if choice.function.name not in names:
            raise InvalidRequest(
                f"Invalid value for 'tool_choice': no function named '{choice.function.name}' "
                "among the run's tools.",
                "tool_choice",
            )
    elif choice.type not in {t["type"] for t in tools}:
        raise InvalidRequest(
            f"Invalid value for 'tool_choice': the run has no {choice.type} tool.", "tool_choice"
        )


async def _insert(
    session: Transaction,
    tenant: str,
    data: dict[str, Any],
    engine: dict[str, Any],
    lease: Lease | None,
) -> None:
    # The request that created the run: its worker's log lines (wherever it runs) carry its id.
    if (request_id := request_ids.current()) is not None:
        engine = {**engine, "request_id": request_id}
    # And its trace (the request's span), which the run's execution continues.
    if trace := tracing.carrier():
        engine = {**engine, "trace": trace}
    engine = run_timings.created(engine)  # where the run's time goes starts counting here
    await documents.add(
        session,
        Run,
        id=data["id"],
        tenant=tenant,
        created_at=data["created_at"],
        thread_id=data["thread_id"],
        status="queued",
        expires_at=data["expires_at"],
        engine=engine,
        data=data,
        # As Lease.take; None: held by nobody until a worker claims it.
        claimed_by=lease.worker if lease else None,
        lease_expires_at=lease.until() if lease else None,
    )


async def include_of(session: AsyncSession, tenant: str, run_id: str) -> frozenset[str]:
    """The ``include[]`` values the run was created with."""
    row = await documents.fetch(session, Run, tenant, run_id)
    return frozenset((row.engine or {}).get("include") or ()) if row is not None else frozenset()
