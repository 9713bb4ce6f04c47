"""The chunk parser on each backend's difference from OpenAI's stream: the calls, finish
reasons, usage and texts that come out are what OpenAI's stream would have given."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistantd.llm.chat import ChatChunk, ToolCallDelta
from assistantd.llm.chunk_parsing import MalformedChunk, chunk_from_completion, chunk_from_event
from assistantd.llm.tool_call_assembly import ToolCallAssembler


def _chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> Any:
    choice: dict[str, Any] = {"index": 0, "finish_reason": finish}
    if delta is not None:
        choice["delta"] = delta
    return {"object": "chat.completion.chunk", "choices": [choice], **extra}


def _call(name: str | None = None, arguments: Any = None, **fields: Any) -> dict[str, Any]:
    function = {k: v for k, v in (("name", name), ("arguments", arguments)) if v is not None}
    return {**fields, "type": "function", "function": function}


def _parse(*payloads: dict[str, Any]) -> list[ChatChunk]:
    assembler = ToolCallAssembler()
    return [c for p in payloads if (c := chunk_from_event(p, assembler)) is not None]


def _calls(chunks: list[ChatChunk]) -> list[tuple[int, str, str]]:
    """(index, id, arguments) of each call, assembled as the run engine does."""
    ids: dict[int, str] = {}
    names: dict[int, str] = {}
    arguments: dict[int, str] = {}
    for delta in (d for c in chunks for d in c.tool_calls):
        assert isinstance(delta, ToolCallDelta)
        if delta.index not in ids:
            assert delta.id, "a call's first fragment carries its id"
            ids[delta.index] = delta.id
        names[delta.index] = names.get(delta.index) or delta.name or ""
        arguments[delta.index] = arguments.get(delta.index, "") + delta.arguments
    return [(i, f"{names[i]}:{ids[i]}", arguments[i]) for i in sorted(ids)]


def test_openai_fragments_keep_their_indexes_and_ids() -> None:
    chunks = _parse(
        _chunk({"tool_calls": [_call("f", "", index=0, id="call_a")]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"x"'}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}),
        _chunk({"tool_calls": [_call("g", "{}", index=1, id="call_b")]}),
        _chunk({}, "tool_calls"),
    )
    assert _calls(chunks) == [(0, "f:call_a", '{"x": 1}'), (1, "g:call_b", "{}")]
    assert chunks[-1].finish_reason == "tool_calls"


def test_calls_without_index_in_one_delta_are_separate_calls() -> None:
    """Ollama: a list of whole calls, no index (once merged into one call at index 0)."""
    listed = [_call("f", '{"a": 1}', id="call_a"), _call("g", '{"b": 2}', id="call_b")]
    chunks = _parse(_chunk({"tool_calls": listed}))
    assert _calls(chunks) == [(0, "f:call_a", '{"a": 1}'), (1, "g:call_b", '{"b": 2}')]


def test_calls_all_at_index_zero_are_told_apart_by_their_ids() -> None:
    """Gemini: every call at index 0; a different id is a different call."""
    chunks = _parse(
        _chunk({"tool_calls": [_call("f", '{"a": 1}', index=0, id="fc-1")]}),
        _chunk({"tool_calls": [_call("g", '{"b": 2}', index=0, id="fc-2")]}),
    )
    assert _calls(chunks) == [(0, "f:fc-1", '{"a": 1}'), (1, "g:fc-2", '{"b": 2}')]


def test_missing_and_empty_ids_are_made_up_unique() -> None:
    chunks = _parse(
        _chunk({"tool_calls": [_call("f", "{}", index=0, id="")]}),
        _chunk({"tool_calls": [_call("g", "{}")]}),
    )
    [(_, first, _), (_, second, _)] = _calls(chunks)
    first_id, second_id = first.split(":")[1], second.split(":")[1]
    assert first_id.startswith("call_") and second_id.startswith("call_")
    assert first_id != second_id


def test_an_id_used_by_an_earlier_call_is_replaced() -> None:
    chunks = _parse(
        _chunk({"tool_calls": [_call("f", "{}", index=0, id="call_0")]}),
        _chunk({"tool_calls": [_call("g", "{}", index=1, id="call_0")]}),
    )
    [(_, first, _), (_, second, _)] = _calls(chunks)
    assert first == "f:call_0" and second.startswith("g:call_") and second != "g:call_0"


def test_id_and_name_repeated_on_every_fragment_make_one_call() -> None:
    """vLLM's parsers repeat the id and name; the name is passed on once."""
    chunks = _parse(
        _chunk({"tool_calls": [_call("f", '{"x"', index=0, id="call_a")]}),
        _chunk({"tool_calls": [_call("f", ": 1}", index=0, id="call_a")]}),
    )
    assert _calls(chunks) == [(0, "f:call_a", '{"x": 1}')]
    assert [d.name for c in chunks for d in c.tool_calls] == ["f", None]


def test_arguments_given_as_an_object_are_json_encoded() -> None:
    """TGI: the arguments as a JSON object (once a malformed chunk)."""
    chunks = _parse(_chunk({"tool_calls": [_call("f", {"city": "Zürich"}, index=0)]}))
    [(_, _, arguments)] = _calls(chunks)
    assert json.loads(arguments) == {"city": "Zürich"}


def test_stop_after_tool_calls_is_tool_calls_and_eos_token_is_stop() -> None:
    calls = _parse(_chunk({"tool_calls": [_call("f", "{}", index=0, id="c")]}), _chunk({}, "stop"))
    assert calls[-1].finish_reason == "tool_calls"
    tgi_calls = _parse(_chunk({"tool_calls": [_call("f", "{}")]}), _chunk({}, "eos_token"))
    assert tgi_calls[-1].finish_reason == "tool_calls"
    [text, end] = _parse(_chunk({"content": "Hi"}), _chunk({}, "eos_token"))
    assert (text.text, end.finish_reason) == ("Hi", "stop")


def test_usage_under_x_groq() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    [end] = _parse(_chunk({}, "stop", x_groq={"id": "req_1", "usage": usage}))
    assert end.usage is not None and end.usage.total_tokens == 7


def test_usage_in_the_finish_chunk_or_a_chunk_of_no_choices() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 4}
    [end] = _parse(_chunk({}, "stop", usage=usage, timings={"predicted_ms": 1}))
    assert end.usage is not None and end.usage.total_tokens == 7
    [alone] = _parse({"choices": [], "usage": usage})
    assert alone.usage is not None and alone.text is None


def test_reasoning_never_becomes_text() -> None:
    chunks = _parse(
        _chunk({"content": None, "reasoning_content": "thinking"}),
        _chunk({"content": "", "reasoning": "more", "reasoning_details": [{"text": "more"}]}),
        _chunk({"content": "Answer"}),
    )
    assert [c.text for c in chunks] == ["Answer"]


def test_azure_filter_chunks_carry_nothing() -> None:
    filtered = {"hate": {"filtered": False, "severity": "safe"}}
    prompt_filter = {"id": "", "model": "", "object": "", "choices": [], "usage": None}
    no_delta = {"choices": [{"index": 0, "finish_reason": None, "content_filter_results": {}}]}
    assert _parse({**prompt_filter, "prompt_filter_results": [filtered]}, no_delta) == []


def test_a_whole_completion_without_ids_gets_unique_ids() -> None:
    message = {"role": "assistant", "tool_calls": [_call("f", {"a": 1}), _call("g", "{}")]}
    chunk = chunk_from_completion({"choices": [{"message": message, "finish_reason": "stop"}]})
    ids = [d.id for d in chunk.tool_calls]
    assert len(set(ids)) == 2 and all(i and i.startswith("call_") for i in ids)
    assert chunk.tool_calls[0].arguments == '{"a": 1}'
    assert chunk.finish_reason == "tool_calls"


def test_gemini_thought_signatures_stay_with_their_calls() -> None:
    """Gemini 3: each call at index 0 carries ``extra_content``, to be sent back with it."""
    signed = [
        {"google": {"thought_signature": signature}} for signature in ("c2lnLWE=", "c2lnLWI=")
    ]
    chunks = _parse(
        _chunk({"tool_calls": [_call("f", "{}", index=0, id="a", extra_content=signed[0])]}),
        _chunk({"tool_calls": [_call("g", "{}", index=0, id="b", extra_content=signed[1])]}),
        _chunk({}, "stop"),
    )
    deltas = [d for c in chunks for d in c.tool_calls]
    assert [(d.index, d.extra_content) for d in deltas] == [(0, signed[0]), (1, signed[1])]


def test_extra_content_of_the_wrong_shape_is_named() -> None:
    bad = _chunk({"tool_calls": [_call("f", "{}", index=0, id="a", extra_content="sig")]})
    with pytest.raises(MalformedChunk, match=r"tool_calls\[0\]\.extra_content"):
        _parse(bad)
