"""Tool-call fragments as backends send them, turned into OpenAI's form: one index per call, the
call's id on its first fragment, arguments as JSON text.

OpenAI streams a call as fragments sharing an ``index``, the first with ``id`` and ``name``.
Other backends send each call whole without an ``index`` (Ollama, Gemini), several calls all at
index 0 told apart only by their ids, ids missing, empty or repeated on every fragment (vLLM),
and arguments as a JSON object instead of a string (TGI). One assembler per model response
keeps what it has seen so that every backend's calls come out as distinct, well-formed calls.

    assembler = ToolCallAssembler()
    delta = assembler.delta(raw_index=None, call_id="", name="f", arguments={"a": 1})
    # ToolCallDelta(index=0, id="call_…", name="f", arguments='{"a": 1}')
    assembler.finish_reason("stop")   # "tool_calls": calls were made
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from assistantd.ids import new_id
from assistantd.llm.chat import ToolCallDelta

# Finish reasons some backends send for what OpenAI calls "stop" (TGI ends on its EOS token).
_STOP_SYNONYMS = frozenset({"stop", "eos_token", "end_turn", "stop_sequence"})


@dataclass
class _OpenCall:
    index: int  # the index handed out (the position of the call in the response)
    id: str
    raw_id: str | None  # the id the backend gave, to tell the next call at its index apart
    named: bool  # vLLM repeats the name on every fragment: only the first passes it on


class ToolCallAssembler:
    def __init__(self) -> None:
        self._by_raw_index: dict[int, _OpenCall] = {}
        self._last: _OpenCall | None = None
        self._ids: set[str] = set()  # the ids handed out, so that none is handed out twice

    @property
    def called(self) -> bool:
        return self._last is not None

    def delta(
        self,
        raw_index: int | None,
        call_id: str | None,
        name: str | None,
        arguments: str | dict[str, object] | list[object] | None,
        extra_content: dict[str, object] | None = None,
    ) -> ToolCallDelta:
        """The OpenAI-form delta of one fragment as the backend sent it; ``extra_content``
        (Gemini's thought signature) passes through untouched."""
        text = _arguments_text(arguments)
        open_call = self._open_call(raw_index, call_id, name)
        if open_call is not None:
            if open_call.named:
                name = None
            open_call.named = open_call.named or bool(name)
            return ToolCallDelta(open_call.index, None, name, text, extra_content)
        started = self._start(raw_index, call_id, bool(name))
        return ToolCallDelta(started.index, started.id, name, text, extra_content)

    def finish_reason(self, raw: str | None) -> str | None:
        """OpenAI's finish reason: ``tool_calls`` once calls were made, whatever the backend
        said (Ollama and Gemini say ``stop``, TGI ``eos_token``), ``stop`` for its synonyms."""
        if raw is None:
            return None
        if raw in _STOP_SYNONYMS:
            return "tool_calls" if self.called else "stop"
        return raw

    def _open_call(
        self, raw_index: int | None, call_id: str | None, name: str | None
    ) -> _OpenCall | None:
        """The call this fragment continues, or None when it starts a new one."""
        if raw_index is None:
            # Index-less calls come whole: a name or an id starts a call; anything else can
            # only continue the last one.
            return None if (name or call_id) else self._last
        current = self._by_raw_index.get(raw_index)
        if current is None:
            return None
        if call_id and current.raw_id and call_id != current.raw_id:
            return None  # all calls at index 0 (Gemini): a different id is a different call
        return current

    def _start(self, raw_index: int | None, call_id: str | None, named: bool) -> _OpenCall:
        index = self._last.index + 1 if self._last is not None else 0
        # Missing, empty or already used ids would leave the client no way to answer each
        # call by its id in submit_tool_outputs.
        unique = call_id if call_id and call_id not in self._ids else new_id("call_")
        self._ids.add(unique)
        started = _OpenCall(index, unique, call_id or None, named)
        if raw_index is not None:
            self._by_raw_index[raw_index] = started
        self._last = started
        return started


def _arguments_text(arguments: str | dict[str, object] | list[object] | None) -> str:
    if arguments is None:
        return ""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, ensure_ascii=False)  # TGI: the arguments as a JSON object
