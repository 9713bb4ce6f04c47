"""Splits the text a model streams in the emulated tool protocol into what the user reads and
the call blocks, wherever the chunks happen to cut it (markers included).

    parser = ProtocolStream()
    parser.feed("Let me check. <tool")   # "Let me check." (the rest may open a block)
    parser.feed("_call>{...}</tool_call>")  # ""
    parser.close()                        # ""; parser.blocks == ["{...}"]

Text is given back as soon as it cannot be the start of a block: only what could be a prefix of
``<tool_call>`` (and the whitespace before it) is held back. The whitespace right before a block
is dropped, and so is anything after the last block: a model that goes on after its calls can
only be guessing their results.
"""

from __future__ import annotations

from assistantd.llm.tool_protocol import CLOSE, OPEN


class ProtocolStream:
    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.unterminated: str | None = None  # a block the stream ended inside of
        self._held = ""
        self._in_block = False

    def feed(self, text: str) -> str:
        """The text of ``text`` (with what was held back) that the user may read now."""
        self._held += text
        out: list[str] = []
        while True:
            if self._in_block:
                end = self._held.find(CLOSE)
                if end < 0:
                    return "".join(out)
                self.blocks.append(self._held[:end])
                self._held = self._held[end + len(CLOSE) :]
                self._in_block = False
                continue
            start = self._held.find(OPEN)
            if start >= 0:
                if not self.blocks:
                    out.append(self._held[:start].rstrip())
                self._held = self._held[start + len(OPEN) :]
                self._in_block = True
                continue
            if self.blocks:
                # After a call only another block counts: keep just what might open one.
                self._held = self._held[len(self._held) - _open_prefix_length(self._held) :]
                return "".join(out)
            keep = _open_prefix_length(self._held)
            ready = self._held[: len(self._held) - keep]
            kept_space = len(ready) - len(ready.rstrip())
            cut = len(ready) - kept_space
            out.append(self._held[:cut])
            self._held = self._held[cut:]
            return "".join(out)

    def close(self) -> str:
        """What is left for the user once the stream has ended."""
        if self._in_block:
            # A stop sequence or the token limit may have cut the closing marker short.
            self.unterminated = self._held[: len(self._held) - _prefix_length(self._held, CLOSE)]
            self._in_block = False
            self._held = ""
            return ""
        rest, self._held = self._held, ""
        return "" if self.blocks else rest


def _open_prefix_length(text: str) -> int:
    return _prefix_length(text, OPEN)


def _prefix_length(text: str, marker: str) -> int:
    """The length of the longest end of ``text`` that ``marker`` starts with (short of all)."""
    for size in range(min(len(text), len(marker) - 1), 0, -1):
        if marker.startswith(text[-size:]):
            return size
    return 0
