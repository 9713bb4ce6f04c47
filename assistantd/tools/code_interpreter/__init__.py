"""The code_interpreter tool: persistent, sandboxed Python sessions, one per thread.

Use ``CodeSessions(settings).execute(f"{tenant}:{thread_id}", code, files)``; see
``sessions.py`` for the lifecycle and ``deploy/sandbox.md`` for what the sandbox protects.
"""

from assistantd.tools.code_interpreter.backend import (
    SandboxBackend,
    SandboxSpec,
    SandboxUnavailable,
)
from assistantd.tools.code_interpreter.bubblewrap import BubblewrapSandbox
from assistantd.tools.code_interpreter.limits import ResourceLimits
from assistantd.tools.code_interpreter.result import ExecutionResult, OutputFile
from assistantd.tools.code_interpreter.sessions import CodeSessions

__all__ = [
    "BubblewrapSandbox",
    "CodeSessions",
    "ExecutionResult",
    "OutputFile",
    "ResourceLimits",
    "SandboxBackend",
    "SandboxSpec",
    "SandboxUnavailable",
]
