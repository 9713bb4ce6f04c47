"""Real objects for the fuzzer to aim at: generated requests that name them reach much deeper
code (a run's steps, a batch's files) than random ids, which all end at a 404."""

from __future__ import annotations

import time

import httpx

# Path parameter → the id of a real object of that kind.
Ids = dict[str, str]


def seed_objects(base_url: str) -> Ids:
    """One of every object, linked to each other; ``base_url`` ends in ``/v1``."""
    with httpx.Client(base_url=base_url, timeout=30) as http:
        seed_file = {"file": ("seed.txt", b"seed words")}
        file_id = _ok(http.post("/files", files=seed_file, data={"purpose": "assistants"}))["id"]
        store_id = _ok(http.post("/vector_stores", json={"name": "seed", "file_ids": [file_id]}))[
            "id"
        ]
        batch_id = _ok(
            http.post(f"/vector_stores/{store_id}/file_batches", json={"file_ids": [file_id]})
        )["id"]
        assistant_id = _ok(http.post("/assistants", json={"model": "scripted"}))["id"]
        run = _ok(
            http.post(
                "/threads/runs",
                json={
                    "assistant_id": assistant_id,
                    "thread": {"messages": [{"role": "user", "content": "seed"}]},
                },
            )
        )
        thread_id, run_id = run["thread_id"], run["id"]
        _wait_for_run(http, thread_id, run_id)
        message_id = _ok(http.get(f"/threads/{thread_id}/messages"))["data"][0]["id"]
        steps = _ok(http.get(f"/threads/{thread_id}/runs/{run_id}/steps"))["data"]
        upload = {
            "filename": "u.txt",
            "purpose": "assistants",
            "bytes": 4,
            "mime_type": "text/plain",
        }
        upload_id = _ok(http.post("/uploads", json=upload))["id"]
    ids = {
        "file_id": file_id,
        "vector_store_id": store_id,
        "batch_id": batch_id,
        "assistant_id": assistant_id,
        "thread_id": thread_id,
        "run_id": run_id,
        "message_id": message_id,
        "upload_id": upload_id,
        "model": "scripted",
    }
    if steps:
        ids["step_id"] = steps[0]["id"]
    return ids


def _ok(response: httpx.Response) -> dict:
    response.raise_for_status()
    return response.json()


def _wait_for_run(http: httpx.Client, thread_id: str, run_id: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = _ok(http.get(f"/threads/{thread_id}/runs/{run_id}"))["status"]
        if status not in ("queued", "in_progress"):
            return
        time.sleep(0.05)
