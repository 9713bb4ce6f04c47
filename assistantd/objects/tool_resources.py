"""``tool_resources`` as stored and echoed:
``{code_interpreter: {file_ids}, file_search: {vector_store_ids}}``."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from assistantd.errors import InvalidRequest
from assistantd.objects import files, vector_store_files, vector_stores
from assistantd.store.sessions import AsyncSession
from assistantd.wire.tools import FileSearchResources, ToolResources, VectorStoreHelper
from assistantd.wire.vector_stores import ChunkingStrategy, CreateVectorStore

HELPER_PARAM = "tool_resources.file_search.vector_stores"
_CHUNKING = TypeAdapter(ChunkingStrategy)


async def check_references(
    session: AsyncSession, tenant: str, resources: ToolResources | None, where: str = ""
) -> None:
    """404 for a file or vector store id the tenant does not have (another tenant's, deleted,
    expired or made up), as the hosted API answered, though we would only dereference it in a
    run: echoing it back would tell a caller nothing and store a reference to nothing. ``where``
    prefixes the param (``thread.`` in create thread and run)."""
    if resources is None:
        return
    param = f"{where}tool_resources"
    if resources.code_interpreter is not None:
        for position, file_id in enumerate(resources.code_interpreter.file_ids):
            where_id = f"{param}.code_interpreter.file_ids[{position}]"
            await files.get(session, tenant, file_id, where_id)
    if resources.file_search is not None:
        for position, store_id in enumerate(resources.file_search.vector_store_ids or []):
            where_id = f"{param}.file_search.vector_store_ids[{position}]"
            await vector_stores.require(session, tenant, store_id, where_id)


async def create_helper_stores(
    session: AsyncSession, tenant: str, resources: ToolResources | None
) -> ToolResources | None:
    """Resolve the create-time ``file_search.vector_stores`` helper: make each store from its
    files (indexed in the background, like any store) and put its id in ``vector_store_ids``."""
    helpers = resources.file_search.vector_stores if resources and resources.file_search else None
    if not helpers or resources is None:
        return resources
    store_ids = []
    for position, helper in enumerate(helpers):
        body = _store_request(helper, f"{HELPER_PARAM}[{position}]")
        store, _ = await vector_store_files.create_store(session, tenant, body)
        store_ids.append(store["id"])
    file_search = FileSearchResources(vector_store_ids=store_ids)
    return resources.model_copy(update={"file_search": file_search})


def _store_request(helper: VectorStoreHelper, param: str) -> CreateVectorStore:
    try:
        chunking = (
            _CHUNKING.validate_python(helper.chunking_strategy)
            if helper.chunking_strategy
            else None
        )
    except ValidationError as error:
        message = error.errors()[0]["msg"].removeprefix("Value error, ")
        raise InvalidRequest(
            f"Invalid value for '{param}.chunking_strategy': {message}.",
            f"{param}.chunking_strategy",
        ) from None
    # model_construct: the helper takes more file ids than a plain create (10,000, not 500).
    return CreateVectorStore.model_construct(
        file_ids=list(helper.file_ids),
        name=None,
        description=None,
        expires_after=None,
        chunking_strategy=chunking,
        metadata=helper.metadata,
    )


def tool_resources_to_wire(
    resources: ToolResources | None, current: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The resources to store; lists given replace the current ones, tool by tool."""
    wire: dict[str, Any] = dict(current or {})
    if resources is None:
        return wire
    if resources.code_interpreter is not None:
        wire["code_interpreter"] = {"file_ids": list(resources.code_interpreter.file_ids)}
    if resources.file_search is not None:
        if resources.file_search.vector_stores:
            # Only create requests take the helper; they resolve it first (create_helper_stores).
            raise InvalidRequest(
                "tool_resources.file_search.vector_stores can only be given on create.",
                HELPER_PARAM,
            )
        wire["file_search"] = {
            "vector_store_ids": list(resources.file_search.vector_store_ids or [])
        }
    return wire
