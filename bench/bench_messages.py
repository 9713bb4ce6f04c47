"""p50 latency of ``GET /v1/threads/{id}/messages?limit=20`` as a thread grows.

Threads of 10, 10,000 and 1,000,000 messages live in one table (bulk-inserted, shaped as the API
writes them); each is listed through a live server over HTTP, first page and a deep page (``after``
a cursor in the middle). Run: ``python bench/bench_messages.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistantd.clock import now
from assistantd.config import Settings
from assistantd.ids import new_id
from assistantd.store.database import Database
from assistantd.store.tables import Message
from tests.harness.databases import (
    fresh_database,
    postgres_unavailable_reason,
)
from tests.harness.server import running_server

BATCH = 10_000


def message_row(thread_id: str, index: int, created_at: int) -> dict:
    message_id = new_id("msg_")
    data = {
        "id": message_id, "object": "thread.message", "created_at": created_at,
        "thread_id": thread_id, "status": "completed", "incomplete_details": None,
        "completed_at": created_at, "incomplete_at": None, "role": "user",
        "content": [{"type": "text", "text": {"value": f"message {index}", "annotations": []}}],
        "assistant_id": None, "run_id": None, "attachments": [], "metadata": {},
    }  # fmt: skip
    return {
        "id": message_id, "tenant": "default", "created_at": created_at,
        "thread_id": thread_id, "run_id": None, "data": data,
    }  # fmt: skip


async def fill(url: str, thread_id: str, count: int) -> str:
    """Insert ``count`` messages; returns the id of the middle one (a deep cursor)."""
    db = Database(url)
    middle = ""
    created_at = now()
    for start in range(0, count, BATCH):
        rows = [
            message_row(thread_id, i, created_at) for i in range(start, min(count, start + BATCH))
        ]
        if start <= count // 2 < start + BATCH:
            middle = rows[count // 2 - start]["id"]
        async with db.write() as session:
            await session.execute(insert(Message), rows)
    await db.dispose()
    return middle


def timed_get(client: httpx.Client, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200 and response.json()["data"]
    return elapsed


def measure(
    backend: str, sizes: list[int], repeats: int
) -> list[tuple[str, int, str, float, float]]:
    """Requests to every (size, page) go round-robin, so load from elsewhere hits all alike."""
    with tempfile.TemporaryDirectory() as tmp, fresh_database(backend, Path(tmp)) as url:
        settings = Settings(data_dir=Path(tmp), database_url=url)
        with running_server(settings) as base, httpx.Client(base_url=f"{base}/v1") as client:
            paths: dict[tuple[int, str], str] = {}
            for size in sizes:
                thread_id = client.post("/threads").json()["id"]
                print(f"  {backend}: inserting {size:,} messages…", file=sys.stderr)
                middle = asyncio.run(fill(url, thread_id, size))
                paths[size, "first"] = f"/threads/{thread_id}/messages?limit=20"
                paths[size, "deep"] = f"/threads/{thread_id}/messages?limit=20&after={middle}"
            samples: dict[tuple[int, str], list[float]] = {key: [] for key in paths}
            for round_ in range(repeats + 10):
                for key, path in paths.items():
                    elapsed = timed_get(client, path)
                    if round_ >= 10:  # the first rounds warm caches and connections
                        samples[key].append(elapsed)
    rows = []
    for (size, page), values in samples.items():
        values.sort()
        rows.append(
            (backend, size, page, statistics.median(values), values[int(len(values) * 0.99) - 1])
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 / 1,000 / 100,000 messages")
    args = parser.parse_args()
    sizes = [10, 1_000, 100_000] if args.quick else [10, 10_000, 1_000_000]
    repeats = 100 if args.quick else 300
    backends = ["sqlite"]
    reason = postgres_unavailable_reason()
    if reason:
        print(f"PostgreSQL skipped: {reason}", file=sys.stderr)
    else:
        backends.append("postgresql")
    rows = [row for backend in backends for row in measure(backend, sizes, repeats)]
    print("\n| backend | messages in thread | page | p50 ms | p99 ms | p50 / p50 at smallest |")
    print("|---|---:|---|---:|---:|---:|")
    for backend, size, page, p50, p99 in rows:
        base = next(r[3] for r in rows if r[0] == backend and r[1] == sizes[0] and r[2] == page)
        print(f"| {backend} | {size:,} | {page} | {p50:.2f} | {p99:.2f} | {p50 / base:.2f} |")


if __name__ == "__main__":
    main()
