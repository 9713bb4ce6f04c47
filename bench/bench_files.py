"""Files and vector-store ingestion through a live server (SQLite, scripted-model embeddings).

* Upload and download throughput of one large file (``POST /v1/files``, ``GET …/content``), and
  the server process's peak resident memory before and after: the upload is streamed to disk, so
  the peak should not grow by the file's size.
* Background ingestion: a file batch of small text files, from create to ``completed``.

Run: ``python bench/bench_files.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistantd.config import Settings
from assistantd.scripted_model.testing import running_scripted_model
from tests.harness.server import running_server

MB = 1024 * 1024
PARAGRAPH = (
    "Section {n}. The quarterly report covers revenue, churn and hiring in region {n}; the "
    "board asked for a breakdown by product line and a forecast for the next two quarters. "
)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def chunks(total: int, size: int = MB):
    block = os.urandom(size)
    for start in range(0, total, size):
        yield block[: min(size, total - start)]


def bench_upload(http: httpx.Client, megabytes: int) -> list[tuple[str, str]]:
    total = megabytes * MB
    boundary = "benchboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body():
        yield head
        yield from chunks(total)
        yield tail

    rss_before = peak_rss_mb()
    started = time.perf_counter()
    response = http.post(
        "/files",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    upload_seconds = time.perf_counter() - started
    response.raise_for_status()
    file_id = response.json()["id"]
    started = time.perf_counter()
    received = 0
    with http.stream("GET", f"/files/{file_id}/content") as stream:
        for piece in stream.iter_bytes():
            received += len(piece)
    download_seconds = time.perf_counter() - started
    assert received == total
    return [
        (f"upload {megabytes} MB (MB/s)", f"{megabytes / upload_seconds:.0f}"),
        (f"download {megabytes} MB (MB/s)", f"{megabytes / download_seconds:.0f}"),
        ("process peak RSS before upload (MB)", f"{rss_before:.0f}"),
        ("process peak RSS after upload+download (MB)", f"{peak_rss_mb():.0f}"),
    ]


def bench_ingestion(http: httpx.Client, count: int) -> list[tuple[str, str]]:
    text = "".join(PARAGRAPH.format(n=n) for n in range(40))  # ≈ 1,400 tokens, 2–3 chunks
    file_ids = [
        http.post(
            "/files",
            data={"purpose": "assistants"},
            files={"file": (f"report-{n}.txt", f"Report {n}. {text}".encode())},
        ).json()["id"]
        for n in range(count)
    ]
    store = http.post("/vector_stores", json={"name": "bench"}).json()
    started = time.perf_counter()
    batch = http.post(
        f"/vector_stores/{store['id']}/file_batches", json={"file_ids": file_ids}
    ).json()
    while batch["status"] == "in_progress":
        time.sleep(0.02)
        batch = http.get(f"/vector_stores/{store['id']}/file_batches/{batch['id']}").json()
    seconds = time.perf_counter() - started
    assert batch["file_counts"]["completed"] == count, batch
    started = time.perf_counter()
    searches = 20
    for n in range(searches):
        http.post(
            f"/vector_stores/{store['id']}/search", json={"query": f"revenue forecast region {n}"}
        ).raise_for_status()
    search_ms = (time.perf_counter() - started) / searches * 1000
    return [
        (f"ingest a batch of {count} files (files/s)", f"{count / seconds:.1f}"),
        ("search, mean over 20 (ms)", f"{search_ms:.1f}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    megabytes, files = (64, 30) if args.quick else (512, 200)
    with tempfile.TemporaryDirectory() as tmp, running_scripted_model() as model_url:
        settings = Settings(
            data_dir=Path(tmp),
            embedding_backend="openai",
            embedding_base_url=model_url,
            embedding_dimensions=256,
            max_file_bytes=1024 * MB,
        )
        with (
            running_server(settings) as base,
            httpx.Client(base_url=f"{base}/v1", timeout=600) as http,
        ):
            rows = bench_upload(http, megabytes) + bench_ingestion(http, files)
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
