"""The text protocol of emulated tool calling: what the model is told, and how it answers.

A model without native tool calling gets its tools described in a system message and is asked
to call one by writing, on lines of their own::

    <tool_call>
    {"name": "get_weather", "arguments": {"city": "Oslo"}}
    </tool_call>

(several blocks one after another for parallel calls). The results come back in a user message
as ``<tool_result id="call_…" name="get_weather">…</tool_result>`` blocks, and a call that could
not be used as a ``<tool_error>`` block. Earlier turns' calls and outputs (``tool_calls`` on
assistant messages, ``tool`` messages) are rewritten into the same form, so that the backend
never sees a field it refuses. The markup is the one Hermes- and Qwen-style chat templates
train models on, so instructed models tend to follow it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

OPEN = "<tool_call>"
CLOSE = "</tool_call>"

_INTRO = f"""# Tools

You can call tools. To call one, write a block of this form, on lines of its own:

{OPEN}
{{"name": "<tool name>", "arguments": {{<the arguments, a JSON object>}}}}
{CLOSE}

The arguments must match the tool's parameters (a JSON schema). To call several tools at once,
write one block after another. Write what the user should read before your first block; after
your last block, stop: each call's result comes back in the next message as a
<tool_result id="…" name="…"> block. Answer without any block when you need no tool."""


@dataclass(frozen=True)
class ParsedCall:
    """One block the model wrote: its name and arguments (a JSON object's text), or, when the
    block cannot be used, ``problem`` saying why (for the model to correct)."""

    raw: str
    name: str = ""
    arguments: str = "{}"
    problem: str | None = None


def tools_section(
    tools: list[dict[str, Any]], tool_choice: Any, parallel_tool_calls: bool | None
) -> str:
    """The system-message section that describes ``tools`` (chat-completions definitions)."""
    lines = [_INTRO]
    if parallel_tool_calls is False:
        lines.append("Call at most one tool at a time.")
    if tool_choice == "required":
        lines.append("You must call at least one tool now.")
    elif isinstance(tool_choice, dict):
        lines.append(f"You must call the tool {tool_choice['function']['name']} now.")
    lines.append("\nThe tools:")
    for tool in tools:
        function = tool["function"]
        lines.append(f"\n## {function['name']}")
        if function.get("description"):
            lines.append(str(function["description"]))
        parameters = function.get("parameters") or {"type": "object", "properties": {}}
        lines.append(f"Parameters: {json.dumps(parameters, ensure_ascii=False)}")
    return "\n".join(lines)


def call_block(name: str, arguments: str) -> str:
    """A call as the model writes it (arguments that are not JSON are kept as a string)."""
    try:
        value: Any = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        value = arguments
    payload = json.dumps({"name": name, "arguments": value}, ensure_ascii=False)
    return f"{OPEN}\n{payload}\n{CLOSE}"


def result_block(call_id: str, name: str, output: str) -> str:
    return f'<tool_result id="{call_id}" name="{name}">\n{output}\n</tool_result>'


def error_block(problems: list[str]) -> str:
    listed = "\n".join(problems)
    return (
        f"<tool_error>\n{listed}\n</tool_error>\n"
        "None of those tool calls was run. Write all of them again, corrected, each as a "
        f"{OPEN} block in the format described; do not repeat your other text."
    )


def emulated_messages(messages: list[dict[str, Any]], section: str | None) -> list[dict[str, Any]]:
    """``messages`` with tool calls and outputs as text, and ``section`` (if any) appended to
    the first system message (or in one of its own, first)."""
    rendered: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # call id → tool name, for the results
    results_at: int | None = None  # the user message the latest tool outputs went into
    for message in messages:
        role = message.get("role")
        if role == "tool":
            call_id = str(message.get("tool_call_id"))
            block = result_block(call_id, names.get(call_id, ""), _text(message.get("content")))
            if results_at is not None:
                rendered[results_at]["content"] += "\n\n" + block
            else:
                results_at = len(rendered)
                rendered.append({"role": "user", "content": block})
            continue
        results_at = None
        if role == "assistant" and message.get("tool_calls"):
            blocks = []
            for call in message["tool_calls"]:
                names[call["id"]] = call["function"]["name"]
                blocks.append(call_block(call["function"]["name"], call["function"]["arguments"]))
            text = _text(message.get("content"))
            rendered.append(
                {"role": "assistant", "content": "\n\n".join([text, *blocks] if text else blocks)}
            )
        else:
            rendered.append(message)
    if section is None:
        return rendered
    if rendered and rendered[0].get("role") == "system":
        first = rendered[0]
        return [{**first, "content": f"{_text(first.get('content'))}\n\n{section}"}, *rendered[1:]]
    return [{"role": "system", "content": section}, *rendered]


def parse_block(raw: str) -> ParsedCall:
    """What one block between the markers says. Tolerated: a Markdown code fence around the
    JSON, ``parameters`` for ``arguments``, arguments given as a JSON string."""
    text = _without_fence(raw.strip())
    try:
        value = json.loads(text)
    except ValueError as error:
        return ParsedCall(raw, problem=f"the block is not valid JSON ({error})")
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return ParsedCall(raw, problem='the block must be a JSON object with a "name" string')
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError as error:
            return ParsedCall(
                raw, value["name"], problem=f"its arguments are not valid JSON ({error})"
            )
    if not isinstance(arguments, dict):
        return ParsedCall(raw, value["name"], problem="its arguments must be a JSON object")
    return ParsedCall(raw, value["name"], json.dumps(arguments, ensure_ascii=False))


def _without_fence(text: str) -> str:
    if not text.startswith("```"):
        return text
    body = text[3:]
    body = body[body.find("\n") + 1 :] if "\n" in body else ""
    return body[: body.rfind("```")] if "```" in body else body


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)
