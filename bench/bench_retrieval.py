"""Retrieval benchmark: quality (recall@5, MRR), ingestion speed and search latency.

    .venv/bin/python bench/bench_retrieval.py [--quick]

* Quality: a self-written fictional product knowledge base (bench/corpus/products.json), one
  document per product plus shared shipping boilerplate, chunked 200/100 tokens. Two questions
  per product: one quotes the product code (keyword-friendly), one paraphrases what it does
  (meaning-friendly). A question is answered when a chunk of its product's file is retrieved;
  recall@5 and MRR are over files. Keyword-only, dense-only and hybrid run in the same process
  on the same index.
* Ingestion: parse + chunk + embed (local MiniLM) + index of long text documents, chunks/s.
* Search: p50/p95 of ``SqliteChunkIndex.search`` over 10k (and 100k without --quick) chunks with
  synthetic unit vectors and synthetic text; query embedding is timed separately.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from assistantd.retrieval import ChunkingStrategy, SqliteChunkIndex, ingest_file
from assistantd.retrieval.chunking import Chunk
from assistantd.retrieval.local_embedder import LocalEmbedder

CORPUS = Path(__file__).parent / "corpus" / "products.json"
STRATEGY = ChunkingStrategy(200, 100)
BOILERPLATE = (
    "Shipping and returns. Orders ship within two business days from our warehouse. "
    "Returns are accepted within thirty days of delivery when the product is unused and in its "
    "original packaging. Refunds are paid to the original payment method within a week. "
    "Customer service answers email and phone questions on weekdays from nine to five. "
    "Spare parts and accessories can be ordered from the support page using the product code."
)


def product_document(product: dict) -> str:
    return (
        f"{product['name']} (model {product['code']})\n\n"
        f"The {product['name']} is {product['about']}. It comes with a {product['warranty']} "
        f"warranty covering defects in materials and workmanship; the warranty for model "
        f"{product['code']} is registered online with the serial number.\n\n"
        f"{BOILERPLATE}\n\nModel {product['code']} is designed and tested by our product team."
    )


def questions(products: list[dict]) -> list[tuple[str, str, str]]:
    """(kind, question, expected file id)."""
    out = []
    for p in products:
        out.append(("code", f"How long is the warranty for {p['code']}?", p["code"]))
        out.append(("paraphrase", p["paraphrase"], p["code"]))
    return out


async def quality(embedder: LocalEmbedder, workdir: Path) -> list[list[str]]:
    products = json.loads(CORPUS.read_text())["products"]
    index = SqliteChunkIndex(workdir / "quality.sqlite3")
    for p in products:
        data = product_document(p).encode()
        await ingest_file(index, embedder, "vs", p["code"], data, f"{p['code']}.md", None, STRATEGY)
    asked = questions(products)
    vectors = await embedder.embed([q for _, q, _ in asked])
    rows = []
    for mode, ranker in (
        ("keyword", "none"),
        ("dense", "none"),
        ("hybrid", "none"),
        ("hybrid", "auto"),
    ):
        for kind in ("code", "paraphrase", "all"):
            ranks = []
            for (k, q, expected), vector in zip(asked, vectors, strict=True):
                if kind != "all" and k != kind:
                    continue
                hits = await index.search(["vs"], [q], vector, 20, 0.0, None, ranker, mode=mode)
                files = list(dict.fromkeys(h.file_id for h in hits))
                ranks.append(files.index(expected) + 1 if expected in files else None)
            recall = sum(1 for r in ranks if r and r <= 5) / len(ranks)
            mrr = sum(1 / r for r in ranks if r) / len(ranks)
            rows.append([mode, ranker, kind, str(len(ranks)), f"{recall:.3f}", f"{mrr:.3f}"])
    await index.close()
    return rows


async def ingestion(embedder: LocalEmbedder, workdir: Path, documents: int) -> list[str]:
    products = json.loads(CORPUS.read_text())["products"]
    rng = random.Random(7)
    index = SqliteChunkIndex(workdir / "ingest.sqlite3")
    texts = []
    for _ in range(documents):
        sample = rng.sample(products, 12)
        texts.append("\n\n".join(product_document(p) for p in sample))
    chunks = 0
    start = time.perf_counter()
    for i, text in enumerate(texts):
        chunks += await ingest_file(index, embedder, "vs", f"doc{i}", text.encode(), "doc.txt")
    elapsed = time.perf_counter() - start
    await index.close()
    return [str(documents), str(chunks), f"{elapsed:.1f}", f"{chunks / elapsed:.1f}"]


async def search_latency(
    workdir: Path, sizes: list[int], query_vector: np.ndarray, dims: int
) -> list[list[str]]:
    rng = np.random.default_rng(11)
    vocabulary = [f"w{i}" for i in range(5000)]
    index = SqliteChunkIndex(workdir / "scale.sqlite3")
    rows, have = [], 0
    for size in sizes:
        batch = 1000
        while have < size:
            words = rng.choice(vocabulary, size=(batch, 40))
            chunks = [Chunk(j, " ".join(ws), 0, 40) for j, ws in enumerate(words)]
            vectors = rng.standard_normal((batch, dims)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            await index.add("vs", f"file{have // batch}", chunks, vectors, {"n": have // batch})
            have += batch
        await index.search(["vs"], ["w1 w2"], query_vector)  # loads the matrix cache
        for label, filters in (("none", None), ("n < 50", {"type": "lt", "key": "n", "value": 50})):
            times = []
            for _ in range(40):
                words = " ".join(rng.choice(vocabulary, size=4))
                start = time.perf_counter()
                await index.search(["vs"], [words], query_vector, 10, 0.0, filters, "auto")
                times.append((time.perf_counter() - start) * 1000)
            p50 = statistics.median(times)
            p95 = sorted(times)[int(len(times) * 0.95) - 1]
            rows.append([f"{size:,}", label, f"{p50:.1f}", f"{p95:.1f}"])
    await index.close()
    return rows


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


async def main(quick: bool) -> None:
    embedder = LocalEmbedder()
    start = time.perf_counter()
    await embedder.load()
    print(f"local model load: {time.perf_counter() - start:.1f} s\n")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        print("## Retrieval quality (files; 200/100-token chunks)\n")
        rows = await quality(embedder, workdir)
        print(table(["method", "ranker", "questions", "n", "recall@5", "MRR"], rows))
        print("\n## Ingestion (parse + chunk 800/400 + embed + index, local MiniLM, 2 cores)\n")
        row = await ingestion(embedder, workdir, 2 if quick else 8)
        print(table(["documents", "chunks", "seconds", "chunks/s"], [row]))
        query = (await embedder.embed(["warranty for a coffee machine"]))[0]
        times = []
        for _ in range(10):
            start = time.perf_counter()
            await embedder.embed(["how long is the warranty for a coffee machine?"])
            times.append((time.perf_counter() - start) * 1000)
        print(f"\nquery embedding p50: {statistics.median(times):.1f} ms\n")
        print("## Search latency (index.search, hybrid + auto rerank, top 10, synthetic)\n")
        sizes = [10_000] if quick else [10_000, 100_000]
        rows = await search_latency(workdir, sizes, query, 384)
        print(table(["chunks", "filter", "p50 ms", "p95 ms"], rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    asyncio.run(main(parser.parse_args().quick))
