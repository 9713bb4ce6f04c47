"""Source markers: how search results are labelled for the model, and how the labels it copies
into its answer become ``file_citation`` annotations.

A marker reads ``【{call}:{result}†{file_name}】`` (OpenAI's style): ``call`` numbers the
thread's file_search calls from 0 in the order they were made, ``result`` is the result's
position in that call. Numbering by thread, not by run, keeps a marker the model copies from an
earlier run's results pointing at the right file.
"""

from __future__ import annotations

import re
from typing import Any

MARKER = re.compile(r"【(\d+):(\d+)†([^】\n]*)】")


def marker(call: int, result: int, file_name: str) -> str:
    # The closing bracket and newlines would end or break the marker early.
    name = file_name.replace("】", "").replace("\n", " ")
    return f"【{call}:{result}†{name}】"


def citations(value: str, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``file_citation`` annotations for the markers in ``value`` that name a known result.

    ``calls`` are the thread's file_search step entries in call order; offsets are character
    positions in ``value`` and ``text`` is the exact marker, so a client can replace it.
    """
    annotations = []
    for match in MARKER.finditer(value):
        file_id = _file_id(calls, int(match.group(1)), int(match.group(2)))
        if file_id is None:
            continue  # a made-up or mistyped marker cites nothing
        annotations.append(
            {
                "type": "file_citation",
                "text": match.group(0),
                "start_index": match.start(),
                "end_index": match.end(),
                "file_citation": {"file_id": file_id},
            }
        )
    return annotations


def _file_id(calls: list[dict[str, Any]], call: int, result: int) -> str | None:
    if call >= len(calls):
        return None
    results = (calls[call].get("file_search") or {}).get("results") or []
    return results[result]["file_id"] if result < len(results) else None
