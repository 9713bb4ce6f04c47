"""Offline token counting: tiktoken-compatible o200k_base ids, round trips, chat overhead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistantd import tokens


def test_known_o200k_ids() -> None:
    # The ids tiktoken's o200k_base gives for "hello world".
    assert tokens.encode("hello world") == [24912, 2375]
    assert tokens.count("hello world") == 2


def test_empty_text() -> None:
    assert tokens.count("") == 0
    assert tokens.encode("") == []
    assert tokens.decode([]) == ""


@pytest.mark.parametrize(
    "text",
    ["héllo 世界", "🦄 unicorns\n\n\tand tabs", "def f(x):\n    return x * 2\n", "a" * 5000],
)
def test_round_trip(text: str) -> None:
    ids = tokens.encode(text)
    assert tokens.decode(ids) == text
    assert tokens.count(text) == len(ids)


def test_special_token_text_is_plain_text() -> None:
    ids = tokens.encode("<|endoftext|>")
    assert len(ids) > 1
    assert tokens.decode(ids) == "<|endoftext|>"


def test_decode_of_a_split_character_replaces_instead_of_failing() -> None:
    ids = tokens.encode("🦄")
    assert len(ids) > 1
    assert tokens.decode(ids[:1]) == "\ufffd"


def test_decode_rejects_unknown_ids() -> None:
    with pytest.raises(ValueError):
        tokens.decode([10**9])


def test_long_text_has_no_length_cap() -> None:
    text = "lorem ipsum dolor sit amet " * 60_000  # ~1.6 M characters
    assert tokens.count(text) == len(tokens.encode(text)) > 200_000


def test_count_messages_adds_overhead_per_message() -> None:
    one = [{"role": "user", "content": "hello world"}]
    two = [*one, {"role": "assistant", "content": "hello world"}]
    assert tokens.count_messages(one) == 3 + 3 + tokens.count("user") + 2
    assert tokens.count_messages(two) > tokens.count_messages(one) + 2


def test_count_messages_includes_tool_calls_and_parts() -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris, France"}'},
    }
    bare = [{"role": "assistant", "content": None}]
    with_call = [{"role": "assistant", "content": None, "tool_calls": [call]}]
    assert tokens.count_messages(with_call) >= tokens.count_messages(bare) + tokens.count(
        call["function"]["arguments"]
    )
    parts = [{"role": "user", "content": [{"type": "text", "text": "hello world"}]}]
    plain = [{"role": "user", "content": "hello world"}]
    assert tokens.count_messages(parts) == tokens.count_messages(plain)


def test_count_tools_grows_with_definitions() -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    assert tokens.count_tools(None) == 0
    assert 0 < tokens.count_tools([tool]) < tokens.count_tools([tool, tool]) + 1


def test_works_with_the_network_unusable() -> None:
    # A fresh interpreter whose socket module refuses every connection still counts tokens,
    # so nothing is fetched on first use.
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from assistantd import tokens\n"
        "assert tokens.count('hello world') == 2\n"
        "assert tokens.decode(tokens.encode('hi there')) == 'hi there'\n"
        "print('ok')\n"
    )
    root = str(Path(tokens.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr
