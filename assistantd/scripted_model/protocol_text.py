"""A model without tool calling that calls tools anyway: in the text protocol assistantd asks
such models to write (``assistantd/llm/tool_protocol.py``), as an instructed model would.

Scripted steps with ``tool_calls`` for a model scripted with ``supports_tools: false`` become
text: the step's text, then one ``<tool_call>`` block per call, streamed in pieces small enough
that the markers are split between chunks, ending with ``stop`` as plain text does.
"""

from __future__ import annotations

import json
from dataclasses import replace

from assistantd.scripted_model.reply import Reply

# Pieces shorter than the markers, so a client must put markers together across chunks.
_PIECE_CHARS = 5


def as_protocol_text(reply: Reply) -> Reply:
    """``reply`` with its tool calls written as protocol blocks after its text."""
    if not reply.tool_calls:
        return reply
    blocks = "".join(_block(call.name, call.arguments_value) for call in reply.tool_calls)
    written = ("\n\n" if reply.pieces else "") + blocks
    pieces = [written[i : i + _PIECE_CHARS] for i in range(0, len(written), _PIECE_CHARS)]
    finish = "stop" if reply.finish_reason == "tool_calls" else reply.finish_reason
    return replace(reply, pieces=[*reply.pieces, *pieces], tool_calls=[], finish_reason=finish)


def _block(name: str, arguments: object) -> str:
    payload = json.dumps({"name": name, "arguments": arguments})
    return f"<tool_call>\n{payload}\n</tool_call>\n"
