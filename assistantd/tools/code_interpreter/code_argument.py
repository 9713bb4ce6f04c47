"""The ``code`` argument of the model's code_interpreter call: whole, and as it streams.

The model sends ``{"code": "..."}`` as a JSON text in fragments; clients expect the *code* in
fragments (``code_interpreter.input`` deltas), so the partial JSON is decoded as it grows.
"""

from __future__ import annotations

import json

import jiter

ARGUMENT = "code"


def code_of(arguments: str) -> str:
    """The code to run. Models that skip the JSON wrapper and send bare code are taken at their
    word, as the hosted tool's models were known to do."""
    try:
        value = json.loads(arguments)
    except ValueError:
        return arguments
    if isinstance(value, dict):
        code = value.get(ARGUMENT)
        return code if isinstance(code, str) else ""
    return value if isinstance(value, str) else arguments


class CodeInputStream:
    """Feeds on argument fragments; hands back the code decoded since the last call."""

    def __init__(self) -> None:
        self._raw = bytearray()
        self.sent = ""  # the code handed out so far

    def feed(self, fragment: str) -> str:
        self._raw += fragment.encode()
        decoded = self._decoded()
        if not decoded.startswith(self.sent) or len(decoded) == len(self.sent):
            return ""
        piece, self.sent = decoded[len(self.sent) :], decoded
        return piece

    def _decoded(self) -> str:
        try:
            # A half-received string (even a half escape) decodes to the part that is complete.
            value = jiter.from_json(bytes(self._raw), partial_mode="trailing-strings")
        except ValueError:
            return self.sent  # not JSON (bare code, or broken): the step's final input says it
        code = value.get(ARGUMENT) if isinstance(value, dict) else None
        return code if isinstance(code, str) else self.sent
