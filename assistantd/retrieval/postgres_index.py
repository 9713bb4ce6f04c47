"""The shared chunk index: PostgreSQL with pgvector, so every server process on one database
answers every search the same.

* ``chunk_index_chunks`` holds each chunk's text and its embedding (``vector``);
  ``chunk_index_keywords`` each chunk's ``tsvector`` and length, in narrow rows of their own;
  ``chunk_index_postings`` one row per (store, lexeme, chunk): how often the chunk holds the
  lexeme, and the chunk's length; ``chunk_index_terms`` each store's document frequency per
  lexeme; ``chunk_index_files`` each file's attributes; ``chunk_index_stores`` each store's
  chunk and token counts (BM25's N and average length, and the identifiers' N). Schema:
  migrations 0005, 0010 and 0014.
* Dense: cosine distance (``<=>``). Small candidate sets (the searched stores, after the
  filters, hold at most ``exact_scan_chunks`` chunks) are scanned exactly; larger ones go
  through an HNSW index per embedding size, whose candidates the store and filter conditions
  then thin out. So a filtered search still fills its pool: ``hnsw.ef_search`` grows with how
  few chunks pass, pgvector ≥ 0.8 also scans on (``hnsw.iterative_scan``), and a scan that
  still comes back short is redone exactly.
* Keyword: BM25 with the formula and constants of SQLite FTS5's ``bm25()`` (per-store
  document frequency, chunk count and average length), so the fusion in ``ranking.py`` sees
  the same kind of score from either index. It is summed over the query lexemes' postings
  (an index-only read per lexeme); the document frequencies are kept in ``chunk_index_terms``
  as files come and go, so a search reads them rather than counting its matches; they also
  tell a quoted identifier of one lexeme that is not rare without reading the chunks quoting
  it. Quoted identifiers of several lexemes are phrase searches on the ``tsvector``s' GIN index.
* Filters are decided in Python by ``filters.matches`` on the searched stores' file attributes
  (files are few next to chunks), then handed to SQL as the passing file ids: the filter
  semantics are those of the SQLite index by construction.
* A search is two statements (three when the query quotes an identifier that may be rare):
  the stores' statistics, the query's lexemes and, with filters, the files; then both
  methods' candidates, each one's best cosine and what its hit shows, in one snapshot. No
  transaction around them (its BEGIN and COMMIT were two round trips of a search's seven): a
  file that lands or goes between the two is as if the search came a moment earlier or later.

asyncpg directly, not SQLAlchemy through ``Database``: a search's cost is mostly round trips
and server time, SQLAlchemy's adapter wraps each statement in more round trips, and the
``vector`` type needs a codec on the driver's connections.
"""

from __future__ import annotations

import json
import math
from typing import Any

import asyncpg
import numpy as np

from assistantd.retrieval.chunking import Chunk
from assistantd.retrieval.filters import matches
from assistantd.retrieval.identifiers import quoted_identifiers, rare_limit
from assistantd.retrieval.index import Mode, SearchHit
from assistantd.retrieval.keyword_query import WORD, phrase_tokens, query_words
from assistantd.retrieval.ranking import Candidates, candidate_pool, choose, weighs_identifiers

# At most this many candidate chunks: an exact scan (fast enough, and never misses).
EXACT_SCAN_CHUNKS = 20_000
# pgvector indexes ``vector`` columns of at most 2,000 dimensions; larger ones are scanned.
HNSW_MAX_DIMS = 2_000
MIN_EF_SEARCH, MAX_EF_SEARCH = 40, 1_000
# SQLite FTS5's bm25() constants.
BM25_K1, BM25_B = 1.2, 0.75
POOL_SIZE = 10

_VECTOR_SCHEMA = "SELECT typnamespace::regnamespace::text FROM pg_type WHERE typname = 'vector'"
_VECTOR_VERSION = "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
_ANALYZE = (
    "ANALYZE chunk_index_chunks, chunk_index_keywords, chunk_index_terms, chunk_index_postings,"
    " chunk_index_files, chunk_index_stores"
)
_SCHEMA_PRESENT = "SELECT to_regclass('chunk_index_chunks') IS NOT NULL"

# -- writes ---------------------------------------------------------------------------------

# One writer per file at a time (two adds of one file would both insert their chunks).
_LOCK_FILE = "SELECT pg_advisory_xact_lock(hashtextextended($1 || ' ' || $2, 0))"
_STORE_DIMS = "SELECT chunks, dims FROM chunk_index_stores WHERE store_id = $1"
_DELETE_CHUNKS = "DELETE FROM chunk_index_chunks WHERE store_id = $1 AND file_id = $2"
# Each lexeme's count changes by the file's chunks holding it. Rows are locked in lexeme order,
# so two writers of one store wait for each other rather than deadlock.
_COUNT_TERMS = """
INSERT INTO chunk_index_terms AS t (store_id, lexeme, chunks)
SELECT $1, lexeme, {sign}count(*) FROM {changed}, unnest(tsvector_to_array({changed}.tsv)) AS lexeme
GROUP BY lexeme ORDER BY lexeme
ON CONFLICT (store_id, lexeme) DO UPDATE SET chunks = t.chunks + excluded.chunks
RETURNING lexeme, t.chunks
"""
# The chunks' keyword rows, their postings and the document frequencies, in one statement.
_INDEX_KEYWORDS = """
WITH added AS (
    INSERT INTO chunk_index_keywords (id, store_id, file_id, tokens, tsv)
    SELECT id, store_id, file_id, tokens,
           to_tsvector('assistantd_english', regexp_replace(text, '[[:punct:]]+', ' ', 'g'))
    FROM chunk_index_chunks WHERE store_id = $1 AND file_id = $2
    RETURNING id, file_id, tokens, tsv
), posted AS (
    INSERT INTO chunk_index_postings (store_id, lexeme, chunk_id, file_id, occurrences, tokens)
    SELECT $1, u.lexeme, a.id, a.file_id, cardinality(u.positions), a.tokens
    FROM added a, unnest(a.tsv) AS u
)""" + _COUNT_TERMS.format(sign="", changed="added")
# Through the chunks: the keyword table has no index by file (migration 0010 says why); the
# postings by their primary key, lexeme by lexeme.
_FORGET_KEYWORDS = """
WITH gone AS (
    DELETE FROM chunk_index_keywords k USING chunk_index_chunks c
    WHERE c.store_id = $1 AND c.file_id = $2 AND k.id = c.id RETURNING k.id, k.tsv
), unposted AS (
    DELETE FROM chunk_index_postings p USING gone, unnest(tsvector_to_array(gone.tsv)) AS l
    WHERE p.store_id = $1 AND p.lexeme = l AND p.chunk_id = gone.id
)""" + _COUNT_TERMS.format(sign="-", changed="gone")
_DROP_SPENT_TERMS = """
DELETE FROM chunk_index_terms WHERE store_id = $1 AND lexeme = ANY($2::text[]) AND chunks <= 0
"""
_DELETE_FILE = """
WITH gone AS (
    DELETE FROM chunk_index_files WHERE store_id = $1 AND file_id = $2 RETURNING chunks, tokens
)
UPDATE chunk_index_stores AS s SET chunks = s.chunks - gone.chunks, tokens = s.tokens - gone.tokens
FROM gone WHERE s.store_id = $1
"""
_INSERT_CHUNK = """
INSERT INTO chunk_index_chunks
    (store_id, file_id, position, start_token, end_token, text, tokens, dims, embedding)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""
_INSERT_FILE = """
INSERT INTO chunk_index_files (store_id, file_id, attributes, chunks, tokens)
VALUES ($1, $2, $3::jsonb, $4, $5)
"""
_COUNT_IN_STORE = """
INSERT INTO chunk_index_stores AS s (store_id, chunks, tokens, dims) VALUES ($1, $2, $3, $4)
ON CONFLICT (store_id) DO UPDATE
SET chunks = s.chunks + excluded.chunks, tokens = s.tokens + excluded.tokens, dims = excluded.dims
"""
_DELETE_STORE = [
    "DELETE FROM chunk_index_keywords WHERE store_id = $1",
    "DELETE FROM chunk_index_postings WHERE store_id = $1",
    "DELETE FROM chunk_index_terms WHERE store_id = $1",
    "DELETE FROM chunk_index_chunks WHERE store_id = $1",
    "DELETE FROM chunk_index_files WHERE store_id = $1",
    "DELETE FROM chunk_index_stores WHERE store_id = $1",
]
_UPDATE_ATTRIBUTES = """
UPDATE chunk_index_files SET attributes = $3::jsonb WHERE store_id = $1 AND file_id = $2
"""
# The HNSW index of one embedding size: a partial index over a cast, since the column holds
# vectors of any size. Made once per size, under a lock so two processes do not race.
_LOCK_HNSW = "SELECT pg_advisory_xact_lock(hashtextextended('chunk_index_hnsw', 0))"
_CREATE_HNSW = """
CREATE INDEX IF NOT EXISTS chunk_index_hnsw_{dims} ON chunk_index_chunks
USING hnsw ((embedding::vector({dims})) vector_cosine_ops) WHERE dims = {dims}
"""

# -- reads ----------------------------------------------------------------------------------

_FILE_CHUNKS = """
SELECT text FROM chunk_index_chunks WHERE store_id = $1 AND file_id = $2 ORDER BY position
"""
_CHUNK_COUNT = "SELECT coalesce(sum(chunks), 0) FROM chunk_index_stores WHERE store_id = $1"
# The searched stores ($1), and how many chunks of their size the whole table holds (what the
# HNSW index ranges over); with them, in the same round trip, the query's lexemes ($2: its
# words), each identifier's phrase ($3: its tokens), and, when the phrase is a single lexeme,
# how many chunks of the searched stores hold it (NULL for a longer phrase: only a search can
# tell how many chunks quote it); and when the search has filters ($4), the searched stores'
# files, which they are decided on.
_STORES_AND_TERMS = """
SELECT s.store_id, s.chunks, s.tokens, s.dims,
       (SELECT sum(t.chunks) FROM chunk_index_stores t WHERE t.dims = s.dims) AS same_size,
       terms.lexemes, terms.phrases, terms.quoting,
       CASE WHEN $4 THEN (
           SELECT coalesce(json_agg(f), '[]') FROM (
               SELECT store_id, file_id, attributes, chunks FROM chunk_index_files
               WHERE store_id = ANY($1::text[])
           ) AS f
       ) END AS files
FROM chunk_index_stores s, (
    SELECT tsvector_to_array(to_tsvector('assistantd_english', $2)) AS lexemes,
           array_agg(q.phrase::text ORDER BY u.n) AS phrases,
           array_agg(
               CASE WHEN numnode(q.phrase) = 1 THEN
                   (SELECT coalesce(sum(t.chunks), 0) FROM chunk_index_terms t
                    WHERE t.store_id = ANY($1::text[]) AND t.lexeme = q.lexemes[1])::bigint
               END ORDER BY u.n
           ) AS quoting
    FROM unnest($3::text[]) WITH ORDINALITY AS u(p, n)
    CROSS JOIN LATERAL (
        SELECT phraseto_tsquery('assistantd_english', u.p) AS phrase,
               tsvector_to_array(to_tsvector('assistantd_english', u.p)) AS lexemes
    ) AS q
) AS terms
WHERE s.store_id = ANY($1::text[]) AND s.chunks > 0
"""
# What a search reads in one statement, so in one snapshot and one round trip: the dense
# candidates of each query vector ($4, pgvector's text form), the keyword candidates with their
# BM25, and for every candidate its best cosine over the query vectors and what a hit shows.
# $1: the searched stores; $2: the passing file ids, or NULL for no filter; $3: the pool.
# ``vectors``: the query vectors (numbers) whose nearest chunks the chunk is among. The dense
# part is an HNSW or an exact scan (``_DENSE``); either part may be left out (``_NO_ROWS``).
_SEARCH = """
WITH queries AS MATERIALIZED (
    SELECT u.v AS vector, u.n FROM unnest($4::text[]::vector[]) WITH ORDINALITY AS u(v, n)
), dense AS MATERIALIZED (
    {dense}
), ranked AS MATERIALIZED (
    {keyword}
), found AS (
    SELECT id, n, bm25 FROM dense
    UNION ALL SELECT id, NULL, bm25 FROM ranked
), candidates AS (
    SELECT id, bool_or(n IS NOT NULL) AS dense, max(bm25) AS bm25,
           array_agg(n) FILTER (WHERE n IS NOT NULL) AS vectors
    FROM found GROUP BY id
)
SELECT c.id, c.store_id, c.file_id, c.position, c.text, f.attributes, k.dense, k.bm25, k.vectors,
       (SELECT max(1 - (c.embedding <=> q.vector)) FROM queries q) AS cosine
FROM candidates k
JOIN chunk_index_chunks c ON c.id = k.id
JOIN chunk_index_files f ON f.store_id = c.store_id AND f.file_id = c.file_id
"""
_NO_ROWS = "SELECT NULL::bigint AS id, NULL::bigint AS n, NULL::float8 AS bm25 WHERE false"
# Each query vector's ``pool`` nearest chunks (LATERAL: the index scan per vector).
_DENSE = """
    SELECT d.id, q.n, NULL::float8 AS bm25 FROM queries q CROSS JOIN LATERAL (
        SELECT id FROM chunk_index_chunks
        WHERE {size} store_id = ANY($1::text[])
          AND ($2::text[] IS NULL OR file_id = ANY($2::text[]))
        ORDER BY {distance}{tie} LIMIT $3
    ) AS d"""
_EXACT_DISTANCE = "embedding <=> q.vector"
_HNSW_DISTANCE = "embedding::vector({dims}) <=> q.vector"
# BM25 as FTS5 computes it: per query term, idf = ln((N - n + 0.5) / (n + 0.5)) (at least 1e-6)
# over the store's N chunks, n of which hold the term, times tf·(k1+1) / (tf + k1·(1 - b +
# b·length/average length)). n counts every chunk of the store (``chunk_index_terms``), so the
# filter may drop chunks before they are scored; tf and the length come with each posting
# (``chunk_index_postings``, an index-only read per lexeme). Floats throughout: numeric
# arithmetic, which a bare literal brings, is slower. $5: the query's lexemes.
_KEYWORD = f"""
    WITH stats AS (
        SELECT store_id, chunks::float8 AS chunks, tokens::float8 / chunks AS avgdl
        FROM chunk_index_stores WHERE store_id = ANY($1::text[]) AND chunks > 0
    ), idf AS MATERIALIZED (
        SELECT t.store_id, t.lexeme, s.avgdl,
               greatest(ln((s.chunks - t.chunks + 0.5) / (t.chunks + 0.5)), 1e-6) AS idf
        FROM chunk_index_terms t JOIN stats s USING (store_id)
        WHERE t.lexeme = ANY($5::text[])
    )
    SELECT p.chunk_id AS id, NULL::bigint AS n,
           sum(i.idf * p.occurrences::float8 * {BM25_K1 + 1}::float8
               / (p.occurrences::float8 + {BM25_K1}::float8
                  * (1 - {BM25_B}::float8 + {BM25_B}::float8 * p.tokens / i.avgdl))) AS bm25
    FROM idf i
    JOIN chunk_index_postings p ON p.store_id = i.store_id AND p.lexeme = i.lexeme
    WHERE $2::text[] IS NULL OR p.file_id = ANY($2::text[])
    GROUP BY p.chunk_id
    ORDER BY bm25 DESC, p.chunk_id LIMIT $3"""
_QUOTING = """
SELECT id FROM chunk_index_keywords
WHERE store_id = ANY($1::text[]) AND tsv @@ $2::tsquery LIMIT $3
"""
# The quoting chunks neither method found: their best cosine and what a hit shows.
_QUOTED = """
SELECT c.id, c.store_id, c.file_id, c.position, c.text, f.attributes,
       (SELECT max(1 - (c.embedding <=> q)) FROM unnest($3::text[]::vector[]) AS q) AS cosine
FROM chunk_index_chunks c
JOIN chunk_index_files f ON f.store_id = c.store_id AND f.file_id = c.file_id
WHERE c.id = ANY($1::bigint[]) AND ($2::text[] IS NULL OR c.file_id = ANY($2::text[]))
"""
_SET_EF_SEARCH = "SELECT set_config('hnsw.ef_search', $1, false)"
_ITERATIVE_SCAN = "SET hnsw.iterative_scan = strict_order"


def asyncpg_url(url: str) -> str:
    """asyncpg's form of a SQLAlchemy ``postgresql+asyncpg://`` URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def schema_present(url: str) -> bool:
    """Whether the database holds the shared index's tables (migration 0005 found pgvector)."""
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        return bool(await connection.fetchval(_SCHEMA_PRESENT))
    finally:
        await connection.close()


class _Filter:
    """The files of the searched stores that pass a search's filters."""

    def __init__(self, files: list[dict[str, Any]], spec: dict) -> None:
        passing = [f for f in files if matches(spec, f["attributes"])]
        self.pairs = {(r["store_id"], r["file_id"]) for r in passing}
        self.file_ids = sorted({file_id for _, file_id in self.pairs})
        self.chunks = sum(f["chunks"] for f in passing)

    def keeps(self, row: asyncpg.Record) -> bool:
        # SQL narrows by file id alone; a file in two searched stores may pass in one only.
        return (row["store_id"], row["file_id"]) in self.pairs


class PostgresChunkIndex:
    # Every process on the database sees the same index (the single-process check asks this).
    shared = True

    def __init__(self, pool: asyncpg.Pool, exact_scan_chunks: int = EXACT_SCAN_CHUNKS) -> None:
        self._pool = pool
        self._exact_scan_chunks = exact_scan_chunks
        self._hnsw_sizes: set[int] = set()

    @classmethod
    async def connect(
        cls, url: str, exact_scan_chunks: int = EXACT_SCAN_CHUNKS, pool_size: int = POOL_SIZE
    ) -> PostgresChunkIndex:
        dsn = asyncpg_url(url)
        probe = await asyncpg.connect(dsn)
        try:
            schema = await probe.fetchval(_VECTOR_SCHEMA)
            version = await probe.fetchval(_VECTOR_VERSION)
        finally:
            await probe.close()
        if schema is None:
            raise RuntimeError("the database has no pgvector extension")

        iterative_scan = _version(version) >= (0, 8)

        async def setup(connection: asyncpg.Connection) -> None:
            await connection.set_type_codec(
                "vector", schema=schema, encoder=_vector_text, decoder=str, format="text"
            )
            if iterative_scan:  # for the session: a search sets nothing it need not
                await connection.execute(_ITERATIVE_SCAN)

        # Custom plans always: a generic plan cannot know how many chunks a tsquery or a store
        # matches, and chose sequential scans where the GIN index answers in a millisecond.
        # No reset query on release (asyncpg's default is a round trip per search): the index
        # takes only transaction-scoped locks, and the only settings it makes for a session
        # are its own (the HNSW scan's, which every search sets as it needs them).
        pool = await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=pool_size,
            init=setup,
            reset=_keep_session,
            connection_class=_IndexConnection,
            server_settings={"plan_cache_mode": "force_custom_plan"},
        )
        return cls(pool, exact_scan_chunks)

    async def close(self) -> None:
        await self._pool.close()

    async def analyze(self) -> None:
        """Refresh the planner's statistics of the chunks (autovacuum does so some time after a
        large load; until then the planner may scan a store's chunks where the GIN index
        would answer)."""
        await self._pool.execute(_ANALYZE)

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
        vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        dims = int(vectors.shape[1]) if len(chunks) else 0
        if dims:
            await self._ensure_hnsw(dims)
        lengths = [len(WORD.findall(chunk.text)) for chunk in chunks]
        rows = [
            (store_id, file_id, c.index, c.start_token, c.end_token, c.text, n, dims, vector)
            for c, n, vector in zip(chunks, lengths, vectors, strict=True)
        ]
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(_LOCK_FILE, store_id, file_id)
            await self._delete_file_rows(connection, store_id, file_id)
            held = await connection.fetchrow(_STORE_DIMS, store_id)
            if dims and held and held["chunks"] and held["dims"] != dims:
                raise ValueError(
                    f"the store holds {held['dims']}-dimensional vectors but this file has "
                    f"{dims}; re-index with the same embedder"
                )
            await connection.executemany(_INSERT_CHUNK, rows)
            await connection.fetch(_INDEX_KEYWORDS, store_id, file_id)
            attributes_json = json.dumps(attributes or {})
            await connection.execute(
                _INSERT_FILE, store_id, file_id, attributes_json, len(rows), sum(lengths)
            )
            stored_dims = dims or (held["dims"] if held else None)
            await connection.execute(
                _COUNT_IN_STORE, store_id, len(rows), sum(lengths), stored_dims
            )

    async def _ensure_hnsw(self, dims: int) -> None:
        if dims in self._hnsw_sizes or dims > HNSW_MAX_DIMS:
            return
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(_LOCK_HNSW)
            await connection.execute(_CREATE_HNSW.format(dims=int(dims)))
        self._hnsw_sizes.add(dims)

    @staticmethod
    async def _delete_file_rows(
        connection: asyncpg.Connection, store_id: str, file_id: str
    ) -> None:
        counts = await connection.fetch(_FORGET_KEYWORDS, store_id, file_id)
        spent = [row["lexeme"] for row in counts if row["chunks"] <= 0]
        if spent:
            await connection.execute(_DROP_SPENT_TERMS, store_id, spent)
        await connection.execute(_DELETE_CHUNKS, store_id, file_id)
        await connection.execute(_DELETE_FILE, store_id, file_id)

    async def delete_file(self, store_id: str, file_id: str) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(_LOCK_FILE, store_id, file_id)
            await self._delete_file_rows(connection, store_id, file_id)

    async def delete_store(self, store_id: str) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            for statement in _DELETE_STORE:
                await connection.execute(statement, store_id)

    async def update_attributes(
        self, store_id: str, file_id: str, attributes: dict[str, Any]
    ) -> None:
        await self._pool.execute(
            _UPDATE_ATTRIBUTES, store_id, file_id, json.dumps(attributes or {})
        )

    # -- reads -----------------------------------------------------------------------------

    async def file_chunks(self, store_id: str, file_id: str) -> list[str]:
        return [row["text"] for row in await self._pool.fetch(_FILE_CHUNKS, store_id, file_id)]

    async def chunk_count(self, store_id: str) -> int:
        return int(await self._pool.fetchval(_CHUNK_COUNT, store_id))

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
        vectors = np.atleast_2d(np.asarray(query_vectors, dtype=np.float32))
        async with self._pool.acquire() as connection:
            words, identifiers = _query_terms(queries, mode)
            stores = await connection.fetch(
                _STORES_AND_TERMS,
                list(dict.fromkeys(store_ids)),
                " ".join(words),
                [" ".join(phrase_tokens(word)) for word in identifiers],
                bool(filters),
            )
            if not stores:
                return []
            _check_dims(stores, vectors.shape[1])
            passing = _Filter(json.loads(stores[0]["files"]), filters) if filters else None
            search = _Search(connection, stores, passing, candidate_pool(max_num_results))
            found = await search.candidates(vectors, mode, self._exact_scan_chunks)
            quotes: dict[str, list[int]] = {}
            if weighs_identifiers(mode, ranker):
                quotes = await search.quotes(identifiers)
                await search.quoted(vectors, quotes, found)
            candidates = Candidates(
                found.dense, found.keyword, quotes, found.cosines, search.chunks
            )
            chosen = choose(candidates, ranker, score_threshold, max_num_results)
            return [_hit(found.rows[chunk_id], score) for chunk_id, score in chosen]


class _Found:
    """The candidates one search found, with what a hit shows of each."""

    def __init__(self) -> None:
        self.rows: dict[int, asyncpg.Record] = {}
        self.cosines: dict[int, float] = {}
        self.dense: list[int] = []
        self.keyword: dict[int, float] = {}

    def add(self, row: asyncpg.Record) -> None:
        self.rows[row["id"]] = row
        self.cosines[row["id"]] = float(row["cosine"])


class _Search:
    """One search's statements, on one connection."""

    def __init__(
        self,
        connection: asyncpg.Connection,
        stores: list[asyncpg.Record],
        passing: _Filter | None,
        pool: int,
    ) -> None:
        self.connection = connection
        self.stores = stores
        self.store_ids = [s["store_id"] for s in stores]
        self.passing = passing
        self.pool = pool
        self.chunks = sum(s["chunks"] for s in stores)
        self.file_ids = passing.file_ids if passing is not None else None
        # Every row carries the same query terms.
        self._lexemes: list[str] = list(stores[0]["lexemes"] or [])
        self._phrases: list[str] = list(stores[0]["phrases"] or [])
        self._quoting: list[int | None] = list(stores[0]["quoting"] or [])

    def _kept(self, rows: list[asyncpg.Record]) -> list[asyncpg.Record]:
        return rows if self.passing is None else [r for r in rows if self.passing.keeps(r)]

    async def candidates(self, vectors: np.ndarray, mode: Mode, exact_scan_chunks: int) -> _Found:
        """Both methods' candidates in one statement. Dense: the ``pool`` chunks of best cosine
        (over the query vectors), best first; a chunk in the top ``pool`` by its best cosine is
        in the top ``pool`` of the query vector it is best for, so one scan per vector finds
        them all. Keyword: chunk id → BM25 of the ``pool`` best matches."""
        passing = self.passing.chunks if self.passing is not None else self.chunks
        dense = mode != "keyword" and passing > 0
        keyword = mode != "dense" and bool(self._lexemes)
        dims = int(vectors.shape[1])
        exact = passing <= exact_scan_chunks or dims > HNSW_MAX_DIMS
        if dense and not exact:
            # Of the chunks the HNSW index returns, about passing/same_size pass the store
            # and filter conditions: ask for enough that a pool's worth remain.
            same_size = int(self.stores[0]["same_size"] or 0)
            ef = math.ceil(self.pool * same_size / passing * 2)
            await self.connection.use_ef_search(min(max(ef, MIN_EF_SEARCH), MAX_EF_SEARCH))
        rows = await self._fetch(vectors, dims, dense, exact, keyword)
        if dense and not exact and self._short(rows, len(vectors), min(self.pool, passing)):
            rows = await self._fetch(vectors, dims, dense, True, keyword)
        found = _Found()
        for row in rows:
            found.add(row)
            if row["bm25"] is not None:
                found.keyword[row["id"]] = float(row["bm25"])
        ranked = sorted(
            (row["id"] for row in rows if row["dense"]),
            key=lambda chunk_id: (-found.cosines[chunk_id], chunk_id),
        )
        found.dense = ranked[: self.pool]
        return found

    async def _fetch(
        self, vectors: np.ndarray, dims: int, dense: bool, exact: bool, keyword: bool
    ) -> list[asyncpg.Record]:
        if exact:
            distance, size, tie = _EXACT_DISTANCE, "", ", id"
        else:
            distance, size, tie = _HNSW_DISTANCE.format(dims=dims), f"dims = {dims} AND", ""
        sql = _SEARCH.format(
            dense=_DENSE.format(size=size, distance=distance, tie=tie) if dense else _NO_ROWS,
            keyword=_KEYWORD if keyword else _NO_ROWS,
        )
        args: list[Any] = [self.store_ids, self.file_ids, self.pool]
        args.append([_vector_text(vector) for vector in vectors])
        if keyword:
            args.append(self._lexemes)
        return self._kept(await self.connection.fetch(sql, *args))

    def _short(self, rows: list[asyncpg.Record], vectors: int, wanted: int) -> bool:
        """Whether the approximate scan of some query vector came back short."""
        per_vector = [0] * vectors
        for row in rows:
            for n in row["vectors"] or ():
                per_vector[n - 1] += 1
        return min(per_vector) < wanted

    async def quotes(self, identifiers: list[str]) -> dict[str, list[int]]:
        """Each rare identifier → the ids of all chunks quoting it, filters or not (reads at
        most one past the limit: that one says it is not rare)."""
        limit = rare_limit(self.chunks)
        found: dict[str, list[int]] = {}
        for word, phrase, quoting in zip(identifiers, self._phrases, self._quoting, strict=True):
            # A single lexeme's count is known: one that is not rare needs no search (the
            # bench's 4-word queries spent ≈3.5 ms on four such searches at 100k chunks).
            if not phrase or (quoting is not None and quoting > limit):
                continue
            rows = await self.connection.fetch(_QUOTING, self.store_ids, phrase, limit + 1)
            if len(rows) <= limit:
                found[word] = [row["id"] for row in rows]
        return found

    async def quoted(
        self, vectors: np.ndarray, quotes: dict[str, list[int]], found: _Found
    ) -> None:
        """Adds the quoting chunks that pass the filters and neither method found."""
        missing = sorted({cid for ids in quotes.values() for cid in ids} - found.rows.keys())
        if not missing:
            return
        texts = [_vector_text(vector) for vector in vectors]
        for row in self._kept(await self.connection.fetch(_QUOTED, missing, self.file_ids, texts)):
            found.add(row)


class _IndexConnection(asyncpg.Connection):
    """A pool connection that remembers its session's ``hnsw.ef_search``, so a search sets it
    only when it changes (a round trip otherwise spent on every search)."""

    _ef_search: int | None = None

    async def use_ef_search(self, value: int) -> None:
        if value != self._ef_search:
            await self.execute(_SET_EF_SEARCH, str(value))
            self._ef_search = value


def _hit(row: asyncpg.Record, score: float) -> SearchHit:
    return SearchHit(
        store_id=row["store_id"],
        file_id=row["file_id"],
        chunk_index=row["position"],
        score=float(score),
        content=row["text"],
        attributes=json.loads(row["attributes"]),
    )


def _query_terms(queries: list[str], mode: Mode) -> tuple[list[str], list[str]]:
    """The query's keyword-side words and quoted identifiers (none for a dense-only search)."""
    if mode == "dense":
        return [], []
    return query_words(queries), quoted_identifiers(queries)


async def _keep_session(connection: asyncpg.Connection) -> None:
    """A released connection needs no reset (asyncpg still rolls back an open transaction)."""


def _check_dims(stores: list[asyncpg.Record], dims: int) -> None:
    for store in stores:
        if store["dims"] != dims:
            raise ValueError(
                f"the store holds {store['dims']}-dimensional vectors but the query has "
                f"{dims}; re-index with the same embedder"
            )


def _vector_text(vector: Any) -> str:
    """pgvector's text form of a vector: ``[0.1,0.2]`` (each float32 exactly, as a float64)."""
    return "[" + ",".join(map(str, np.asarray(vector, dtype=np.float32).tolist())) + "]"


def _version(text: str | None) -> tuple[int, ...]:
    return tuple(int(part) for part in (text or "0").split(".") if part.isdigit())
