"""Server-sent events, decoded from raw bytes as they arrive: only the ``data`` of each event.

An OpenAI-compatible stream is ``data: {json}`` events separated by blank lines; the event
name, ``id`` and ``retry`` fields and ``:`` comments carry nothing the backend uses. Decoding
works on bytes (no text decoding step: the JSON parser takes UTF-8 bytes), a whole network read
at a time, since a read under load holds several events.

    decoder = SSEDecoder()
    for data in decoder.feed(b'data: {"a": 1}\\n\\ndata: [DO'):   # -> [b'{"a": 1}']
        ...
"""

from __future__ import annotations


class SSEDecoder:
    """Lines end with CRLF, LF or a lone CR (the SSE grammar allows all three); an event's
    ``data`` lines join with LF; an event ends at a blank line."""

    def __init__(self) -> None:
        self._tail = b""  # the unfinished last line of what was fed so far
        self._data: list[bytes] = []  # the data lines of the event being read

    def feed(self, chunk: bytes) -> list[bytes]:
        """The ``data`` of every event that ``chunk`` completes, in order."""
        if (
            not self._tail
            and not self._data
            and chunk.startswith(b"data: ")
            and chunk.find(b"\n") == len(chunk) - 2
            and chunk.endswith(b"\n\n")
            and b"\r" not in chunk
        ):
            return [chunk[6:-2]]  # the common read: exactly one whole one-line event
        buffer = self._tail + chunk if self._tail else chunk
        held = b""
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):
                # It may be the first half of a CRLF split between two reads.
                buffer, held = buffer[:-1], b"\r"
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        self._tail = lines.pop() + held
        events: list[bytes] = []
        for line in lines:
            if not line:
                if self._data:
                    events.append(self._data[0] if len(self._data) == 1 else b"\n".join(self._data))
                    self._data = []
            elif line.startswith(b"data:"):
                value = line[5:]
                self._data.append(value[1:] if value.startswith(b" ") else value)
            elif line == b"data":
                self._data.append(b"")  # a field name alone has an empty value
        return events

    def close(self) -> list[bytes]:
        """At the end of the body: the last event, had it no closing blank line (the SSE
        specification would drop it; being lenient costs nothing here)."""
        return self.feed(b"\n\n") if self._tail or self._data else []
