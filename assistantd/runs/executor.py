"""Executing one run: claim it, then model turns until it completes, needs tool outputs, or
ends otherwise. Writes happen at state changes only (never per token); every change is
published as an event."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, TypeVar

from assistantd.clock import now
from assistantd.config import Settings
from assistantd.llm.chat import ChatRequest, Usage
from assistantd.llm.errors import UpstreamError
from assistantd.llm.router import ModelRouter, Route
from assistantd.observability import request_ids, run_timings, tracing
from assistantd.observability.run_ends import Execution, run_ended
from assistantd.runs import prompt_images, records, unknown_tools
from assistantd.runs.events import RunEvents
from assistantd.runs.prompt import (
    Budget,
    HistoryMessage,
    HistoryToolTurn,
    Prompt,
    PromptTooLong,
    build_prompt,
)
from assistantd.runs.transitions import Event, close_open_work, finish_run, usage_of
from assistantd.runs.turn import PendingCall, Turn
from assistantd.store import documents, run_rows, run_statuses
from assistantd.store import usage as usage_store
from assistantd.store.blobs import BlobStore
from assistantd.store.database import Database
from assistantd.store.driver_sql import Transaction
from assistantd.store.run_leases import Lease, release
from assistantd.store.run_rows import RunRecord
from assistantd.store.tables import Assistant, RunStep, Thread
from assistantd.store.unlocked_write import NeedsLock, UnlockedWrite
from assistantd.tools.interface import (
    AnnotationContext,
    ServerToolResult,
    ToolCall,
    ToolContext,
)
from assistantd.tools.registry import ServerToolRegistry
from assistantd.wire.messages import text_part

log = logging.getLogger(__name__)
T = TypeVar("T")
INTERNAL_ERROR = "The server had an error while processing this run."
_RUN_ENDED = frozenset(f"thread.run.{status}" for status in run_statuses.TERMINAL)


class RunCancelled(Exception):
    pass


class CompletionBudgetSpent(Exception):
    """The run has used all of its ``max_completion_tokens``."""


@dataclass
class RunState:
    id: str
    tenant: str
    data: dict[str, Any]  # the run as it started executing (ids, model, tools, options)
    engine: dict[str, Any]  # usage totals and the like, as last written
    turn: Turn | None = None
    # Whether the thread had tool calls when this turn's prompt was read: without any (and none
    # in this turn), no annotator has anything to annotate a message with.
    thread_had_tool_calls: bool = True
    # The run as this executor last saved it: with its version (PostgreSQL, saved unlocked),
    # the next change saves without a lock unless the run changed meanwhile.
    record: RunRecord | None = None


class Executor:
    def __init__(
        self,
        db: Database,
        router: ModelRouter,
        events: RunEvents,
        tools: ServerToolRegistry,
        settings: Settings,
        lease: Lease,
        blobs: BlobStore,
    ) -> None:
        self._db = db
        self._blobs = blobs
        self._router = router
        self._events = events
        self._tools = tools
        self._settings = settings
        self._lease = lease
        self._executions: dict[str, Execution] = {}

    async def execute(
        self, run_id: str, cancel: asyncio.Event, claimed: RunRecord | None = None
    ) -> None:
        """``claimed``: the run as the queue claimed it, if it read it."""
        # The run's log lines carry the id of the request that created it (bound in _start).
        token = request_ids.bind(None)
        try:
            await self._execute(run_id, cancel, claimed)
        finally:
            self._executions.pop(run_id, None)
            request_ids.reset(token)

    async def _execute(self, run_id: str, cancel: asyncio.Event, claimed: RunRecord | None) -> None:
        state = await self._start(run_id, claimed)
        if state is None:
            return
        # Under the span of the request that created the run: the client's trace goes on here.
        with tracing.span("run", parent=state.engine.get("trace"), run_id=run_id):
            await self._turns(state, cancel)

    async def _turns(self, state: RunState, cancel: asyncio.Event) -> None:
        run_id = state.id
        try:
            while not await self._turn(state, cancel):
                pass
        except RunCancelled:
            await self._end(state, "cancelled")
        except PromptTooLong:
            await self._end(state, "incomplete", incomplete_reason="max_prompt_tokens")
        except CompletionBudgetSpent:
            await self._end(state, "incomplete", incomplete_reason="max_completion_tokens")
        except UpstreamError as error:
            await self._end(
                state, "failed", last_error={"code": error.code, "message": error.message}
            )
        except Exception:
            log.exception("run %s failed", run_id)
            await self._end(
                state, "failed", last_error={"code": "server_error", "message": INTERNAL_ERROR}
            )

    # --- claiming ---------------------------------------------------------------------------

    async def _start(self, run_id: str, claimed: RunRecord | None) -> RunState | None:
        """Take the queued run (queued → in_progress); a cancelled one is closed instead."""
        state: RunState | None = None

        async def start(session: Transaction, row: RunRecord) -> list[Event] | None:
            nonlocal state
            if not self._lease.can_take(row):
                return None
            request_ids.bind((row.engine or {}).get("request_id"))
            self._executions[run_id] = Execution.begin(row.tenant)
            if row.status == "cancelling":
                return await finish_run(session, row, "cancelled")
            if row.status == "queued" and (row.expires_at or now() + 1) <= now():
                return await finish_run(session, row, "expired")  # waited in the queue too long
            if row.status != "queued":
                return None
            started_at = row.data["started_at"] or now()
            data = {**row.data, "status": "in_progress", "started_at": started_at}
            row.status = "in_progress"
            row.engine = dict(row.engine or {})
            run_timings.started(row.engine)
            self._lease.take(row)
            row.data = data
            state = RunState(run_id, row.tenant, data, dict(row.engine or {}), record=row)
            return [("thread.run.in_progress", data)]

        known = claimed or await run_rows.read_run(self._db, run_id)
        changed = await self._change_run(run_id, known, start)
        if changed is None:
            return None
        self._publish(run_id, changed)
        return state

    async def _change_run(
        self,
        run_id: str,
        known: RunRecord | None,
        change: Callable[[Transaction, RunRecord], Awaitable[T | None]],
    ) -> T | None:
        """``change(transaction, run)`` made and saved with the run: without a lock, in one
        statement, if ``known`` is the run as it still is (PostgreSQL); else under the run's
        lock. None if there is no run, or ``change`` returned None (then nothing is saved)."""
        if known is not None and known.version is not None:
            row, writes = dataclasses.replace(known), UnlockedWrite()
            try:
                result = await change(writes, row)
            except NeedsLock:
                pass  # it reads: under the lock
            else:
                if result is None:
                    return None
                if await run_rows.save_run_unless_changed(self._db, writes, row):
                    return result
        async with self._db.write(orm=False) as session:
            row = await run_rows.lock_run(session, run_id)
            if row is None:
                return None
            result = await change(session, row)
            if result is not None:
                await run_rows.save_run(session, row)
        return result

    # --- one model turn ---------------------------------------------------------------------

    async def _turn(self, state: RunState, cancel: asyncio.Event) -> bool:
        """One model call and what follows it; True when the run has stopped executing."""
        if cancel.is_set():
            raise RunCancelled
        budget = self._budget(state)
        prompt, last_seq = await self._prompt(state, budget)
        route = self._router.resolve(state.data["model"])
        turn = state.turn = Turn(last_message_seq=last_seq)
        await self._until_cancelled(self._stream(state, route, prompt.request, turn), cancel, turn)
        results = await self._run_server_tools(state, prompt, turn, cancel)
        offered = unknown_tools.offered_names(state.data["tools"], prompt.server_tools)
        unknown = unknown_tools.unknown_calls(turn.calls.values(), offered)
        for call_id, answer in unknown_tools.error_results(unknown, offered).items():
            results[call_id] = answer
            if (delta := turn.output_delta(call_id, answer.output)) is not None:
                self._events.publish(state.id, "thread.run.step.delta", delta)
        return await self._finish_turn(state, turn, results, budget, (unknown, offered))

    def _budget(self, state: RunState) -> Budget:
        used = usage_of(state.engine)
        window = self._context_window(state.data["model"])
        max_prompt, max_completion = (
            state.data["max_prompt_tokens"],
            state.data["max_completion_tokens"],
        )
        prompt_left = None if max_prompt is None else max_prompt - used["prompt_tokens"]
        completion_left = (
            None if max_completion is None else max_completion - used["completion_tokens"]
        )
        if prompt_left is not None and prompt_left <= 0:
            raise PromptTooLong
        if completion_left is not None and completion_left <= 0:
            raise CompletionBudgetSpent
        return Budget(window, prompt_left, completion_left)

    def _context_window(self, model: str) -> int:
        try:
            return self._router.resolve(model).context_window
        except UpstreamError:
            return self._settings.default_context_window

    async def _prompt(self, state: RunState, budget: Budget) -> tuple[Prompt, int]:
        messages, steps = await run_rows.thread_history(
            self._db, state.tenant, state.data["thread_id"]
        )
        history = [HistoryMessage(seq, data) for seq, data in messages]
        tool_turns = [
            HistoryToolTurn(message_seq or 0, seq, engine.get("calls", []))
            for seq, message_seq, engine in steps
        ]
        state.thread_had_tool_calls = bool(tool_turns)
        images = await prompt_images.live_images(self._db, state.tenant, history)
        prompt = build_prompt(state.data, history, tool_turns, budget, self._tools, images)
        if images:
            messages = await prompt_images.inline_images(self._blobs, prompt.request.messages)
            prompt.request.messages = messages
        # Accepted on create run and kept off the wire object (as OpenAI), so from the engine's
        # bookkeeping; None is not sent.
        prompt.request.reasoning_effort = state.engine.get("reasoning_effort")
        return prompt, history[-1].seq if history else 0

    async def _stream(
        self, state: RunState, route: Route, request: ChatRequest, turn: Turn
    ) -> None:
        server_types = {
            name: tool["type"] for name, tool in self._prompt_server_tools(state).items()
        }
        began = time.perf_counter()
        try:
            await self._chunks(state, route, request, turn, server_types)
        finally:  # a cancelled call counts too, up to where it was stopped
            turn.model_seconds = time.perf_counter() - began

    async def _chunks(
        self,
        state: RunState,
        route: Route,
        request: ChatRequest,
        turn: Turn,
        server_types: dict[str, str],
    ) -> None:
        async with aclosing(route.stream_chat(request)) as chunks:
            async for chunk in chunks:
                if chunk.text:
                    if turn.message is None:
                        await self._shielded(turn, self._open_message(state, turn))
                    self._events.publish(
                        state.id, "thread.message.delta", turn.message_delta(chunk.text)
                    )
                    turn.text.append(chunk.text)
                for delta in chunk.tool_calls:
                    if turn.tool_step is None:
                        await self._shielded(turn, self._open_tool_step(state, turn))
                    payload = turn.add_call_delta(delta, server_types)
                    if payload is not None:
                        self._events.publish(state.id, "thread.run.step.delta", payload)
                if chunk.finish_reason:
                    turn.finish_reason = chunk.finish_reason
                if chunk.usage is not None:
                    turn.usage = chunk.usage

    def _prompt_server_tools(self, state: RunState) -> dict[str, dict[str, Any]]:
        names: dict[str, dict[str, Any]] = {}
        for tool in state.data["tools"]:
            implementation = self._tools.get(tool["type"]) if tool["type"] != "function" else None
            if implementation is not None:
                names[implementation.chat_function(tool)["function"]["name"]] = tool
        return names

    async def _shielded(self, turn: Turn, write: Coroutine[Any, Any, None]) -> None:
        """A write that a cancellation must not interrupt halfway (it waits for it instead)."""
        turn.pending_write = asyncio.ensure_future(write)
        await asyncio.shield(turn.pending_write)
        turn.pending_write = None

    async def _open_message(self, state: RunState, turn: Turn) -> None:
        """Open the turn's message at its first text: its rows first, then its events, so a
        client that fetches the message as soon as it hears of it finds it."""
        at = now()
        message = records.new_message(state.data, at)
        step = records.new_step(
            state.data,
            {"type": "message_creation", "message_creation": {"message_id": message["id"]}},
            at,
        )
        turn.message_seq = await run_rows.open_message(self._db, state.tenant, message, step)
        turn.message, turn.message_step = message, step
        self._publish(
            state.id,
            [
                ("thread.run.step.created", step),
                ("thread.run.step.in_progress", step),
                ("thread.message.created", message),
                ("thread.message.in_progress", message),
            ],
        )
        self._first_token_out(state)

    async def _open_tool_step(self, state: RunState, turn: Turn) -> None:
        step = records.new_step(state.data, {"type": "tool_calls", "tool_calls": []}, now())
        position = turn.message_seq if turn.message_seq is not None else turn.last_message_seq
        async with self._db.write(orm=False) as session:
            await run_rows.insert_step(session, state.tenant, step, message_seq=position)
        turn.tool_step = step
        self._publish(
            state.id, [("thread.run.step.created", step), ("thread.run.step.in_progress", step)]
        )
        self._first_token_out(state)

    async def _until_cancelled(
        self, work: Awaitable[T], cancel: asyncio.Event, turn: Turn | None
    ) -> T:
        """Run ``work``; if the run is cancelled first, stop it (closing the model's stream)."""
        task = asyncio.ensure_future(work)
        waiter = asyncio.ensure_future(cancel.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            waiter.cancel()
        if task.done():
            return task.result()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if turn is not None and turn.pending_write is not None:
            await asyncio.gather(turn.pending_write, return_exceptions=True)
        raise RunCancelled

    # --- server tools -----------------------------------------------------------------------

    async def _run_server_tools(
        self, state: RunState, prompt: Prompt, turn: Turn, cancel: asyncio.Event
    ) -> dict[str, ServerToolResult]:
        calls = [call for call in turn.calls.values() if call.name in prompt.server_tools]
        if not calls:
            return {}
        resources = await self._tool_resources(state)
        results: dict[str, ServerToolResult] = {}
        for call in calls:
            tool = prompt.server_tools[call.name]
            implementation = self._tools.get(tool["type"])
            assert implementation is not None
            context = ToolContext(
                db=self._db,
                settings=self._settings,
                tenant=state.tenant,
                thread_id=state.data["thread_id"],
                run_id=state.id,
                assistant_id=state.data["assistant_id"],
                model=state.data["model"],
                tool=tool,
                tool_resources=resources,
                include=frozenset(state.engine.get("include") or ()),
            )
            work = implementation.run(ToolCall(call.id, call.name, call.arguments_text), context)
            try:
                results[call.id] = await self._until_cancelled(work, cancel, turn)
            except (RunCancelled, asyncio.CancelledError):
                raise
            except Exception as error:  # the model hears about a failed tool and may recover
                log.warning("server tool %s failed in run %s: %s", tool["type"], state.id, error)
                entry = {"id": call.id, "type": tool["type"], tool["type"]: {}}
                results[call.id] = ServerToolResult(entry, f"The tool failed: {error}")
            delta = turn.result_delta(call.id, results[call.id].step_entry)
            if delta is not None:
                self._events.publish(state.id, "thread.run.step.delta", delta)
        return results

    async def _tool_resources(self, state: RunState) -> dict[str, Any]:
        """The assistant's resources, overridden tool by tool by the thread's, then the run's."""
        async with self._db.read() as session:
            assistant = await documents.fetch(
                session, Assistant, state.tenant, state.data["assistant_id"]
            )
            thread = await documents.fetch(session, Thread, state.tenant, state.data["thread_id"])
        merged: dict[str, Any] = {}
        for source in (assistant, thread):
            if source is not None:
                merged.update(source.data.get("tool_resources") or {})
        merged.update(state.engine.get("tool_resources") or {})
        return merged

    # --- after the model has answered -------------------------------------------------------

    async def _finish_turn(
        self,
        state: RunState,
        turn: Turn,
        results: dict[str, ServerToolResult],
        budget: Budget,
        unknown: tuple[list[PendingCall], list[str]],
    ) -> bool:
        """``unknown``: the turn's calls to tools the run lacks (answered in ``results``), and
        the names the model was offered."""
        used = turn.usage or Usage(0, 0, 0)
        truncated = turn.finish_reason == "length" and budget.completion_tokens is not None
        # Annotated before the write: annotators read what earlier turns committed, and the
        # write stays one of hand-written statements only.
        content = await self._annotated(state, [text_part(turn.text_value)])

        async def close_turn(session: Transaction, row: RunRecord) -> tuple[list[Event], bool]:
            if row.status != "in_progress":
                raise RunCancelled  # cancelling, or the sweeper expired it meanwhile
            events: list[Event] = []
            engine = _add_usage(dict(row.engine or {}), used)
            unknown_calls, offered = unknown
            if unknown_calls:
                engine["unknown_tool_rounds"] = engine.get("unknown_tool_rounds", 0) + 1
            gave_up = engine.get("unknown_tool_rounds", 0) > unknown_tools.MAX_ROUNDS
            row.engine = state.engine = engine
            state.record = row  # its version, once saved unlocked: the next turn's to save
            step_usage = _usage_dict(used)
            if turn.message is not None:
                events += await self._close_message(
                    session, state, turn, content, truncated, step_usage
                )
            if truncated:
                events += await finish_run(
                    session, row, "incomplete", incomplete_reason="max_completion_tokens"
                )
                return events, True
            if turn.calls and unknown_calls and gave_up:
                await self._close_tool_step(
                    session, state, row, turn, results, step_usage, close=False
                )
                error = unknown_tools.given_up(unknown_calls, offered)
                last_error = {"code": error.code, "message": error.message}
                events += await finish_run(session, row, "failed", last_error=last_error)
                return events, True
            if turn.calls:
                events += await self._close_tool_step(
                    session, state, row, turn, results, step_usage
                )
                return events, row.status == "requires_action"
            events += await finish_run(session, row, "completed")
            return events, True

        async def end_turn(session: Transaction, row: RunRecord) -> tuple[list[Event], bool]:
            events, done = await close_turn(session, row)
            self._clock(state, row, turn, stopped=done)
            # Last: on PostgreSQL the minute's usage row stays locked only until the commit.
            tokens = usage_store.Tokens(used.prompt_tokens, used.completion_tokens)
            kind, model = usage_store.COMPLETIONS, state.data["model"]
            await usage_store.add(session, kind, row.tenant, model, now(), tokens)
            return events, done

        ended = await self._change_run(state.id, state.record, end_turn)
        turn.model_counted = True
        if ended is None:
            return True  # the thread was deleted under the run
        events, done = ended
        self._publish(state.id, events)
        return done

    async def _close_message(
        self,
        session: Transaction,
        state: RunState,
        turn: Turn,
        content: list[dict[str, Any]],
        truncated: bool,
        usage: dict[str, int],
    ) -> list[Event]:
        assert turn.message is not None and turn.message_step is not None
        at = now()
        message = {**turn.message, "content": content}
        if truncated:
            message.update(
                status="incomplete", incomplete_at=at, incomplete_details={"reason": "max_tokens"}
            )
        else:
            message.update(status="completed", completed_at=at)
        step = {
            **turn.message_step,
            "status": "completed",
            "completed_at": at,
            "usage": records.ZERO_USAGE if turn.calls else usage,
        }
        await run_rows.replace(session, "messages", state.tenant, message)
        await run_rows.replace(session, "run_steps", state.tenant, step)
        return [
            *_annotation_deltas(message),
            (f"thread.message.{message['status']}", message),
            ("thread.run.step.completed", step),
        ]

    async def _annotated(
        self, state: RunState, content: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The message content after every annotating server tool has had its say."""
        annotators = self._tools.annotators()
        turn = state.turn
        if turn is None or turn.message is None:
            return content
        if not annotators or not (state.thread_had_tool_calls or turn.calls):
            return content
        async with self._db.read() as session:
            steps = await documents.page(
                session, RunStep, state.tenant, documents.PageRequest(limit=100, order="asc"),
                run_id=state.id,
            )  # fmt: skip
            calls = [
                call
                for step in steps.data
                if step["step_details"]["type"] == "tool_calls"
                for call in step["step_details"]["tool_calls"]
            ]
            context = AnnotationContext(session, state.tenant, state.id, calls)
            for annotator in annotators:
                content = await annotator.annotate(content, context)
        return content

    async def _close_tool_step(
        self,
        session: Transaction,
        state: RunState,
        row: RunRecord,
        turn: Turn,
        results: dict[str, ServerToolResult],
        usage: dict[str, int],
        *,
        close: bool = True,
    ) -> list[Event]:
        """Write the step's calls; with ``close``, complete it or put the run in
        requires_action (without, the step stays open for the caller to end the run)."""
        assert turn.tool_step is not None
        calls = [turn.calls[index] for index in sorted(turn.calls)]
        entries = [
            results[c.id].step_entry if c.id in results else _function_entry(c) for c in calls
        ]
        engine_calls = [
            {
                "id": c.id,
                "name": c.name,
                "arguments": c.arguments_text,
                "output": results[c.id].output if c.id in results else None,
                # Engine-side only: the backend refuses its own calls sent back without it.
                **({"extra_content": c.extra_content} if c.extra_content else {}),
            }
            for c in calls
        ]
        pending = [c for c in calls if c.id not in results]
        step = {
            **turn.tool_step,
            "step_details": {"type": "tool_calls", "tool_calls": entries},
            "usage": usage,
        }
        if close and not pending:
            step.update(status="completed", completed_at=now())
        await run_rows.replace_step(session, state.tenant, step, {"calls": engine_calls})
        if not close:
            return []
        if not pending:
            return [("thread.run.step.completed", step)]
        required = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments_text},
            }
            for c in pending
        ]
        data = {
            **row.data,
            "status": "requires_action",
            "required_action": {
                "type": "submit_tool_outputs",
                "submit_tool_outputs": {"tool_calls": required},
            },
        }
        row.status = "requires_action"
        row.engine = {**(row.engine or {}), "pending_step_id": step["id"]}
        release(row)
        row.data = data
        return [("thread.run.requires_action", data)]

    # --- ending abnormally ------------------------------------------------------------------

    async def _end(
        self,
        state: RunState,
        status: str,
        *,
        last_error: dict[str, str] | None = None,
        incomplete_reason: str | None = None,
    ) -> None:
        partial = state.turn.partial_text() if state.turn else {}
        async with self._db.write(orm=False) as session:
            row = await run_rows.lock_run(session, state.id)
            if row is None:
                return
            if row.status == "expired":
                # The sweeper expired it; close what this turn opened after that.
                events = await close_open_work(session, row, "expired", None, partial)
            elif row.status not in run_statuses.EXECUTING:
                return
            else:
                if row.status == "cancelling":
                    status, last_error, incomplete_reason = "cancelled", None, None
                elif status == "cancelled" and (row.expires_at or now() + 1) <= now():
                    # Stopped, not by a cancel: the sweeper found it past its expires_at.
                    status = "expired"
                events = await finish_run(
                    session,
                    row,
                    status,
                    last_error=last_error,
                    incomplete_reason=incomplete_reason,
                    partial_text=partial,
                )
            self._clock(state, row, state.turn, stopped=True)
            await run_rows.save_run(session, row)
        self._publish(state.id, events)

    def _publish(self, run_id: str, events: list[Event]) -> None:
        for name, data in events:
            self._events.publish(run_id, name, data)
        if events and events[-1][0] in _RUN_ENDED:  # a run's end is its last event
            execution = self._executions.get(run_id)
            run_ended(events[-1][1], execution.tenant if execution else "-", execution)

    def _clock(self, state: RunState, row: RunRecord, turn: Turn | None, *, stopped: bool) -> None:
        """Fold into the row's timings (saved with it) the turn's model call, this execution's
        first token, and with ``stopped`` the time it executed."""
        engine = dict(row.engine or {})
        if turn is not None and not turn.model_counted and turn.model_seconds > 0:
            run_timings.model_called(engine, turn.model_seconds)
        if (execution := self._executions.get(state.id)) is not None:
            if execution.first_token is not None:
                run_timings.first_token(engine, execution.first_token - execution.started)
            if stopped:
                run_timings.executed(engine, time.perf_counter() - execution.started)
        row.engine = engine

    def _first_token_out(self, state: RunState) -> None:
        """The turn's first text or tool call is about to go out (its message or step is open)."""
        if (execution := self._executions.get(state.id)) is not None:
            execution.first_token_out(state.data["model"])


def _annotation_deltas(message: dict[str, Any]) -> list[Event]:
    """Streamed text carries no annotations; they arrive in one delta before the message
    completes (and content parts an annotator added, such as images, with it)."""
    parts = []
    for index, part in enumerate(message["content"]):
        if part["type"] != "text":
            parts.append({"index": index, **part})
        elif part["text"]["annotations"]:
            annotations = [{"index": i, **a} for i, a in enumerate(part["text"]["annotations"])]
            parts.append({"index": index, "type": "text", "text": {"annotations": annotations}})
    if not parts:
        return []
    delta = {"id": message["id"], "object": "thread.message.delta", "delta": {"content": parts}}
    return [("thread.message.delta", delta)]


def _function_entry(call: PendingCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments_text, "output": None},
    }


def _add_usage(engine: dict[str, Any], usage: Usage) -> dict[str, Any]:
    totals = usage_of(engine)
    engine["usage"] = {
        "prompt_tokens": totals["prompt_tokens"] + usage.prompt_tokens,
        "completion_tokens": totals["completion_tokens"] + usage.completion_tokens,
    }
    return engine


def _usage_dict(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    }
