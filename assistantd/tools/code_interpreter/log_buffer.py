"""Collects an execution's text output up to a cap."""

from __future__ import annotations

import re

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
DEFAULT_LOG_CAP = 64 * 1024


class LogBuffer:
    """Appends text until ``cap`` characters, then keeps only a truncation marker."""

    def __init__(self, cap: int = DEFAULT_LOG_CAP) -> None:
        self.cap = cap
        self._parts: list[str] = []
        self._size = 0
        self.truncated = False

    def append(self, text: str) -> None:
        text = ANSI_ESCAPE.sub("", text)  # tracebacks come colored
        room = self.cap - self._size
        if len(text) > room:
            text = text[: max(room, 0)]
            self.truncated = True
        self._parts.append(text)
        self._size += len(text)

    def text(self) -> str:
        joined = "".join(self._parts)
        return joined + "\n[output truncated]\n" if self.truncated else joined
