"""code_interpreter as a tool of runs: the model calls a ``code_interpreter(code)`` function,
the code runs in the thread's sandboxed session, and what it printed, drew and wrote comes back
as the step's outputs, as files (purpose ``assistants_output``) and as message content.

    tool = CodeInterpreterTool(CodeSessions(settings), blobs)
    app.state.run_engine.server_tools.register(tool)
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from assistantd.store import documents
from assistantd.store.blobs import BlobStore
from assistantd.store.tables import Message
from assistantd.tools.code_interpreter.affinity import MOVED_NOTE, SessionAffinity
from assistantd.tools.code_interpreter.code_argument import ARGUMENT, code_of
from assistantd.tools.code_interpreter.output_files import NewFile, save_outputs
from assistantd.tools.code_interpreter.result import ExecutionResult
from assistantd.tools.code_interpreter.run_inputs import input_files
from assistantd.tools.code_interpreter.sandbox_links import sandbox_links
from assistantd.tools.code_interpreter.sessions import CodeSessions
from assistantd.tools.interface import (
    AnnotationContext,
    ServerToolResult,
    ToolCall,
    ToolContext,
)

log = logging.getLogger(__name__)
NAME = "code_interpreter"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
REMEMBERED_RUNS = 4096
DESCRIPTION = (
    "Run Python 3 code in a stateful, Jupyter-like session: variables, imports and files persist "
    "between calls in this conversation. The user's files are in /mnt/data. numpy, pandas and "
    "matplotlib are installed; there is no internet access. Print what you need to see. Charts "
    "shown with matplotlib (plt.show()) are displayed to the user. Save files for the user in "
    "/mnt/data and link them in your answer as sandbox:/mnt/data/<name>. Each call is stopped "
    "after {timeout:g} seconds."
)


def thread_session_key(tenant: str, thread_id: str) -> str:
    """The ``CodeSessions`` key of a thread's session: one per thread, never shared by tenants."""
    return f"{tenant}:{thread_id}"


class CodeInterpreterTool:
    """The ``ServerTool`` and ``MessageAnnotator`` for ``{"type": "code_interpreter"}``."""

    type = "code_interpreter"

    def __init__(
        self, sessions: CodeSessions, blobs: BlobStore, affinity: SessionAffinity | None = None
    ) -> None:
        self.sessions = sessions
        self._blobs = blobs
        self._affinity = affinity  # with several workers: keep the thread's runs here
        # run id → {path under /mnt/data: file id} of the files its calls wrote, for annotating
        # the links in its messages (kept for the most recent runs only).
        self._run_files: OrderedDict[str, dict[str, str]] = OrderedDict()

    def chat_function(self, tool: dict[str, Any]) -> dict[str, Any]:
        timeout = self.sessions.settings.code_interpreter_exec_timeout_seconds
        parameters = {
            "type": "object",
            "properties": {ARGUMENT: {"type": "string", "description": "The Python code to run."}},
            "required": [ARGUMENT],
        }
        description = DESCRIPTION.format(timeout=timeout)
        function = {"name": NAME, "description": description, "parameters": parameters}
        return {"type": "function", "function": function}

    async def run(self, call: ToolCall, context: ToolContext) -> ServerToolResult:
        code = code_of(call.arguments)
        try:
            return await self._run(call, code, context)
        except Exception as error:  # the step keeps its shape; the model hears what went wrong
            log.exception("code_interpreter failed in run %s", context.run_id)
            logs = f"ToolError: {type(error).__name__}: {error}"
            entry = self._entry(call.id, code, [{"type": "logs", "logs": logs}])
            return ServerToolResult(entry, logs)

    async def _hold(self, thread_id: str, key: str) -> bool:
        """Hold the thread's session here; True if it had one on a worker that is gone."""
        if self._affinity is None:
            return False
        fresh = not self.sessions.live(key)
        moved = await self._affinity.hold(thread_id)
        return moved and fresh

    def _entry(self, call_id: str, code: str, outputs: list[dict[str, Any]]) -> dict[str, Any]:
        return {"id": call_id, "type": self.type, self.type: {"input": code, "outputs": outputs}}

    async def _run(self, call: ToolCall, code: str, context: ToolContext) -> ServerToolResult:
        key = thread_session_key(context.tenant, context.thread_id)
        moved = await self._hold(context.thread_id, key)
        files, tags = await self._new_inputs(context, key)
        result = await self.sessions.execute(key, code, files, tags=tags)
        if moved:
            result.logs = MOVED_NOTE + result.logs
        images, written = await self._keep_outputs(call.id, context, result)
        self._remember(context.run_id, written)
        outputs: list[dict[str, Any]] = []
        logs = _logs(result)
        if logs:
            outputs.append({"type": "logs", "logs": logs})
        outputs += [{"type": "image", "image": {"file_id": file_id}} for file_id in images]
        entry = self._entry(call.id, code, outputs)
        return ServerToolResult(entry, _model_output(logs, len(images), list(written)))

    async def _new_inputs(
        self, context: ToolContext, key: str
    ) -> tuple[dict[str, bytes], dict[str, str]]:
        """The bytes of the inputs the session does not hold yet, and their tags (file ids)."""
        wanted = await input_files(
            context.db, context.tenant, context.thread_id, context.tool_resources
        )
        placed = self.sessions.placed_inputs(key)
        files: dict[str, bytes] = {}
        tags: dict[str, str] = {}
        for file_id, name in wanted.items():
            if placed.get(name) != file_id:
                files[name], tags[name] = await self._blobs.read(file_id), file_id
        return files, tags

    async def _keep_outputs(
        self, call_id: str, context: ToolContext, result: ExecutionResult
    ) -> tuple[list[str], dict[str, str]]:
        """Store images and written files; the image file ids (displayed, then saved images)
        and the written files' ids by their path under /mnt/data."""
        shown = [NewFile(f"{call_id}-{i}.png", png) for i, png in enumerate(result.images)]
        saved = [NewFile(f.name.rsplit("/", 1)[-1], f.data) for f in result.files]
        ids = await save_outputs(context.db, self._blobs, context.tenant, shown + saved)
        shown_ids, saved_ids = ids[: len(shown)], ids[len(shown) :]
        written = {f.name: file_id for f, file_id in zip(result.files, saved_ids, strict=True)}
        saved_images = [i for name, i in written.items() if name.lower().endswith(IMAGE_SUFFIXES)]
        return shown_ids + saved_images, written

    def _remember(self, run_id: str, written: dict[str, str]) -> None:
        files = self._run_files.pop(run_id, {})
        files.update(written)
        self._run_files[run_id] = files
        while len(self._run_files) > REMEMBERED_RUNS:
            self._run_files.popitem(last=False)

    async def annotate(
        self, content: list[dict[str, Any]], context: AnnotationContext
    ) -> list[dict[str, Any]]:
        """``sandbox:/mnt/data/<name>`` links to files this run wrote become ``file_path``
        annotations; images of this run not yet in one of its messages follow the text."""
        written = self._run_files.get(context.run_id, {})
        content = [_annotated_part(part, written) for part in content]
        images = [
            output["image"]["file_id"]
            for call in context.tool_calls
            if call.get("type") == self.type
            for output in call[self.type].get("outputs", [])
            if output["type"] == "image"
        ]
        if images:
            shown = await _images_in_messages(context)
            fresh = [file_id for file_id in dict.fromkeys(images) if file_id not in shown]
            content += [{"type": "image_file", "image_file": {"file_id": i}} for i in fresh]
        return content


def _annotated_part(part: dict[str, Any], written: dict[str, str]) -> dict[str, Any]:
    if part["type"] != "text" or not written:
        return part
    found = [
        link.annotation(written[link.name])
        for link in sandbox_links(part["text"]["value"])
        if link.name in written
    ]
    if not found:
        return part
    annotations = sorted([*part["text"]["annotations"], *found], key=lambda a: a["start_index"])
    return {**part, "text": {**part["text"], "annotations": annotations}}


async def _images_in_messages(context: AnnotationContext) -> set[str]:
    """Image files already placed in the run's earlier messages."""
    messages = await documents.all_data(
        context.session, Message, context.tenant, run_id=context.run_id
    )
    return {
        part["image_file"]["file_id"]
        for data in messages
        for part in data.get("content") or []
        if part.get("type") == "image_file"
    }


def _logs(result: ExecutionResult) -> str:
    """What the code printed, plus why it stopped when the traceback does not already say."""
    logs = result.logs
    error = result.error
    if error is None or error in logs:
        return logs
    if error == "ExecutionTimeout":
        error += ": the code ran past the time limit and was stopped (variables are kept)"
    elif error.startswith("KernelDied"):
        error += " (the next call starts a fresh Python session; files in /mnt/data are kept)"
    return f"{logs.rstrip()}\n{error}".lstrip()


def _model_output(logs: str, images: int, written: list[str]) -> str:
    lines = [logs if logs else "(the code printed nothing)"]
    if images:
        lines.append(f"[{images} image(s) displayed to the user]")
    if written:
        links = ", ".join(f"sandbox:/mnt/data/{name}" for name in written)
        lines.append(f"[files written: {links}]")
    return "\n".join(lines)
