"""Offline token counting, encoding and decoding with OpenAI's ``o200k_base`` BPE.

The vocabulary is compiled into the ``toktok-rs`` wheel (a Rust tokenizer with Python
bindings, ~8 MB installed), so nothing is fetched at run time, unlike plain ``tiktoken``, which
downloads its BPE files on first use.
Ids and counts match ``tiktoken``'s ``o200k_base`` (the encoding of the gpt-4o family); for
other model families they are a close estimate, which is all the context-window bookkeeping
needs.

Special-token text such as ``<|endoftext|>`` in user input is encoded as ordinary text, never as
the special token: prompts are data.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

ENCODING_NAME = "o200k_base"

# OpenAI's documented chat overhead: every message is wrapped in
# ``<|start|>{role/name}\n{content}<|end|>\n`` and every reply is primed with
# ``<|start|>assistant``.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
TOKENS_REPLY_PRIMING = 3
# Each tool call is serialised with its name, its arguments and a few framing tokens.
TOKENS_PER_TOOL_CALL = 4
# A conservative flat price for an image part; the real cost depends on size and detail.
TOKENS_PER_IMAGE = 765


@cache
def _tokenizer() -> Any:
    # toktok's full encode/decode surface is its ``_encoding`` (its public API only counts).
    # Loading the vocabulary takes ~0.3 s once per process.
    import toktok

    return toktok._encoding(ENCODING_NAME)


@cache
def _valid_ids() -> tuple[int, frozenset[int]]:
    """The number of ordinary ids (0..n-1) and the special ones: the tokenizer's ``decode``
    turns any other id into nothing, where a wrong id must be an error."""
    tokenizer = _tokenizer()
    specials = frozenset(dict(tokenizer.special_tokens()).values())
    return len(tokenizer.token_byte_values()), specials


def count(text: str) -> int:
    """The number of tokens ``text`` encodes to."""
    if not text:
        return 0
    return int(_tokenizer().count(text))


def encode(text: str) -> list[int]:
    """The token ids of ``text``."""
    if not text:
        return []
    return list(_tokenizer().encode_ordinary(text))


def decode(tokens: list[int]) -> str:
    """The text of ``tokens``; bytes of a character split across a cut become U+FFFD.

    Raises ``ValueError`` for an id outside the vocabulary.
    """
    if not tokens:
        return ""
    ordinary, specials = _valid_ids()
    if not (min(tokens) >= 0 and max(tokens) < ordinary):
        unknown = [t for t in tokens if not 0 <= t < ordinary and t not in specials]
        if unknown:
            raise ValueError(f"token id outside the {ENCODING_NAME} vocabulary: {unknown[0]}")
    return str(_tokenizer().decode(tokens))


def count_messages(messages: list[dict]) -> int:
    """Prompt tokens of chat ``messages``, with per-message overhead, names and tool calls."""
    total = TOKENS_REPLY_PRIMING
    for message in messages:
        total += _count_message(message)
    return total


def count_tools(tools: list[dict] | None) -> int:
    """Prompt tokens that tool (function) definitions add, estimated from their JSON."""
    if not tools:
        return 0
    return sum(count(json.dumps(tool, separators=(",", ":"), sort_keys=True)) for tool in tools)


def _count_message(message: dict) -> int:
    total = TOKENS_PER_MESSAGE + count(str(message.get("role") or ""))
    total += _count_content(message.get("content"))
    if message.get("name"):
        total += TOKENS_PER_NAME + count(str(message["name"]))
    if message.get("tool_call_id"):
        total += count(str(message["tool_call_id"]))
    for call in message.get("tool_calls") or ():
        total += _count_tool_call(call)
    return total


def _count_content(content: object) -> int:
    if content is None:
        return 0
    if isinstance(content, str):
        return count(content)
    if isinstance(content, list):
        return sum(_count_part(part) for part in content)
    return count(json.dumps(content))


def _count_part(part: object) -> int:
    if isinstance(part, str):
        return count(part)
    if not isinstance(part, dict):
        return 0
    kind = part.get("type")
    if kind == "text":
        return count(str(part.get("text") or ""))
    if kind in ("image_url", "image_file", "input_image"):
        return TOKENS_PER_IMAGE
    return count(json.dumps(part))


def _count_tool_call(call: dict) -> int:
    function = call.get("function") or {}
    arguments = function.get("arguments") or ""
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return TOKENS_PER_TOOL_CALL + count(str(function.get("name") or "")) + count(arguments)


def preload() -> None:
    """Load the vocabulary now (~0.3 s) rather than on the first prompt, e.g. at server start."""
    _tokenizer()
