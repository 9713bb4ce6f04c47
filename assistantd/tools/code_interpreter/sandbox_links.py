"""``sandbox:/mnt/data/…`` links in the model's text, which clients replace with file downloads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

# Up to whitespace, quotes or the brackets around a markdown link; trailing punctuation is the
# sentence's, not the name's.
_LINK = re.compile(r"sandbox:/mnt/data/[^\s()\[\]<>\"'`]+")
_TRAILING = ".,;:!?"


@dataclass(frozen=True)
class SandboxLink:
    text: str  # exactly as it appears in the message
    start: int
    end: int
    name: str  # the path under /mnt/data, percent-decoded

    def annotation(self, file_id: str) -> dict[str, object]:
        return {
            "type": "file_path",
            "text": self.text,
            "start_index": self.start,
            "end_index": self.end,
            "file_path": {"file_id": file_id},
        }


def sandbox_links(value: str) -> list[SandboxLink]:
    links: list[SandboxLink] = []
    for match in _LINK.finditer(value):
        text = match.group().rstrip(_TRAILING)
        name = unquote(text.removeprefix("sandbox:/mnt/data/"))
        if name:
            links.append(SandboxLink(text, match.start(), match.start() + len(text), name))
    return links
