"""``/v1/vector_stores``: the stores themselves and their search."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from assistantd.api.auth import Tenant
from assistantd.api.database import Db
from assistantd.api.file_services import Ingestion
from assistantd.api.pagination import ListParams
from assistantd.errors import APIError, InvalidRequest
from assistantd.objects import files, vector_store_files, vector_stores
from assistantd.retrieval.embedder import EmbeddingError
from assistantd.retrieval.index import SearchHit
from assistantd.retrieval.query_rewrite import searched_queries
from assistantd.retrieval.search import search
from assistantd.wire.vector_stores import CreateVectorStore, ModifyVectorStore, SearchVectorStore

router = APIRouter(prefix="/vector_stores")


@router.post("")
async def create_vector_store(
    body: CreateVectorStore, tenant: Tenant, db: Db, ingestion: Ingestion
) -> dict[str, Any]:
    async with db.write() as session:
        store, file_ids = await vector_store_files.create_store(session, tenant, body)
    for file_id in file_ids:
        ingestion.enqueue(tenant, store["id"], file_id)
    return store


@router.get("")
async def list_vector_stores(tenant: Tenant, db: Db, params: ListParams) -> dict[str, Any]:
    async with db.read() as session:
        return (await vector_stores.list_page(session, tenant, params)).envelope()


@router.get("/{vector_store_id}")
async def get_vector_store(vector_store_id: str, tenant: Tenant, db: Db) -> dict[str, Any]:
    async with db.read() as session:
        return await vector_stores.get(session, tenant, vector_store_id)


@router.post("/{vector_store_id}")
async def modify_vector_store(
    vector_store_id: str, body: ModifyVectorStore, tenant: Tenant, db: Db
) -> dict[str, Any]:
    async with db.write() as session:
        return await vector_stores.modify(session, tenant, vector_store_id, body)


@router.delete("/{vector_store_id}")
async def delete_vector_store(
    vector_store_id: str, tenant: Tenant, db: Db, ingestion: Ingestion
) -> dict[str, Any]:
    async with db.write() as session:
        deleted = await vector_stores.delete(session, tenant, vector_store_id)
    await ingestion.index.delete_store(vector_store_id)
    return deleted


@router.post("/{vector_store_id}/search")
async def search_vector_store(
    vector_store_id: str, body: SearchVectorStore, tenant: Tenant, db: Db, ingestion: Ingestion
) -> dict[str, Any]:
    async with db.write() as session:
        store = await vector_stores.touch(session, tenant, vector_store_id)
    if store["status"] == "expired":
        raise InvalidRequest(f"Vector store {vector_store_id} has expired.", "vector_store_id")
    options = body.ranking_options
    queries = searched_queries(body.query, body.rewrite_query)
    try:
        hits = await search(
            ingestion.index,
            ingestion.embedder,
            [vector_store_id],
            queries,
            max_num_results=body.max_num_results,
            score_threshold=options.score_threshold if options else 0.0,
            filters=body.filters,
            ranker=options.ranker if options else "auto",
        )
    except EmbeddingError as error:
        raise APIError(f"The query could not be embedded: {error}") from error
    async with db.read() as session:
        known = await files.get_many(session, tenant, [hit.file_id for hit in hits])
    return {
        "object": "vector_store.search_results.page",
        "search_query": queries,
        "data": [_result(hit, known[hit.file_id]) for hit in hits if hit.file_id in known],
        "has_more": False,
        "next_page": None,
    }


def _result(hit: SearchHit, file: dict[str, Any]) -> dict[str, Any]:
    return {
        "file_id": hit.file_id,
        "filename": file["filename"],
        "score": min(max(hit.score, 0.0), 1.0),
        "attributes": hit.attributes,
        "content": [{"type": "text", "text": hit.content}],
    }
