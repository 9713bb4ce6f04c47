"""The emulated tool protocol's stream parser: the user's text and the call blocks come out the
same wherever the model's chunks cut the stream, markers included."""

from __future__ import annotations

import json
from itertools import combinations, pairwise

import pytest

from assistantd.llm.tool_protocol import call_block, emulated_messages, parse_block, tools_section
from assistantd.llm.tool_protocol_stream import ProtocolStream

PARIS = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
ROME = '{"name": "get_weather", "arguments": {"city": "Rome"}}'
TWO_CALLS = (
    f"Let me check <both> cities.\n\n<tool_call>\n{PARIS}\n</tool_call>\n"
    f"<tool_call>\n{ROME}\n</tool_call>\n"
)


def _run(pieces: list[str]) -> tuple[list[str], ProtocolStream]:
    parser = ProtocolStream()
    out = [parser.feed(piece) for piece in pieces]
    out.append(parser.close())
    return out, parser


def _splits(text: str, cuts: tuple[int, ...]) -> list[str]:
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in pairwise(bounds)]


def test_text_before_calls_streams_and_the_blocks_are_parsed_at_every_cut() -> None:
    for cuts in combinations(range(1, len(TWO_CALLS)), 2):
        out, parser = _run(_splits(TWO_CALLS, cuts))
        assert "".join(out) == "Let me check <both> cities.", cuts
        assert [json.loads(b) for b in parser.blocks] == [json.loads(PARIS), json.loads(ROME)]
        assert parser.unterminated is None


def test_one_character_at_a_time_holds_back_only_a_possible_marker() -> None:
    out, parser = _run(list(TWO_CALLS))
    shown = "".join(out)
    assert shown == "Let me check <both> cities."
    assert "<tool" not in shown and "tool_call" not in "".join(out)
    # "<both>" starts like a marker but is not one: it reached the user before the block did.
    assert out.index(">") < TWO_CALLS.index("<tool_call>")
    assert len(parser.blocks) == 2


def test_plain_text_comes_through_unchanged_whitespace_and_all() -> None:
    text = "An answer with <b>markup</b>, a lone < and trailing space  \n"
    for cuts in combinations(range(1, len(text)), 1):
        out, parser = _run(_splits(text, cuts))
        assert "".join(out) == text and parser.blocks == []


def test_text_after_the_last_call_is_dropped() -> None:
    out, parser = _run([f"<tool_call>{PARIS}</tool_call>", " The weather is sunny <tool_res"])
    assert "".join(out) == "" and len(parser.blocks) == 1


def test_a_block_the_stream_ended_in_is_kept_apart() -> None:
    for tail in ("", "\n</tool", "</tool_call"):
        out, parser = _run(["Hi ", f"<tool_call>{PARIS}{tail}"])
        assert "".join(out) == "Hi" and parser.blocks == []
        assert parser.unterminated is not None
        assert json.loads(parser.unterminated) == json.loads(PARIS)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ('{"name": "f", "arguments": {"a": 1', "not valid JSON"),
        ('["f"]', '"name" string'),
        ('{"name": "f", "arguments": "{oops"}', "arguments are not valid JSON"),
        ('{"name": "f", "arguments": [1]}', "must be a JSON object"),
    ],
)
def test_malformed_blocks_say_what_is_wrong(raw: str, problem: str) -> None:
    parsed = parse_block(raw)
    assert parsed.problem is not None and problem in parsed.problem


def test_tolerated_forms() -> None:
    fenced = parse_block('\n```json\n{"name": "f", "parameters": {"a": 1}}\n```\n')
    as_string = parse_block('{"name": "f", "arguments": "{\\"a\\": 1}"}')
    for parsed in (fenced, as_string):
        assert parsed.problem is None and (parsed.name, json.loads(parsed.arguments)) == (
            "f",
            {"a": 1},
        )


def test_history_is_rendered_as_text_with_the_tools_in_the_system_message() -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    section = tools_section(tools, "auto", True)
    messages = [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
                {"id": "c2", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "c2", "content": "rainy"},
    ]  # fmt: skip
    rendered = emulated_messages(messages, section)
    assert [m["role"] for m in rendered] == ["system", "user", "assistant", "user"]
    assert rendered[0]["content"].startswith("Be terse.\n\n# Tools")
    assert "## get_weather" in rendered[0]["content"]
    assert rendered[2] == {
        "role": "assistant",
        "content": call_block("get_weather", '{"city": "Paris"}')
        + "\n\n"
        + call_block("get_weather", '{"city": "Rome"}'),
    }
    assert rendered[3]["content"] == (
        '<tool_result id="c1" name="get_weather">\nsunny\n</tool_result>\n\n'
        '<tool_result id="c2" name="get_weather">\nrainy\n</tool_result>'
    )
    assert all("tool_calls" not in m and m["role"] != "tool" for m in rendered)
