"""Code interpreter latency: cold session start, warm round trip, and the cost of preloading.

    .venv/bin/python bench/bench_code_interpreter.py [--quick]

Cold = the first ``print(1)`` of a new key (sandbox + kernel start + execution); warm =
``print(1)`` in a running session; "first data-science import" = the first cell importing
numpy, pandas and matplotlib.pyplot in a fresh session. Rows compare a kernel that imports
nothing at start (lazy, the default) with one that preloads the stack.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from assistantd.config import Settings
from assistantd.tools.code_interpreter import CodeSessions

STACK = ("numpy", "pandas", "matplotlib.pyplot")
IMPORT_STACK = "import numpy, pandas, matplotlib.pyplot"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(sessions: CodeSessions, key: str, code: str) -> float:
    start = time.perf_counter()
    result = await sessions.execute(key, code)
    elapsed = time.perf_counter() - start
    if result.error is not None:
        raise RuntimeError(f"{result.error}: {result.logs}")
    return elapsed


async def measure(preload: tuple[str, ...], cold_runs: int, warm_runs: int) -> dict[str, list]:
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-ci-")))
    sessions = CodeSessions(settings, preload=preload)
    cold, first_import, warm = [], [], []
    try:
        await timed(sessions, "bench:warmup", "print(1)")  # the one-time bwrap self-check
        await sessions.close("bench:warmup")
        for run in range(cold_runs):
            key = f"bench:{run}"
            cold.append(await timed(sessions, key, "print(1)"))
            first_import.append(await timed(sessions, key, IMPORT_STACK))
            if run == 0:
                warm = [await timed(sessions, key, "print(1)") for _ in range(warm_runs)]
            await sessions.close(key)
    finally:
        await sessions.aclose()
    return {"cold": cold, "import": first_import, "warm": warm}


def row(label: str, samples: list[float], target: str) -> str:
    p50, p99 = percentile(samples, 0.5) * 1000, percentile(samples, 0.99) * 1000
    return f"| {label} | {len(samples)} | {p50:.1f} | {p99:.1f} | {target} |"


async def main(quick: bool) -> None:
    cold_runs, warm_runs = (3, 30) if quick else (10, 300)
    lazy = await measure((), cold_runs, warm_runs)
    eager = await measure(STACK, cold_runs, warm_runs)
    print("| measurement | runs | p50 ms | p99 ms | target |")
    print("|---|---|---|---|---|")
    print(row("cold start, lazy (default): first print(1)", lazy["cold"], "≤ 1500"))
    print(row("cold start, preloaded stack: first print(1)", eager["cold"], "≤ 1500"))
    print(row("warm round trip print(1), lazy", lazy["warm"], "≤ 50"))
    print(row("warm round trip print(1), preloaded", eager["warm"], "≤ 50"))
    print(row("first data-science import, lazy", lazy["import"], "-"))
    print(row("first data-science import, preloaded", eager["import"], "-"))
    cold_ratio = statistics.median(eager["cold"]) / statistics.median(lazy["cold"])
    print(f"\npreloaded / lazy cold start (median): {cold_ratio:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs (< 30 s)")
    asyncio.run(main(parser.parse_args().quick))
