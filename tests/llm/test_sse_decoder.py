"""Decoding an event stream's bytes as they arrive, however the network cuts them."""

from __future__ import annotations

import pytest

from assistantd.llm.sse_decoder import SSEDecoder

STREAM = (
    b": a comment\n"
    b'data: {"a": 1}\n'
    b"\n"
    b"event: message\n"
    b"id: 7\n"
    b'data: {"b":\n'
    b"data:2}\n"
    b"\n"
    b"data: [DONE]\n"
    b"\n"
)
EVENTS = [b'{"a": 1}', b'{"b":\n2}', b"[DONE]"]


def _decode(pieces: list[bytes]) -> list[bytes]:
    decoder = SSEDecoder()
    events = [data for piece in pieces for data in decoder.feed(piece)]
    return events + decoder.close()


def test_whole_stream_in_one_read() -> None:
    assert _decode([STREAM]) == EVENTS


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16])
def test_any_cut_into_reads_gives_the_same_events(size: int) -> None:
    pieces = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    assert _decode(pieces) == EVENTS


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"])
def test_crlf_and_lone_cr_end_lines_too(newline: bytes) -> None:
    stream = STREAM.replace(b"\n", newline)
    assert _decode([stream]) == EVENTS
    # A CRLF split between two reads is one line end, not two (no empty event in between).
    assert _decode([stream[i : i + 1] for i in range(len(stream))]) == EVENTS


def test_an_event_without_its_closing_blank_line_still_counts_at_the_end() -> None:
    assert _decode([b'data: {"a": 1}\n\ndata: [DONE]']) == [b'{"a": 1}', b"[DONE]"]


def test_a_blank_line_without_data_is_no_event() -> None:
    assert _decode([b"\n\n: ping\n\nevent: x\n\ndata: 1\n\n"]) == [b"1"]


def test_data_field_with_no_value_is_an_empty_line() -> None:
    assert _decode([b"data\ndata: x\n\n"]) == [b"\nx"]


def test_one_whole_event_per_read_as_servers_mostly_send_them() -> None:
    reads = [b'data: {"a": 1}\n\n', b"data: x\n\n", b"data: y\n", b"\n", b"data: [DONE]\n\n"]
    assert _decode(reads) == [b'{"a": 1}', b"x", b"y", b"[DONE]"]
    assert _decode([b"data: a\ndata: b\n\n"]) == [b"a\nb"]  # two lines: not one-line
