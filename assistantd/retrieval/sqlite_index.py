"""The embedded chunk index: one SQLite file (stdlib ``sqlite3``) plus per-store numpy matrices.

* ``chunks`` holds text, position and the float32 vector blob of every chunk; ``files`` holds each
  file's attributes; each store has its own FTS5 table over its chunks' text (porter-stemmed)
  whose ``bm25`` ranks keyword matches (see ``keyword_tables``).
* Dense search is brute force over an in-memory matrix per store, loaded from the blobs on first
  search and dropped whenever the store's chunks change (≈5 ms for 100k × 384 on 2 cores).
* All SQLite and numpy work runs on one worker thread, off the event loop and serialised, so the
  single connection needs no further locking.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistantd.retrieval import keyword_tables
from assistantd.retrieval.chunking import Chunk
from assistantd.retrieval.filters import matches
from assistantd.retrieval.identifiers import quoted_identifiers, rare_limit
from assistantd.retrieval.index import Mode, SearchHit
from assistantd.retrieval.keyword_tables import fts_phrase, fts_query
from assistantd.retrieval.ranking import Candidates, candidate_pool, choose, weighs_identifiers

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    store_id TEXT NOT NULL, file_id TEXT NOT NULL, attributes TEXT NOT NULL,
    PRIMARY KEY (store_id, file_id)
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, store_id TEXT NOT NULL, file_id TEXT NOT NULL,
    position INTEGER NOT NULL, start_token INTEGER NOT NULL, end_token INTEGER NOT NULL,
    text TEXT NOT NULL, vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_file ON chunks (store_id, file_id, position);
"""


@dataclass
class _StoreMatrix:
    ids: np.ndarray  # chunk ids, ascending
    file_codes: np.ndarray  # row → index into files
    files: list[str]
    vectors: np.ndarray  # (rows, dims) float32, unit length
    attributes: dict[str, dict[str, Any]]


class SqliteChunkIndex:
    # A file of this process's: other server processes on the same database do not see it.
    shared = False

    def __init__(self, path: Path | str) -> None:
        self._path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunk-index")
        self._db: sqlite3.Connection | None = None
        self._matrices: dict[str, _StoreMatrix] = {}

    async def _run(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self._path, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA + keyword_tables.SCHEMA)
            keyword_tables.migrate_shared_table(db)
            self._db = db
        return self._db

    # -- writes ----------------------------------------------------------------------------

    async def add(
        self,
        store_id: str,
        file_id: str,
        chunks: list[Chunk],
        vectors: np.ndarray,
        attributes: dict[str, Any],
    ) -> None:
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk is required")
        await self._run(self._add, store_id, file_id, chunks, vectors, attributes)

    def _add(
        self,
        store_id: str,
        file_id: str,
        chunks: list[Chunk],
        vectors: np.ndarray,
        attributes: dict[str, Any],
    ) -> None:
        db = self._conn()
        blobs = np.ascontiguousarray(vectors, dtype=np.float32)
        with db:
            self._delete_chunks(db, store_id, file_id)
            db.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?)",
                (store_id, file_id, json.dumps(attributes or {})),
            )
            table = keyword_tables.ensure_table(db, store_id)
            rows = []
            for chunk, vector in zip(chunks, blobs, strict=True):
                cursor = db.execute(
                    "INSERT INTO chunks (store_id, file_id, position, start_token, end_token,"
                    " text, vector) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        store_id,
                        file_id,
                        chunk.index,
                        chunk.start_token,
                        chunk.end_token,
                        chunk.text,
                        vector.tobytes(),
                    ),
                )
                rows.append((cursor.lastrowid, chunk.text))
            keyword_tables.index_rows(db, table, rows)
        self._matrices.pop(store_id, None)

    async def delete_file(self, store_id: str, file_id: str) -> None:
        await self._run(self._delete_file, store_id, file_id)

    def _delete_file(self, store_id: str, file_id: str) -> None:
        db = self._conn()
        with db:
            self._delete_chunks(db, store_id, file_id)
            db.execute("DELETE FROM files WHERE store_id = ? AND file_id = ?", (store_id, file_id))
        self._matrices.pop(store_id, None)

    @staticmethod
    def _delete_chunks(db: sqlite3.Connection, store_id: str, file_id: str) -> None:
        keyword_tables.forget_file(db, store_id, file_id)
        db.execute("DELETE FROM chunks WHERE store_id = ? AND file_id = ?", (store_id, file_id))

    async def delete_store(self, store_id: str) -> None:
        await self._run(self._delete_store, store_id)

    def _delete_store(self, store_id: str) -> None:
        db = self._conn()
        with db:
            keyword_tables.drop_store(db, store_id)
            db.execute("DELETE FROM chunks WHERE store_id = ?", (store_id,))
            db.execute("DELETE FROM files WHERE store_id = ?", (store_id,))
        self._matrices.pop(store_id, None)

    async def update_attributes(
        self, store_id: str, file_id: str, attributes: dict[str, Any]
    ) -> None:
        await self._run(self._update_attributes, store_id, file_id, attributes)

    def _update_attributes(self, store_id: str, file_id: str, attributes: dict[str, Any]) -> None:
        db = self._conn()
        with db:
            db.execute(
                "UPDATE files SET attributes = ? WHERE store_id = ? AND file_id = ?",
                (json.dumps(attributes or {}), store_id, file_id),
            )
        matrix = self._matrices.get(store_id)
        if matrix is not None and file_id in matrix.attributes:
            matrix.attributes[file_id] = dict(attributes or {})

    # -- reads -----------------------------------------------------------------------------

    async def file_chunks(self, store_id: str, file_id: str) -> list[str]:
        return await self._run(self._file_chunks, store_id, file_id)

    def _file_chunks(self, store_id: str, file_id: str) -> list[str]:
        rows = self._conn().execute(
            "SELECT text FROM chunks WHERE store_id = ? AND file_id = ? ORDER BY position",
            (store_id, file_id),
        )
        return [text for (text,) in rows]

    async def chunk_count(self, store_id: str) -> int:
        return await self._run(self._chunk_count, store_id)

    def _chunk_count(self, store_id: str) -> int:
        row = self._conn().execute("SELECT count(*) FROM chunks WHERE store_id = ?", (store_id,))
        return int(row.fetchone()[0])

    async def search(
        self,
        store_ids: list[str],
        queries: list[str],
        query_vectors: np.ndarray,
        max_num_results: int = 10,
        score_threshold: float = 0.0,
        filters: dict | None = None,
        ranker: str = "auto",
        mode: Mode = "hybrid",
    ) -> list[SearchHit]:
        """Hybrid search over ``store_ids``; ``mode`` limits it to one method (for measuring)."""
        return await self._run(
            self._search,
            store_ids,
            queries,
            np.atleast_2d(np.asarray(query_vectors, dtype=np.float32)),
            max_num_results,
            score_threshold,
            filters,
            ranker,
            mode,
        )

    def _search(
        self,
        store_ids: list[str],
        queries: list[str],
        query_vectors: np.ndarray,
        max_num_results: int,
        score_threshold: float,
        filters: dict | None,
        ranker: str,
        mode: Mode,
    ) -> list[SearchHit]:
        pool = candidate_pool(max_num_results)
        matrices = {s: self._matrix(s) for s in dict.fromkeys(store_ids)}
        scored = {s: _dense_scores(m, filters, query_vectors) for s, m in matrices.items()}
        dense = _top_ids(scored, matrices, pool) if mode != "keyword" else []
        keyword = [] if mode == "dense" else self._keyword_ranking(matrices, queries, pool, filters)
        chunks = sum(len(matrix.ids) for matrix in matrices.values())
        quotes = self._quotes(matrices, queries, chunks) if weighs_identifiers(mode, ranker) else {}
        owners = [(chunk_id, store_id) for chunk_id, store_id, _ in keyword]
        owners += [owner for quoting in quotes.values() for owner in quoting]
        candidates = Candidates(
            dense=dense,
            keyword={chunk_id: bm25 for chunk_id, _, bm25 in keyword},
            quotes={
                word: [chunk_id for chunk_id, _ in quoting] for word, quoting in quotes.items()
            },
            cosines=_candidate_cosines(scored, matrices, dense, owners),
            chunks=chunks,
        )
        chosen = choose(candidates, ranker, score_threshold, max_num_results)
        return self._hits(chosen, matrices)

    def _matrix(self, store_id: str) -> _StoreMatrix:
        matrix = self._matrices.get(store_id)
        if matrix is None:
            matrix = self._load_matrix(store_id)
            self._matrices[store_id] = matrix
        return matrix

    def _load_matrix(self, store_id: str) -> _StoreMatrix:
        db = self._conn()
        rows = db.execute(
            "SELECT id, file_id, vector FROM chunks WHERE store_id = ? ORDER BY id", (store_id,)
        ).fetchall()
        attributes = {
            file_id: json.loads(raw)
            for file_id, raw in db.execute(
                "SELECT file_id, attributes FROM files WHERE store_id = ?", (store_id,)
            )
        }
        files = sorted(attributes)
        code = {file_id: i for i, file_id in enumerate(files)}
        if not rows:
            vectors = np.zeros((0, 0), dtype=np.float32)
        else:
            blob = b"".join(row[2] for row in rows)
            vectors = np.frombuffer(blob, dtype=np.float32).reshape(len(rows), -1)
        return _StoreMatrix(
            ids=np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows)),
            file_codes=np.fromiter((code[row[1]] for row in rows), dtype=np.int64, count=len(rows)),
            files=files,
            vectors=vectors,
            attributes=attributes,
        )

    def _keyword_ranking(
        self,
        matrices: dict[str, _StoreMatrix],
        queries: list[str],
        pool: int,
        filters: dict | None,
    ) -> list[tuple[int, str, float]]:
        """``(chunk id, store id, BM25)`` of the best matches across the stores, best first.

        FTS5's ``bm25()`` is negative (lower is better); the BM25 returned here is its negation.
        """
        expression = fts_query(queries)
        if not expression:
            return []
        db = self._conn()
        found: list[tuple[float, int, str]] = []
        for store_id, matrix in matrices.items():
            table = keyword_tables.table_of(db, store_id)
            if table is None or not len(matrix.ids):
                continue
            allowed = _passing_ids(matrix, filters) if filters else None
            for chunk_id, score in keyword_tables.ranked_ids(db, table, expression, pool, allowed):
                found.append((score, chunk_id, store_id))
        found.sort()
        return [(chunk_id, store_id, -score) for score, chunk_id, store_id in found[:pool]]

    def _quotes(
        self, matrices: dict[str, _StoreMatrix], queries: list[str], chunks: int
    ) -> dict[str, list[tuple[int, str]]]:
        """Each rare identifier of the queries → ``(chunk id, store id)`` of all chunks quoting it.

        Reads at most one id past the limit per identifier: that one says it is not rare.
        """
        limit = rare_limit(chunks)
        db = self._conn()
        tables = [(s, t) for s in matrices if (t := keyword_tables.table_of(db, s)) is not None]
        quotes: dict[str, list[tuple[int, str]]] = {}
        for word in quoted_identifiers(queries):
            phrase, quoting = fts_phrase(word), []
            for store_id, table in tables:
                ids = keyword_tables.quoting_ids(db, table, phrase, limit + 1 - len(quoting))
                quoting += [(chunk_id, store_id) for chunk_id in ids]
                if len(quoting) > limit:
                    break
            if len(quoting) <= limit:
                quotes[word] = quoting
        return quotes

    def _hits(
        self, chosen: list[tuple[int, float]], matrices: dict[str, _StoreMatrix]
    ) -> list[SearchHit]:
        if not chosen:
            return []
        db = self._conn()
        placeholders = ",".join("?" * len(chosen))
        rows = {
            row[0]: row[1:]
            for row in db.execute(
                f"SELECT id, store_id, file_id, position, text FROM chunks"
                f" WHERE id IN ({placeholders})",
                [cid for cid, _ in chosen],
            )
        }
        hits = []
        for chunk_id, score in chosen:
            store_id, file_id, position, text = rows[chunk_id]
            attributes = matrices[store_id].attributes.get(file_id, {})
            hits.append(
                SearchHit(
                    store_id=store_id,
                    file_id=file_id,
                    chunk_index=position,
                    score=float(score),
                    content=text,
                    attributes=dict(attributes),
                )
            )
        return hits

    async def close(self) -> None:
        await self._run(self._close)
        self._executor.shutdown(wait=True)

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        self._matrices.clear()


def _dense_scores(
    matrix: _StoreMatrix, filters: dict | None, query_vectors: np.ndarray
) -> np.ndarray:
    """Each chunk's best cosine over the query vectors; -inf where the filter excludes it."""
    if not len(matrix.ids):
        return np.zeros(0, dtype=np.float32)
    if matrix.vectors.shape[1] != query_vectors.shape[1]:
        raise ValueError(
            f"the store holds {matrix.vectors.shape[1]}-dimensional vectors but the query has "
            f"{query_vectors.shape[1]}; re-index with the same embedder"
        )
    scores = (matrix.vectors @ query_vectors.T).max(axis=1)
    if filters:
        scores[~_passing_rows(matrix, filters)] = -np.inf
    return scores


def _passing_rows(matrix: _StoreMatrix, filters: dict) -> np.ndarray:
    """Boolean per row: does the row's file pass the filter? (Files are few next to chunks.)"""
    passing = np.array(
        [matches(filters, matrix.attributes.get(f, {})) for f in matrix.files], dtype=bool
    )
    return passing[matrix.file_codes] if len(passing) else np.zeros(len(matrix.ids), dtype=bool)


def _passing_ids(matrix: _StoreMatrix, filters: dict) -> np.ndarray:
    """The sorted chunk ids of the rows whose file passes the filter."""
    return matrix.ids[_passing_rows(matrix, filters)]


def _top_ids(
    scored: dict[str, np.ndarray], matrices: dict[str, _StoreMatrix], pool: int
) -> list[int]:
    """The ``pool`` chunk ids of highest cosine across stores, best first."""
    ids, scores = [], []
    for store_id, store_scores in scored.items():
        allowed = np.flatnonzero(np.isfinite(store_scores))
        top = min(pool, len(allowed))
        if not top:
            continue
        rows = allowed[np.argpartition(-store_scores[allowed], top - 1)[:top]]
        ids.append(matrices[store_id].ids[rows])
        scores.append(store_scores[rows])
    if not ids:
        return []
    all_ids, all_scores = np.concatenate(ids), np.concatenate(scores)
    order = np.lexsort((all_ids, -all_scores))[:pool]
    return all_ids[order].tolist()


def _candidate_cosines(
    scored: dict[str, np.ndarray],
    matrices: dict[str, _StoreMatrix],
    dense: list[int],
    keyword: list[tuple[int, str]],
) -> dict[int, float]:
    """Chunk id → best cosine, for the candidates of either method."""
    out: dict[int, float] = {}
    for store_id, matrix in matrices.items():
        if not len(matrix.ids):
            continue
        # Dense ids may belong to any of the stores; the lookup below keeps this store's.
        mine = [chunk_id for chunk_id, owner in keyword if owner == store_id] + dense
        chunk_ids = np.array(mine, dtype=np.int64)
        rows = np.minimum(np.searchsorted(matrix.ids, chunk_ids), len(matrix.ids) - 1)
        found = matrix.ids[rows] == chunk_ids
        scores = scored[store_id][rows[found]]
        # -inf: the filters exclude the chunk, so it is no candidate.
        passing = np.isfinite(scores)
        out.update(zip(chunk_ids[found][passing].tolist(), scores[passing].tolist(), strict=True))
    return out
