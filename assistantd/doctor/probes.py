"""The probes, one small request each, and the findings read from their answers."""

from __future__ import annotations

import json
from typing import Any

from assistantd.doctor.exchange import Answer
from assistantd.doctor.prober import Prober
from assistantd.doctor.report import Report
from assistantd.llm.chat import ChatRequest

TEXT_TOKENS = 64
TOOL_TOKENS = 256
SAY_OK = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "Reply with the single word OK."},
]
_CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": _CITY,
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The local time in a city.",
        "parameters": _CITY,
    },
}
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}


def _clipped(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _user(text: str) -> list[dict[str, Any]]:
    return [SAY_OK[0], {"role": "user", "content": text}]


async def streaming_and_usage(report: Report, prober: Prober, model: str) -> list[Answer]:
    """Text with no ``stream_options``, then with it (as runs ask): streaming, and usage."""
    request = ChatRequest(model, SAY_OK, max_tokens=TEXT_TOKENS, temperature=0.5)
    plain = await prober.ask(request, stream_options=False)
    asked = await prober.ask(ChatRequest(model, SAY_OK, max_tokens=TEXT_TOKENS))
    if not plain.ok:
        report.add("streaming", "failed", plain.error or "")
    elif plain.streamed:
        report.add("streaming", "ok", f"server-sent events ({len(plain.chunks)} chunks)")
    else:
        report.add("streaming", "differs", "answers stream=true with one whole JSON completion")
    report.add(*_usage(plain, asked, prober.refused.get("stream_options")))
    if (said := prober.refused.get("temperature / top_p")) is not None:
        report.add("temperature / top_p", "differs", f"refused, left out: {said}")
    return [plain, asked]


def _usage(plain: Answer, asked: Answer, refused: str | None) -> tuple[str, Any, str]:
    counted = "assistantd counts tokens with its bundled tokenizer"
    if plain.usage is not None:
        return "usage", "ok", "in the stream, even unasked"
    if refused is not None:
        return "usage", "missing", f"stream_options refused ({refused}); {counted}"
    if asked.ok and asked.usage is not None:
        return "usage", "ok", "only with stream_options.include_usage (runs ask for it)"
    return "usage", "missing", f"never sent; {counted}"


async def tool_calls(report: Report, prober: Prober, model: str) -> Answer:
    """One forced call of one tool; ``tool_choice`` "auto" if "required" is refused."""
    messages = _user("What is the weather in Oslo? Use the get_weather tool.")
    request = ChatRequest(model, messages, tools=[WEATHER], tool_choice="required")
    request.max_tokens = TOOL_TOKENS
    answer = await prober.ask(request)
    if not answer.ok and "tool_choice" in (answer.error or ""):
        request.tool_choice = "auto"
        answer = await prober.ask(request)
    if not answer.ok:
        report.add("tool calls", "missing", f"refused: {answer.error}")
    elif not any(call.name == "get_weather" for call in answer.calls):
        report.add("tool calls", "missing", f"no call made; it answered {answer.text[:60]!r}")
    else:
        report.add("tool calls", *_call_shape(answer))
    return answer


def native_tools(answer: Answer) -> bool:
    return answer.ok and any(call.name == "get_weather" for call in answer.calls)


def _call_shape(answer: Answer) -> tuple[Any, str]:
    """How the backend sent the call (OpenAI's form: ok), and what the engine assembled."""
    entries = [entry for listed in answer.raw_tool_calls for entry in listed]
    differences = []
    if not all("index" in e for e in entries):
        differences.append("no index")
    ids = [e.get("id") for e in entries if e.get("id") is not None]
    if not any(ids):
        differences.append("no ids (assistantd makes them up)")
    elif len(ids) > len(answer.calls) and len(entries) > len(answer.calls):
        differences.append("id repeated on every fragment")
    if any(isinstance((e.get("function") or {}).get("arguments"), dict) for e in entries):
        differences.append("arguments as a JSON object")
    pieces = "in fragments" if len(entries) > len(answer.calls) else "whole"
    raw_finish = answer.raw_finish_reasons[-1] if answer.raw_finish_reasons else None
    if raw_finish != "tool_calls":
        differences.append(f"finish_reason {raw_finish!r} after calls (read as tool_calls)")
    call = answer.calls[0]
    shown = f"{call.name}({_clipped(call.arguments, 32)})"
    if not isinstance(call.arguments_json, dict):
        return "differs", f"{shown}: arguments are not a JSON object"
    said = ", ".join(differences) if differences else "ids, index, string arguments, tool_calls"
    return ("differs" if differences else "ok"), f"{shown}; arguments {pieces}; {said}"


async def parallel_calls(report: Report, prober: Prober, model: str) -> Answer:
    messages = _user("Get both the weather and the local time in Oslo, with one call of each tool.")
    request = ChatRequest(
        model, messages, tools=[WEATHER, TIME], tool_choice="required", parallel_tool_calls=True
    )
    request.max_tokens = TOOL_TOKENS
    answer = await prober.ask(request)
    names = {call.name for call in answer.calls}
    left_out = "parallel_tool_calls" in prober.refused
    if not answer.ok:
        report.add("parallel tool calls", "missing", f"refused: {answer.error}")
    elif len(answer.calls) >= 2:
        where = {e.get("index") for listed in answer.raw_tool_calls for e in listed}
        detail = f"{len(answer.calls)} calls in one turn ({', '.join(sorted(names))})"
        if where == {0}:
            detail += ", all at index 0 (told apart by their ids)"
        if left_out:
            detail += "; parallel_tool_calls refused, left out"
        report.add("parallel tool calls", "differs" if left_out else "ok", detail)
    else:
        report.add("parallel tool calls", "missing", "one call per turn (runs still work)")
    return answer


async def json_schema(report: Report, prober: Prober, model: str) -> Answer:
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "doctor_probe", "schema": ANSWER_SCHEMA, "strict": True},
    }
    messages = _user('Answer in JSON: {"answer": "OK"}.')
    request = ChatRequest(model, messages, response_format=response_format)
    request.max_tokens = TEXT_TOKENS
    answer = await prober.ask(request)
    if not answer.ok:
        report.add("JSON schema", "missing", f"response_format json_schema refused: {answer.error}")
        return answer
    try:
        value = json.loads(answer.text)
    except ValueError:
        value = None
    if isinstance(value, dict) and isinstance(value.get("answer"), str):
        report.add(
            "JSON schema",
            "ok",
            f"response_format json_schema followed: {_clipped(answer.text, 32)}",
        )
    else:
        shown = answer.text[:60]
        report.add("JSON schema", "missing", f"accepted, but not followed: {shown!r}")
    return answer


async def reasoning(report: Report, prober: Prober, model: str, seen: list[Answer]) -> None:
    request = ChatRequest(model, SAY_OK, max_tokens=TEXT_TOKENS * 4, reasoning_effort="low")
    effort = await prober.ask(request)
    fields = list(dict.fromkeys(f for answer in [*seen, effort] for f in answer.reasoning_fields))
    if fields:
        shown = " / ".join(fields)
        report.add("reasoning", "differs", f"{shown} deltas (kept out of the message text)")
    else:
        report.add("reasoning", "none", "none streamed (no reasoning, or kept hidden)")
    if effort.ok:
        report.add("reasoning_effort", "ok", "accepted")
    else:
        report.add("reasoning_effort", "missing", f"refused: {effort.error}")
    if (said := prober.refused.get("max_tokens")) is not None:
        report.add("max_tokens", "differs", f"refused, sends max_completion_tokens: {said}")
    else:
        report.add("max_tokens", "ok", "accepted")
    await _developer_role(report, prober, model)


async def _developer_role(report: Report, prober: Prober, model: str) -> None:
    if (said := prober.refused.get("system role")) is not None:
        report.add("developer role", "differs", f"system refused, sends developer: {said}")
        return
    messages = [{"role": "developer", "content": SAY_OK[0]["content"]}, SAY_OK[1]]
    answer = await prober.ask(ChatRequest(model, messages, max_tokens=TEXT_TOKENS))
    if answer.ok:
        report.add("developer role", "ok", "accepted (system too)")
    else:
        report.add("developer role", "none", f"refused (runs send system): {answer.error}")
