"""The dialects of OpenAI's chat-completions stream that real backends speak, for the scripted
model to speak per model name (``POST /_script`` with ``"dialect"``, or ``--dialect``).

A dialect is a handful of small functions, each one difference from OpenAI's stream: how tool
calls travel, the finish reason after them, where usage goes, what comes before the first chunk
or after the text, how reasoning is streamed, the shape of error bodies and mid-stream errors,
and which request fields are refused. ``wire_format.stream_events`` calls them in order; the
``openai`` dialect is the stream the scripted model always sent.

    dialect = DIALECTS["ollama"]
    dialect.refusal(body)               # None, or the (status, error body) to answer with
    dialect.tool_call_deltas(calls)     # the deltas carrying ``calls``
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistantd.scripted_model import model_metadata
from assistantd.scripted_model.reply import PlannedToolCall, Reply

if TYPE_CHECKING:
    from assistantd.scripted_model.wire_format import ChunkWriter

Delta = dict[str, Any]
ErrorAnswer = tuple[int, Any]  # the HTTP status and the JSON body


# --- tool calls -------------------------------------------------------------------------------


def _call_delta(index: int | None, call_id: str, name: str, arguments: Any) -> dict[str, Any]:
    """One entry of ``delta.tool_calls``; ``index`` None leaves the key out (Ollama)."""
    entry = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
    return entry if index is None else {"index": index, **entry}


def fragmented_calls(calls: list[PlannedToolCall]) -> list[Delta]:
    """OpenAI's: an intro with index, id and name, then the arguments in fragments."""
    deltas = []
    for index, call in enumerate(calls):
        deltas.append({"tool_calls": [_call_delta(index, call.id, call.name, "")]})
        deltas += [
            {"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}
            for fragment in call.fragments()
        ]
    return deltas


def calls_repeating_id_and_name(calls: list[PlannedToolCall]) -> list[Delta]:
    """vLLM's parsers: every fragment repeats the call's id and name."""
    return [
        {"tool_calls": [_call_delta(index, call.id, call.name, fragment)]}
        for index, call in enumerate(calls)
        for fragment in call.fragments()
    ]


def whole_calls_in_one_delta_without_index(calls: list[PlannedToolCall]) -> list[Delta]:
    """Ollama's: every call whole, all in one delta, no ``index``."""
    listed = [_call_delta(None, c.id, c.name, c.arguments) for c in calls]
    return [{"tool_calls": listed}] if listed else []


def whole_calls_each_at_index_zero(calls: list[PlannedToolCall]) -> list[Delta]:
    """Gemini's: each call whole in its own delta, every one at ``index`` 0, signed."""
    return [
        {"tool_calls": [_call_delta(0, c.id, c.name, c.arguments) | _signed(c.id)]} for c in calls
    ]


def thought_signature(call_id: str) -> str:
    """The signature Gemini 3 would give the call: derived from its id, so the follow-up can be
    checked without the scripted model keeping state between requests."""
    return base64.b64encode(f"thought-of:{call_id}".encode()).decode()


def _signed(call_id: str) -> dict[str, Any]:
    return {"extra_content": {"google": {"thought_signature": thought_signature(call_id)}}}


def whole_calls_each_in_a_delta(calls: list[PlannedToolCall]) -> list[Delta]:
    """LM Studio's and Groq's: each call whole (full arguments) in one fragment."""
    return [
        {"tool_calls": [_call_delta(index, c.id, c.name, c.arguments)]}
        for index, c in enumerate(calls)
    ]


def calls_with_object_arguments_and_no_id(calls: list[PlannedToolCall]) -> list[Delta]:
    """TGI's: each call whole, its arguments a JSON object, its id empty."""
    return [
        {"tool_calls": [_call_delta(index, "", c.name, c.arguments_value)]}
        for index, c in enumerate(calls)
    ]


# --- finish reasons -------------------------------------------------------------------------


def scripted_finish(reply: Reply) -> str:
    return reply.finish_reason


def stop_after_tool_calls(reply: Reply) -> str:
    """Ollama and Gemini end a streamed tool-call turn with ``stop``."""
    return "stop" if reply.finish_reason == "tool_calls" else reply.finish_reason


def eos_token_finish(reply: Reply) -> str:
    """TGI ends on its EOS token, tool calls or not."""
    return "eos_token" if reply.finish_reason in ("stop", "tool_calls") else reply.finish_reason


# --- reasoning --------------------------------------------------------------------------------


def reasoning_content(piece: str) -> Delta:
    """vLLM's and llama.cpp's reasoning parsers; ``content`` is null meanwhile."""
    return {"content": None, "reasoning_content": piece}


def reasoning_with_details(piece: str) -> Delta:
    """OpenRouter's."""
    details = [{"type": "reasoning.text", "text": piece, "format": "unknown", "index": 0}]
    return {"content": "", "reasoning": piece, "reasoning_details": details}


# --- the end of the stream: finish and usage ------------------------------------------------


def usage_when_asked(writer: ChunkWriter, reply: Reply, finish: str, asked: bool) -> list[bytes]:
    """OpenAI's: a finish chunk, then usage in a chunk of no choices if ``stream_options``
    asked for it."""
    events = [writer.delta({}, finish_reason=finish)]
    if asked and reply.send_usage:
        events.append(writer.event([], usage=reply.usage))
    return events


def usage_with_reasoning_tokens(
    writer: ChunkWriter, reply: Reply, finish: str, asked: bool
) -> list[bytes]:
    """OpenAI's reasoning models: usage counts the (hidden) reasoning tokens apart."""
    events = [writer.delta({}, finish_reason=finish)]
    if asked and reply.send_usage:
        details = {"reasoning_tokens": reply.reasoning_tokens}
        usage = {**reply.usage, "completion_tokens_details": details}
        events.append(writer.event([], usage=usage))
    return events


def usage_on_the_finish_chunk(
    writer: ChunkWriter, reply: Reply, finish: str, asked: bool
) -> list[bytes]:
    """llama.cpp's: usage (and ``timings``) on the finish chunk, asked or not."""
    choice = _finish_choice(finish)
    extra = {"timings": {"prompt_n": reply.usage.get("prompt_tokens", 0), "predicted_ms": 1.0}}
    if reply.send_usage:
        extra["usage"] = reply.usage
    return [writer.payload([choice], extra)]


def usage_under_x_groq(writer: ChunkWriter, reply: Reply, finish: str, asked: bool) -> list[bytes]:
    """Groq's: usage under ``x_groq`` on the finish chunk, not under ``usage``."""
    extra = {"x_groq": {"id": f"req_{writer.id[-12:]}"}}
    if reply.send_usage:
        extra["x_groq"]["usage"] = reply.usage
    return [writer.payload([_finish_choice(finish)], extra)]


def usage_always_last(writer: ChunkWriter, reply: Reply, finish: str, asked: bool) -> list[bytes]:
    """OpenRouter's: a finish chunk with ``native_finish_reason``, then usage, asked or not."""
    choice = _finish_choice(finish) | {"native_finish_reason": finish}
    events = [writer.payload([choice], {})]
    if reply.send_usage:
        events.append(writer.event([], usage=reply.usage))
    return events


def no_usage(writer: ChunkWriter, reply: Reply, finish: str, asked: bool) -> list[bytes]:
    """TGI's (older versions): never any usage."""
    return [writer.delta({}, finish_reason=finish)]


def _finish_choice(finish: str) -> dict[str, Any]:
    return {"index": 0, "delta": {}, "logprobs": None, "finish_reason": finish}


# --- what comes before the first chunk and after the text -----------------------------------


def nothing(writer: ChunkWriter) -> list[bytes]:
    return []


def processing_comments(writer: ChunkWriter) -> list[bytes]:
    """OpenRouter's SSE comments while the upstream model has not started."""
    return [b": OPENROUTER PROCESSING\n\n", b": OPENROUTER PROCESSING\n\n"]


_FILTERED_NOTHING = {
    kind: {"filtered": False, "severity": "safe"}
    for kind in ("hate", "self_harm", "sexual", "violence")
}


def prompt_filter_results(writer: ChunkWriter) -> list[bytes]:
    """Azure's first chunk: no choices, only the prompt's filter results, empty id and model."""
    payload = {
        "id": "",
        "object": "",
        "created": 0,
        "model": "",
        "choices": [],
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": _FILTERED_NOTHING}],
    }
    return [writer.raw(payload)]


def content_filter_results(writer: ChunkWriter) -> list[bytes]:
    """Azure's: after the text, a choice with no ``delta``, only the completion's filtering."""
    choice = {
        "index": 0,
        "finish_reason": None,
        "content_filter_results": _FILTERED_NOTHING,
        "content_filter_offsets": {"check_offset": 0, "start_offset": 0, "end_offset": 10},
    }
    return [writer.payload([choice], {})]


# --- errors -----------------------------------------------------------------------------------


def openai_error(status: int, detail: dict[str, Any]) -> Any:
    return {"error": detail}


def vllm_error(status: int, detail: dict[str, Any]) -> Any:
    """vLLM's: at the top level, not under ``error``."""
    return {
        "object": "error",
        "message": detail["message"],
        "type": "BadRequestError" if status < 500 else "InternalServerError",
        "param": None,
        "code": status,
    }


def gemini_error(status: int, detail: dict[str, Any]) -> Any:
    """Gemini's OpenAI endpoint: a list holding Google's error object."""
    return [{"error": {"code": status, "message": detail["message"], "status": "INVALID_ARGUMENT"}}]


def anthropic_error(status: int, detail: dict[str, Any]) -> Any:
    return {"type": "error", "error": {"type": detail["type"], "message": detail["message"]}}


def tgi_error(status: int, detail: dict[str, Any]) -> Any:
    """TGI's: the message is the ``error`` string itself."""
    return {"error": detail["message"], "error_type": "validation"}


def error_event(writer: ChunkWriter, message: str) -> bytes:
    """A mid-stream error as an event of its own (OpenAI, vLLM)."""
    return writer.raw({"error": {"message": message, "type": "server_error", "code": 500}})


def error_beside_choice(writer: ChunkWriter, message: str) -> bytes:
    """OpenRouter's: the error beside a choice finishing with ``error``."""
    choice = _finish_choice("error") | {"native_finish_reason": "error"}
    return writer.payload([choice], {"error": {"code": 502, "message": message}})


# --- request fields refused -------------------------------------------------------------------


def refuses_nothing(body: dict[str, Any]) -> ErrorAnswer | None:
    return None


def refuses_stream_options(body: dict[str, Any]) -> ErrorAnswer | None:
    """Older TGI: an unknown field fails the body's validation (a 422)."""
    if "stream_options" in body:
        message = "Failed to deserialize the JSON body: unknown field `stream_options`"
        return 422, tgi_error(422, {"message": message})
    return None


def refuses_unsigned_calls(body: dict[str, Any]) -> ErrorAnswer | None:
    """Gemini 3: an assistant tool call in the history without the thought signature it was
    given is refused (a 400 naming the position)."""
    for at, message in enumerate(body.get("messages") or []):
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        for position, call in enumerate(message.get("tool_calls") or []):
            google = ((call.get("extra_content") or {}).get("google")) or {}
            if google.get("thought_signature") != thought_signature(str(call.get("id"))):
                message_text = (
                    f"Function call is missing a thought_signature in functionCall parts. "
                    f"Additional data, function call `default_api:"
                    f"{(call.get('function') or {}).get('name')}`, position {position + 1} "
                    f"of messages[{at}]."
                )
                return 400, gemini_error(400, {"message": message_text})
    return None


def refuses_what_reasoning_models_refuse(body: dict[str, Any]) -> ErrorAnswer | None:
    """o1/o3-style models: ``max_tokens``, non-default sampling, ``system`` messages (o1-mini),
    ``parallel_tool_calls`` (some); one at a time, as OpenAI reports the first it finds."""
    if "max_tokens" in body:
        return _unsupported(
            "max_tokens",
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "unsupported_parameter",
        )
    for name in ("temperature", "top_p"):
        if body.get(name) not in (None, 1, 1.0):
            return _unsupported(
                name,
                f"Unsupported value: '{name}' does not support {body[name]} with this model. "
                "Only the default (1) value is supported.",
                "unsupported_value",
            )
    roles = [m.get("role") for m in body.get("messages") or []]
    if "system" in roles:
        at = roles.index("system")
        return _unsupported(
            f"messages[{at}].role",
            f"Unsupported value: 'messages[{at}].role' does not support 'system' with this model.",
            "unsupported_value",
        )
    if "parallel_tool_calls" in body:
        return _unsupported(
            "parallel_tool_calls",
            "Unsupported parameter: 'parallel_tool_calls' is not supported with this model.",
            "unsupported_parameter",
        )
    return None


def tools_refused(model: str) -> ErrorAnswer:
    """A server refusing tools for a model that has none (the generic form)."""
    return _unsupported("tools", f"{model} does not support tools", "unsupported_parameter")


def ollama_tools_refused(model: str) -> ErrorAnswer:
    message = f"registry.ollama.ai/library/{model}:latest does not support tools"
    detail = {"message": message, "type": "api_error", "param": None, "code": None}
    return 400, {"error": detail}


def vllm_tools_refused(model: str) -> ErrorAnswer:
    """vLLM started without ``--enable-auto-tool-choice``."""
    message = (
        '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
    )
    return 400, vllm_error(400, {"message": message})


def _unsupported(param: str, message: str, code: str) -> ErrorAnswer:
    detail = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return 400, {"error": detail}


# --- the dialects -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Dialect:
    name: str
    tool_call_deltas: Callable[[list[PlannedToolCall]], list[Delta]] = fragmented_calls
    finish_reason: Callable[[Reply], str] = scripted_finish
    closing: Callable[[ChunkWriter, Reply, str, bool], list[bytes]] = usage_when_asked
    before_first_chunk: Callable[[ChunkWriter], list[bytes]] = nothing
    after_text: Callable[[ChunkWriter], list[bytes]] = nothing
    # How a piece of reasoning is streamed; None: not at all (OpenAI keeps it hidden).
    reasoning_delta: Callable[[str], Delta] | None = None
    error_body: Callable[[int, dict[str, Any]], Any] = openai_error
    stream_error: Callable[[ChunkWriter, str], bytes] = error_event
    refusal: Callable[[dict[str, Any]], ErrorAnswer | None] = refuses_nothing
    wire_model: str | None = None  # the model name in chunks; None: the one asked for
    system_fingerprint: str | None = None
    # What a request with tools gets for a model scripted with ``supports_tools: false``.
    tools_refusal: Callable[[str], ErrorAnswer] = tools_refused
    # The model's ``GET /v1/models`` entry, given its context window (None: not known).
    model_entry: Callable[[str, int | None], dict[str, Any]] = model_metadata.openai_entry
    # Endpoints of the server's own beside /v1 ("GET /props"): model, context, tools → body.
    native_endpoints: dict[str, Callable[[str, int | None, bool], Any]] = field(
        default_factory=dict
    )


OPENAI = Dialect("openai")

DIALECTS: dict[str, Dialect] = {
    d.name: d
    for d in (
        OPENAI,
        Dialect(
            "ollama",
            tool_call_deltas=whole_calls_in_one_delta_without_index,
            finish_reason=stop_after_tool_calls,
            system_fingerprint="fp_ollama",
            tools_refusal=ollama_tools_refused,
            model_entry=model_metadata.ollama_entry,
            native_endpoints={"POST /api/show": model_metadata.ollama_show},
        ),
        Dialect(
            "vllm",
            tool_call_deltas=calls_repeating_id_and_name,
            reasoning_delta=reasoning_content,
            error_body=vllm_error,
            tools_refusal=vllm_tools_refused,
            model_entry=model_metadata.vllm_entry,
        ),
        Dialect(
            "llamacpp",
            reasoning_delta=reasoning_content,
            closing=usage_on_the_finish_chunk,
            native_endpoints={"GET /props": model_metadata.llamacpp_props},
        ),
        Dialect("lmstudio", tool_call_deltas=whole_calls_each_in_a_delta),
        Dialect(
            "tgi",
            tool_call_deltas=calls_with_object_arguments_and_no_id,
            finish_reason=eos_token_finish,
            closing=no_usage,
            error_body=tgi_error,
            refusal=refuses_stream_options,
            wire_model="tgi",
        ),
        Dialect("anthropic", error_body=anthropic_error),
        Dialect(
            "gemini",
            tool_call_deltas=whole_calls_each_at_index_zero,
            finish_reason=stop_after_tool_calls,
            error_body=gemini_error,
            refusal=refuses_unsigned_calls,
        ),
        Dialect(
            "groq",
            tool_call_deltas=whole_calls_each_in_a_delta,
            closing=usage_under_x_groq,
            model_entry=model_metadata.groq_entry,
        ),
        Dialect(
            "openrouter",
            before_first_chunk=processing_comments,
            reasoning_delta=reasoning_with_details,
            closing=usage_always_last,
            stream_error=error_beside_choice,
            model_entry=model_metadata.openrouter_entry,
        ),
        Dialect(
            "azure",
            before_first_chunk=prompt_filter_results,
            after_text=content_filter_results,
        ),
        Dialect(
            "openai-reasoning",
            closing=usage_with_reasoning_tokens,
            refusal=refuses_what_reasoning_models_refuse,
        ),
    )
}
