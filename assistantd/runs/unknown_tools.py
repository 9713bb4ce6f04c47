"""Calls to tools the run does not have: answered to the model as an error, a bounded number of
times.

Models do call tools they were not offered (a name from their training, ``code_interpreter``
on a run without it, a typo). Handing such a call to the client as ``requires_action`` would ask
it to run a function it never declared; instead the engine answers the model itself, in the
call's output, saying the tool does not exist and which ones do, and the run goes on. A model
that keeps doing it is given up on: after ``MAX_ROUNDS`` turns with such calls the next one
fails the run.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from assistantd.llm.errors import UpstreamError
from assistantd.runs.turn import PendingCall
from assistantd.tools.interface import ServerToolResult

# Turns of a run in which the model is told it called a missing tool, before the run fails.
MAX_ROUNDS = 3


def offered_names(run_tools: list[dict[str, Any]], server_names: Collection[str]) -> list[str]:
    """The chat function names the model was offered: the run's functions, its server tools."""
    functions = [tool["function"]["name"] for tool in run_tools if tool["type"] == "function"]
    return [*functions, *server_names]


def unknown_calls(calls: Iterable[PendingCall], offered: Collection[str]) -> list[PendingCall]:
    return [call for call in calls if call.name not in offered]


def error_results(calls: list[PendingCall], offered: list[str]) -> dict[str, ServerToolResult]:
    """Each call's answer: a function entry whose output is the error the model is told."""
    available = ", ".join(offered) if offered else "none (answer without calling a tool)"
    results: dict[str, ServerToolResult] = {}
    for call in calls:
        output = f"Error: there is no tool named '{call.name}'. Available tools: {available}."
        function = {"name": call.name, "arguments": call.arguments_text, "output": output}
        results[call.id] = ServerToolResult(
            {"id": call.id, "type": "function", "function": function}, output
        )
    return results


def given_up(calls: list[PendingCall], offered: list[str]) -> UpstreamError:
    """The run's error once the model has been told ``MAX_ROUNDS`` times and calls one again."""
    names = ", ".join(sorted({call.name for call in calls}))
    return UpstreamError(
        "server_error",
        f"The model kept calling tools this run does not have ({names}) after being told "
        f"{MAX_ROUNDS} times which tools it has ({', '.join(offered) or 'none'}).",
    )
