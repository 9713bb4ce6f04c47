"""Retrieval benchmark: quality (recall@5, MRR), ingestion speed and search latency.

    .venv/bin/python bench/bench_retrieval.py [--quick] [--baseline DIR] [--indexes [--cache DIR]]

``--baseline DIR`` (a checkout of an older commit, e.g. ``git archive <commit> | tar -x -C DIR``)
adds a before/after section: the default local embedder of this tree and of DIR, each in its own
process (this script, with DIR's ``assistantd`` first on the path for the baseline), taking turns
over the same ingestion rounds, with their retrieval quality on the same questions.

* Quality, on a generated support knowledge base (``support_kb``; 300 articles, 45 with
  --quick). The vocabulary in bench/corpus/support_kb.json is self-written: 40 home devices
  (each with a two-letter model prefix and a paraphrase), 30 symptoms (each with a paraphrase),
  15 causes, 20 resolutions and 3 boilerplate paragraphs. With a fixed seed (5), each article
  gets a distinct (device, symptom) pair, one of its device's two model numbers (so a model
  number is shared by ~4 articles), a unique 4-digit error code, a firmware version, a cause
  and two resolutions, written into one template with the boilerplate. Articles are therefore
  near-duplicates of each other: ~7 share the device, ~10 the symptom, all share the template.
  Each article gets three questions, written from templates before any result was seen:
  ``identifier`` quotes only its error code; ``paraphrase`` describes the device and the
  symptom in the paraphrase wording; ``model+paraphrase`` gives the model number and the
  paraphrased symptom. A question is answered when a chunk of its article is retrieved
  (200/100-token chunks; the --baseline comparison also with ``auto`` 800/400 chunks, where an
  article is one chunk of several model windows); recall@5 and MRR are over files among the
  top 20 chunks.
  Keyword-only, dense-only and hybrid rank the same index in the same run; the last row asks
  the same questions as ``rewrite_query: true`` searches them (``retrieval/query_rewrite.py``).
  (The fusion in ranking.py was chosen on a different draw, ``support_kb(120, seed=99)``, and
  checked on the old 24-product corpus; the same templates, so only a weak hold-out. The
  ``auto`` ranker's identifier evidence was chosen on ``support_kb(120, seed=99)`` and
  ``support_kb(300, seed=99)`` / ``seed=7``, where its variants (plain or IDF-weighted, max or
  noisy-OR with the cosine) scored alike, then measured once on this draw: identifier
  questions 0.700 → 1.000 recall@5, paraphrases unchanged at 0.610, all 0.758 → 0.868 with
  200/100 chunks, 0.842 → 0.921 with 800/400; ``none`` scores 0.796 / 0.813.)
* Ingestion: parse + chunk (800/400) + embed + index of long text documents (40 articles
  each), chunks/s, for each local runtime taking turns on the same documents, and the runtimes'
  cosine agreement with the fp32 torch model on a sample of chunks. The machine is shared, so
  wall-clock rates swing with other load; chunks per CPU-second of this process (all threads)
  is the steadier figure.
* Search: p50/p95 of ``SqliteChunkIndex.search`` over 10k (and 100k without --quick) chunks with
  synthetic unit vectors and synthetic text; query embedding is timed separately.
* SQLite vs PostgreSQL: the shared ``PostgresChunkIndex`` (a pgvector PostgreSQL started from
  the ``pgserver`` wheel in a temporary directory, unix socket) against the SQLite index, side by
  side: the quality questions on the same 200/100 chunks and vectors (hybrid ``auto``), and the
  search latency on the same synthetic corpus (HNSW answers the PostgreSQL searches past
  ``EXACT_SCAN_CHUNKS``), the indexes taking turns query by query in a shuffled order, with CPU
  per search of the event-loop thread and of the PostgreSQL server. Skipped, saying why, where
  no such PostgreSQL can be started. With ``--indexes``: ``--cache DIR`` keeps the server and
  both 100k-chunk corpora in DIR (built by the first run, which takes long: the HNSW index
  grows chunk by chunk), later runs measure 100k only; ``--baseline DIR`` adds DIR's
  ``PostgresChunkIndex`` (loaded from its file) searching the same database, written by this
  tree's index.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistantd.retrieval import ChunkingStrategy, SqliteChunkIndex, chunk_text, ingest_file
from assistantd.retrieval.chunking import Chunk
from assistantd.retrieval.local_embedder import LocalEmbedder
from assistantd.retrieval.postgres_index import PostgresChunkIndex

try:
    from assistantd.retrieval.query_rewrite import rewrite_query
except ImportError:  # an older checkout, under --baseline: it has no rewrite_query
    rewrite_query = None

ROOT = Path(__file__).resolve().parent.parent
KB = Path(__file__).parent / "corpus" / "support_kb.json"
STRATEGY = ChunkingStrategy(200, 100)
KINDS = ("identifier", "paraphrase", "model+paraphrase")
# Chunkings the --baseline comparison scores quality with.
QUALITY_CHUNKING = {"200/100": STRATEGY, "auto 800/400": ChunkingStrategy()}


@dataclass(frozen=True)
class Article:
    file_id: str
    text: str
    questions: dict[str, str]  # kind → question


def support_kb(count: int, seed: int = 5) -> list[Article]:
    """``count`` generated support articles with their questions (see the module docstring)."""
    vocab = json.loads(KB.read_text())
    components, symptoms = vocab["components"], vocab["symptoms"]
    rng = random.Random(seed)
    pairs = rng.sample(
        [(c, s) for c in range(len(components)) for s in range(len(symptoms))], count
    )
    codes = rng.sample(range(1000, 10000), count)
    models = [
        [f"{prefix}-{n}" for n in rng.sample(range(100, 1000), 2)] for _, prefix, _ in components
    ]
    articles = []
    for i, ((c, s), code) in enumerate(zip(pairs, codes, strict=True)):
        name, _, device_paraphrase = components[c]
        symptom, symptom_paraphrase = symptoms[s]
        model = rng.choice(models[c])
        first, second = rng.sample(vocab["resolutions"], 2)
        firmware = f"{rng.randint(1, 4)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}"
        text = (
            f"Support article KB-{i:04d}: {name} model {model}\n"
            f"Error code E-{code}\n\n"
            f"Affected product: {name} model {model}, firmware {firmware} and earlier.\n\n"
            f"Symptom: {symptom}. Customers with the {name} {model} report that {symptom}; "
            f"error code E-{code} appears in the event log.\n\n"
            f"Cause: {rng.choice(vocab['causes'])}.\n\n"
            f"Resolution: {first}. If the problem continues after that, {second}.\n\n"
            + "\n\n".join(vocab["boilerplate"])
        )
        questions = {
            "identifier": f"What is the fix for error code E-{code}?",
            "paraphrase": f"My {device_paraphrase}: {symptom_paraphrase}. What should I do?",
            "model+paraphrase": f"My {model}: {symptom_paraphrase}. What should I do?",
        }
        articles.append(Article(f"kb{i:04d}", text, questions))
    return articles


# (mode, ranker, rewrite_query): the single methods, then hybrid with each ranker.
METHODS = [
    ("keyword", "none", False),
    ("dense", "none", False),
    ("hybrid", "none", False),
    ("hybrid", "auto", False),
    ("hybrid", "auto", True),
]


def _method_name(mode: str, ranker: str, rewrite: bool) -> str:
    return f"{mode} ({ranker}{', rewrite_query' if rewrite else ''})"


async def quality(
    embedder: LocalEmbedder,
    workdir: Path,
    articles: list[Article],
    strategy: ChunkingStrategy = STRATEGY,
    index: object | None = None,
    methods: list[tuple[str, str, bool]] = METHODS,
) -> list[list]:
    """Recall@5 / MRR rows, one per method; ``index`` (empty) instead of a new SQLite one."""
    name = f"quality-{embedder.runtime_name}-{strategy.max_chunk_size_tokens}.sqlite3"
    index = index or SqliteChunkIndex(workdir / name)
    for article in articles:
        data = article.text.encode()
        await ingest_file(index, embedder, "vs", article.file_id, data, "a.md", None, strategy)
    asked = [(kind, a.questions[kind], a.file_id) for a in articles for kind in KINDS]
    questions = {False: [q for _, q, _ in asked]}
    if rewrite_query is not None:
        questions[True] = [rewrite_query(q) for q in questions[False]]
    vectors = {rewrite: await embedder.embed(qs) for rewrite, qs in questions.items()}
    methods = [method for method in methods if method[2] in questions]
    ranks: dict[tuple[str, str], list[int | None]] = {}
    for mode, ranker, rewrite in methods:
        method = _method_name(mode, ranker, rewrite)
        searched = zip(asked, questions[rewrite], vectors[rewrite], strict=True)
        for (kind, _, expected), question, vector in searched:
            hits = await index.search(["vs"], [question], vector, 20, 0.0, None, ranker, mode=mode)
            files = list(dict.fromkeys(h.file_id for h in hits))
            rank = files.index(expected) + 1 if expected in files else None
            ranks.setdefault((method, kind), []).append(rank)
            ranks.setdefault((method, "all"), []).append(rank)
    await index.close()
    rows = []
    for mode, ranker, rewrite in methods:
        method = _method_name(mode, ranker, rewrite)
        row = [embedder.runtime_name, method]
        for kind in (*KINDS, "all"):
            found = ranks[method, kind]
            recall = sum(1 for r in found if r and r <= 5) / len(found)
            mrr = sum(1 / r for r in found if r) / len(found)
            row.append(f"{recall:.3f} / {mrr:.3f}")
        rows.append(row)
    return rows


async def ingestion_seconds(
    embedder: LocalEmbedder, path: Path, texts: list[str]
) -> tuple[int, float, float]:
    """Chunks indexed, wall seconds and process CPU seconds to ingest ``texts`` afresh."""
    index = SqliteChunkIndex(path)
    chunks = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for i, text in enumerate(texts):
        chunks += await ingest_file(index, embedder, "vs", f"doc{i}", text.encode(), "doc.txt")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    await index.close()
    return chunks, elapsed, cpu


def ingestion_texts(articles: list[Article], quick: bool) -> list[str]:
    """Long documents of 40 articles each (1 with --quick, else 4)."""
    per_doc, docs = 40, 1 if quick else 4
    return [
        "\n\n".join(a.text for a in articles[i * per_doc : (i + 1) * per_doc]) for i in range(docs)
    ]


async def agreement(embedder: LocalEmbedder, reference: LocalEmbedder, texts: list[str]) -> str:
    ours, theirs = await embedder.embed(texts), await reference.embed(texts)
    cosines = np.sum(ours * theirs, axis=1)
    return f"min {cosines.min():.4f}, mean {cosines.mean():.4f}"


async def query_p50(embedder: LocalEmbedder) -> float:
    times = []
    for _ in range(10):
        start = time.perf_counter()
        await embedder.embed(["how long is the warranty for a coffee machine?"])
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def search_latency(
    workdir: Path,
    sizes: list[int],
    query_vector: np.ndarray,
    dims: int,
    index: object | None = None,
    rounds: int = 40,
) -> list[list[str]]:
    """p50/p95 rows per size and filter; ``index`` (empty) instead of a new SQLite one. The
    corpus and the queries are drawn from fixed seeds: every index sees the same."""
    rng = np.random.default_rng(11)
    vocabulary = [f"w{i}" for i in range(5000)]
    index = index or SqliteChunkIndex(workdir / "scale.sqlite3")
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
        if hasattr(index, "analyze"):  # PostgreSQL: statistics as autovacuum would leave them
            await index.analyze()
        await index.search(["vs"], ["w1 w2"], query_vector)  # loads the matrix cache
        for label, filters in (("none", None), ("n < 50", {"type": "lt", "key": "n", "value": 50})):
            times = []
            for _ in range(rounds):
                words = " ".join(rng.choice(vocabulary, size=4))
                start = time.perf_counter()
                await index.search(["vs"], [words], query_vector, 10, 0.0, filters, "auto")
                times.append((time.perf_counter() - start) * 1000)
            p50 = statistics.median(times)
            p95 = sorted(times)[int(len(times) * 0.95) - 1]
            rows.append([f"{size:,}", label, f"{p50:.1f}", f"{p95:.1f}"])
    await index.close()
    return rows


def table(headers: list[str], rows: list[list]) -> str:
    def cell(value: object) -> str:
        return f"{value:.3f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


async def main(quick: bool) -> None:
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores)\n")
    runtimes = {name: LocalEmbedder(runtime=name) for name in ("onnx-int8", "onnx-fp32", "torch")}
    if quick:
        del runtimes["onnx-fp32"]
    for name, embedder in runtimes.items():
        start = time.perf_counter()
        await embedder.load()
        print(f"{name} load (built once, then cached): {time.perf_counter() - start:.1f} s")
    default = runtimes["onnx-int8"]
    articles = support_kb(45 if quick else 300)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        print(f"\n## Retrieval quality ({len(articles)} generated support articles)\n")
        rows = await quality(default, workdir, articles)
        if not quick:
            rows += await quality(runtimes["torch"], workdir, articles)
        kinds = [f"{kind} ({len(articles)})" for kind in KINDS]
        headers = ["embedder", "method (ranker)", *kinds, f"all ({3 * len(articles)})"]
        print("recall@5 / MRR per question kind (number of questions)\n")
        print(table(headers, rows))

        print("\n## Ingestion (parse + chunk 800/400 + embed + index, local MiniLM, 2 cores)\n")
        texts = ingestion_texts(articles, quick)
        sample = [c.text for c in chunk_text("\n\n".join(texts))][:32]
        # Runtimes take turns, so a burst of load from elsewhere hits them alike; best and
        # median of the rounds are shown.
        seconds: dict[str, list[float]] = {name: [] for name in runtimes}
        cpu: dict[str, list[float]] = {name: [] for name in runtimes}
        chunks = 0
        for round_ in range(2 if quick else 3):
            for name, embedder in runtimes.items():
                path = workdir / f"ingest-{name}-{round_}.sqlite3"
                chunks, elapsed, cpu_seconds = await ingestion_seconds(embedder, path, texts)
                seconds[name].append(elapsed)
                cpu[name].append(cpu_seconds)
        rows = []
        for name, embedder in runtimes.items():
            best, median = min(seconds[name]), statistics.median(seconds[name])
            rows.append(
                [
                    embedder.runtime_name,
                    f"{len(texts)} / {chunks}",
                    f"{chunks / best:.1f}",
                    f"{chunks / median:.1f}",
                    f"{chunks / statistics.median(cpu[name]):.1f}",
                    await agreement(embedder, runtimes["torch"], sample),
                    f"{await query_p50(embedder):.1f}",
                ]
            )
        headers = [
            "runtime",
            "documents / chunks",
            "chunks/s best",
            "chunks/s median",
            "chunks/CPU-s",
        ]
        print(table([*headers, "cosine vs torch", "query embed p50 ms"], rows))

        print("\n## Search latency (index.search, hybrid + auto rerank, top 10, synthetic)\n")
        query = (await default.embed(["warranty for a coffee machine"]))[0]
        sizes = [10_000] if quick else [10_000, 100_000]
        rows = await search_latency(workdir, sizes, query, 384)
        print(table(["chunks", "filter", "p50 ms", "p95 ms"], rows))
        await compare_indexes(default, workdir, articles, query, sizes)
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")


async def indexes(quick: bool, cache: Path | None, baseline: Path | None) -> None:
    """Only the SQLite vs PostgreSQL section (``--indexes``)."""
    embedder = LocalEmbedder(runtime="onnx-int8")
    await embedder.load()
    articles = support_kb(45 if quick else 300)
    query = (await embedder.embed(["warranty for a coffee machine"]))[0]
    sizes = [10_000] if quick else [10_000, 100_000]
    if cache:  # a cached corpus is measured at its full size only
        sizes = sizes[-1:]
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores)")
    with tempfile.TemporaryDirectory() as tmp:
        await compare_indexes(embedder, Path(tmp), articles, query, sizes, cache, baseline)
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")


async def compare_indexes(
    embedder: LocalEmbedder,
    workdir: Path,
    articles: list[Article],
    query: np.ndarray,
    sizes: list[int],
    cache: Path | None = None,
    baseline: Path | None = None,
) -> None:
    """SQLite and PostgreSQL indexes side by side: the same questions, the same corpora; with
    ``baseline``, that checkout's PostgreSQL index too, on the same database."""
    print("\n## Chunk index: SQLite (embedded) vs PostgreSQL (pgvector, shared)\n")
    try:
        server = _pgvector_server(cache)
    except Exception as error:  # no pgserver wheel, or it cannot start here
        print(f"skipped: no PostgreSQL with pgvector ({type(error).__name__}: {error})")
        return
    kinds = {"sqlite": SqliteChunkIndex, "postgres": PostgresChunkIndex}
    if baseline:
        kinds["postgres baseline"] = _baseline_index_class(baseline)
    hybrid = [("hybrid", "auto", False)]
    by_index: dict[str, list] = {}
    quality_url = _pgvector_database(server, "quality")
    # The questions' few thousand chunks are scanned exactly; the HNSW path answers them too
    # when told to at any size.
    asked = [(name, kind, None) for name, kind in kinds.items()]
    asked.insert(2, ("postgres, HNSW at any size", PostgresChunkIndex, 0))
    for name, kind, exact_scan_chunks in asked:
        path = workdir / "quality.sqlite3"
        index = await _fresh_index(kind, path, quality_url, exact_scan_chunks)
        by_index[name] = (await quality(embedder, workdir, articles, STRATEGY, index, hybrid))[0]
    print("quality: recall@5 / MRR, hybrid (auto), 200/100 chunks\n")
    rows = [[name, *by_index[name][2:]] for name, _, _ in asked]
    print(table(["index", *KINDS, "all"], rows))
    scale_url = _pgvector_database(server, "scale")
    sqlite_path = (cache or workdir) / "scale.sqlite3"
    rows = await search_latency_side_by_side(kinds, sqlite_path, scale_url, sizes, query)
    print("\nsearch latency, hybrid + auto rerank, top 10, synthetic corpus; the indexes take")
    print("turns query by query in a shuffled order; ms of wall time, and CPU ms per search of")
    print("this process's event-loop thread and of the PostgreSQL server (all its processes)\n")
    headers = ["chunks", "filter", "index", "p50 ms", "p95 ms", "client CPU ms", "server CPU ms"]
    print(table(headers, rows))


async def search_latency_side_by_side(
    kinds: dict[str, type],
    sqlite_path: Path,
    url: str,
    sizes: list[int],
    query_vector: np.ndarray,
    rounds: int = 100,
) -> list[list[str]]:
    """Latency rows per size, filter and index. The corpus and the queries are drawn from
    fixed seeds (every index sees the same); a corpus already in the cache is kept."""
    rng, order = np.random.default_rng(11), random.Random(3)
    vocabulary = [f"w{i}" for i in range(5000)]
    # The PostgreSQL indexes share one database: this tree's writes it, the baseline reads it.
    writers = [SqliteChunkIndex(sqlite_path), await PostgresChunkIndex.connect(url)]
    indexes = {
        name: writers[0] if kind is SqliteChunkIndex else await kind.connect(url)
        for name, kind in kinds.items()
    }
    server = _server_processes(url)
    held = [await w.chunk_count("vs") for w in writers]
    for writer, count in zip(writers, held, strict=True):
        if count != sizes[-1]:
            await writer.delete_store("vs")
    rows, have = [], 0
    for size in sizes:
        while have < size:
            words = rng.choice(vocabulary, size=(1000, 40))
            chunks = [Chunk(j, " ".join(ws), 0, 40) for j, ws in enumerate(words)]
            vectors = rng.standard_normal((1000, 384)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            for writer, count in zip(writers, held, strict=True):
                if count != sizes[-1]:  # not a cached corpus: (re)built
                    file_id = f"file{have // 1000}"
                    await writer.add("vs", file_id, chunks, vectors, {"n": have // 1000})
            have += 1000
        await writers[1].analyze()  # PostgreSQL: statistics as autovacuum would leave them
        for index in indexes.values():
            await index.search(["vs"], ["w1 w2"], query_vector)  # loads the matrix cache
        for label, filters in (("none", None), ("n < 50", {"type": "lt", "key": "n", "value": 50})):
            samples: dict[str, list[tuple[float, float, float]]] = {n: [] for n in indexes}
            for _ in range(rounds):
                words = " ".join(rng.choice(vocabulary, size=4))
                # A new order each turn: what ran just before (SQLite's numpy threads spin a
                # while after a search) weighs on every index alike.
                for name in order.sample(list(indexes), len(indexes)):
                    await asyncio.sleep(0.005)
                    server_cpu = _cpu_seconds(server)
                    cpu, start = time.thread_time(), time.perf_counter()
                    await indexes[name].search(["vs"], [words], query_vector, 10, 0.0, filters)
                    elapsed, cpu = time.perf_counter() - start, time.thread_time() - cpu
                    server_cpu = _cpu_spent(server_cpu, _cpu_seconds(server))
                    samples[name].append((elapsed * 1000, cpu * 1000, server_cpu * 1000))
            for name, found in samples.items():
                times = sorted(t for t, _, _ in found)
                rows.append(
                    [
                        f"{size:,}",
                        label,
                        name,
                        f"{statistics.median(times):.1f}",
                        f"{times[int(len(times) * 0.95) - 1]:.1f}",
                        *_cpu_cells(name, found),
                    ]
                )
    for index in {*indexes.values(), *writers}:
        await index.close()
    return rows


def _cpu_cells(name: str, found: list[tuple[float, float, float]]) -> list[str]:
    """Median event-loop-thread CPU and mean server CPU per search, in ms; none for SQLite,
    whose work runs in its executor thread (and numpy's) in this process."""
    if name == "sqlite":
        return ["", ""]
    client = statistics.median(c for _, c, _ in found)
    return [f"{client:.1f}", f"{statistics.mean(c for *_, c in found):.1f}"]


def _pgvector_server(cache: Path | None) -> object:
    """A pgvector PostgreSQL of this run's own, stopped at exit; in ``cache`` (kept) or in a
    temporary directory (deleted)."""
    import atexit

    import pgserver

    if cache:
        (cache / "pg").mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(cache / "pg", cleanup_mode="stop")
    else:
        directory = tempfile.mkdtemp(prefix="pgv-bench-")
        server = pgserver.get_server(directory, cleanup_mode="delete")
    atexit.register(server.cleanup)
    return server


def _pgvector_database(server: object, name: str) -> str:
    """The URL of database ``name`` on ``server``, made and migrated if need be."""
    from assistantd.store.database import Database

    if f"| {name} " not in server.psql("SELECT '| ' || datname || ' ' FROM pg_database;"):
        server.psql(f"CREATE DATABASE {name};")
    base, _, socket = server.get_uri().partition("?")
    url = f"{base.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    url += f"?{socket}"

    async def migrate() -> None:
        db = Database(url)
        await db.migrate()
        await db.dispose()

    # Its own thread: this is called from inside the benchmark's event loop.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, migrate()).result()
    return url


def _server_processes(url: str) -> list:
    """The PostgreSQL server's processes (the postmaster of the URL's socket directory and its
    children), for their CPU time."""
    import psutil

    directory = url.partition("host=")[2].split("&")[0]
    pid = int((Path(directory) / "postmaster.pid").read_text().split()[0])
    return [psutil.Process(pid)]


def _cpu_seconds(processes: list) -> dict[int, float]:
    """CPU seconds so far of each process and its children, by pid."""
    found = {}
    for process in processes:
        for each in [process, *process.children()]:
            try:
                times = each.cpu_times()
            except Exception:  # a process that ended meanwhile
                continue
            found[each.pid] = times.user + times.system
    return found


def _cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings by the processes in both (one that ended took
    its time with it; a short-lived one in between is missed)."""
    return sum(after[pid] - before[pid] for pid in before.keys() & after.keys())


def _baseline_index_class(checkout: Path) -> type:
    """The PostgreSQL index class of an older checkout, loaded from its file under another
    module name (its imports of the rest of ``assistantd`` are this tree's)."""
    import importlib.util

    path = checkout / "assistantd" / "retrieval" / "postgres_index.py"
    spec = importlib.util.spec_from_file_location("baseline_postgres_index", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PostgresChunkIndex


async def _fresh_index(
    kind: type, sqlite_path: Path, url: str, exact_scan_chunks: int | None = None
) -> object:
    if kind is SqliteChunkIndex:
        sqlite_path.unlink(missing_ok=True)
        return SqliteChunkIndex(sqlite_path)
    # This tree's index empties the store (it knows every table, the baseline's maybe not).
    cleaner = await PostgresChunkIndex.connect(url)
    await cleaner.delete_store("vs")
    await cleaner.close()
    if exact_scan_chunks is None:
        return await kind.connect(url)
    return await kind.connect(url, exact_scan_chunks)


async def child(task: str, quick: bool) -> None:
    """One build's share of the --baseline comparison, as JSON on stdout."""
    embedder = LocalEmbedder()
    await embedder.load()
    articles = support_kb(45 if quick else 300)
    with tempfile.TemporaryDirectory() as tmp:
        if task == "quality":
            found = {
                label: await quality(embedder, Path(tmp), articles, strategy)
                for label, strategy in QUALITY_CHUNKING.items()
            }
            print(json.dumps({"runtime": embedder.runtime_name, "quality": found}))
            return
        texts = ingestion_texts(articles, quick)
        # Untimed warm-up: the o200k vocabulary load (~0.6 s) and onnxruntime's first runs.
        await ingestion_seconds(embedder, Path(tmp) / "warm.sqlite3", [articles[0].text * 8])
        chunks, elapsed, cpu = await ingestion_seconds(embedder, Path(tmp) / "i.sqlite3", texts)
        print(json.dumps({"chunks": chunks, "seconds": elapsed, "cpu": cpu}))


def run_child(checkout: Path, task: str, quick: bool) -> dict:
    # The checkout's package comes first on the path, ahead of the installed (editable) one.
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    args = [sys.executable, __file__, "--child", task] + (["--quick"] if quick else [])
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(baseline: Path, quick: bool) -> None:
    builds = {"baseline": baseline.resolve(), "this": ROOT}
    print(f"\n## Before / after: default local embedder, {baseline} vs this tree\n")
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores)\n")
    runs: dict[str, list[dict]] = {name: [] for name in builds}
    for _ in range(3 if quick else 5):
        for name, checkout in builds.items():
            runs[name].append(run_child(checkout, "ingest", quick))
    rows, quality_rows, kept = [], [], ("dense (none)", "hybrid (none)", "hybrid (auto)")
    for name, checkout in builds.items():
        found = run_child(checkout, "quality", quick)
        chunks = runs[name][0]["chunks"]
        best = min(r["seconds"] for r in runs[name])
        median = statistics.median(r["seconds"] for r in runs[name])
        cpu = statistics.median(r["cpu"] for r in runs[name])
        rows.append(
            [
                name,
                found["runtime"],
                chunks,
                f"{chunks / best:.1f}",
                f"{chunks / median:.1f}",
                f"{chunks / cpu:.1f}",
            ]
        )
        for chunking, found_rows in found["quality"].items():
            scores = {row[1]: row[-1] for row in found_rows}
            quality_rows.append([name, chunking, *(scores[k] for k in kept)])
    samples = len(runs["this"])
    print(f"ingestion: {samples} rounds, the builds taking turns; chunks/CPU-s from the median\n")
    headers = ["build", "runtime", "chunks", "chunks/s best", "chunks/s median", "chunks/CPU-s"]
    print(table(headers, rows))
    print("\nretrieval quality, all questions (recall@5 / MRR)\n")
    print(table(["build", "chunking", *kept], quality_rows))
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="an older checkout to compare with (with --indexes: its PostgreSQL index)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="with --indexes: keep the PostgreSQL server and the 100k-chunk corpus (both"
        " indexes) in this directory, built on the first run and reused after",
    )
    parser.add_argument(
        "--indexes", action="store_true", help="only the SQLite vs PostgreSQL index section"
    )
    parser.add_argument("--child", choices=("ingest", "quality"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        asyncio.run(child(options.child, options.quick))
    elif options.indexes:
        asyncio.run(indexes(options.quick, options.cache, options.baseline))
    elif options.baseline:
        compare(options.baseline, options.quick)
    else:
        asyncio.run(main(options.quick))
