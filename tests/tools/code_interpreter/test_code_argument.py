"""The model's ``code`` argument, decoded whole and fragment by fragment."""

from __future__ import annotations

import json

import pytest

from assistantd.tools.code_interpreter.code_argument import CodeInputStream, code_of

CODE = 'print("tab\\there", "é", "\\u263a", "😀")\nx = {"a": [1, 2]}\n'


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_fragments_of_the_json_give_the_code_in_order(size: int) -> None:
    arguments = json.dumps({"code": CODE})  # \uXXXX escapes, surrogate pairs for the emoji
    stream = CodeInputStream()
    pieces = [stream.feed(arguments[i : i + size]) for i in range(0, len(arguments), size)]
    assert "".join(pieces) == CODE == code_of(arguments)
    assert stream.sent == CODE


def test_unescaped_unicode_arguments_stream_too() -> None:
    arguments = json.dumps({"code": CODE}, ensure_ascii=False)
    stream = CodeInputStream()
    assert "".join(stream.feed(ch) for ch in arguments) == CODE


def test_bare_code_is_run_as_it_is_and_streams_nothing() -> None:
    stream = CodeInputStream()
    assert stream.feed("print(1)") == ""
    assert code_of("print(1)") == "print(1)"
    assert code_of('{"other": 1}') == ""


def test_a_json_string_argument_is_the_code() -> None:
    assert code_of('"print(2)"') == "print(2)"
