"""What one execution gives back to the caller."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class OutputFile:
    """A file the code created or modified under ``/mnt/data``; ``name`` is relative to it."""

    name: str
    data: bytes


@dataclass
class ExecutionResult:
    """The outcome of one ``CodeSessions.execute`` call.

    ``logs`` holds stdout, stderr, the repr of the last expression and tracebacks, in the
    order the kernel sent them, capped (a marker says when it was cut). ``error`` is ``None``
    on success, otherwise the exception name (``"ZeroDivisionError"``), ``"ExecutionTimeout"``,
    ``"KernelDied: …"`` or ``"SandboxUnavailable: …"``.
    """

    logs: str = ""
    images: list[bytes] = field(default_factory=list)
    files: list[OutputFile] = field(default_factory=list)
    error: str | None = None
