"""Reading a ``text/event-stream`` body frame by frame, strictly: each frame must be
``id:`` (except ``done``), ``event:``, one ``data:`` line, in that order."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Frame:
    id: int | None
    event: str
    data: Any  # the decoded JSON, or "[DONE]"


def parse_frames(lines: Iterable[str]) -> Iterator[Frame]:
    """Frames from the body's lines (as ``httpx.Response.iter_lines`` gives them); comments
    (keep-alives) are skipped."""
    block: list[str] = []
    for line in lines:
        if line:
            if not line.startswith(":"):
                block.append(line)
            continue
        if block:
            yield _frame(block)
            block = []
    assert not block, f"unterminated frame: {block}"


def _frame(block: list[str]) -> Frame:
    fields = [line.split(": ", 1) for line in block]
    names = [name for name, _ in fields]
    values = dict(fields)
    if names == ["event", "data"] and values["event"] == "done":
        assert values["data"] == "[DONE]"
        return Frame(None, "done", "[DONE]")
    assert names == ["id", "event", "data"], block
    return Frame(int(values["id"]), values["event"], json.loads(values["data"]))


def squeeze(names: list[str]) -> list[str]:
    """Event names with runs of the same delta event collapsed to one entry ending in ``*``."""
    out: list[str] = []
    for name in names:
        label = f"{name}*" if name.endswith(".delta") else name
        if not (out and out[-1] == label and label.endswith("*")):
            out.append(label)
    return out
