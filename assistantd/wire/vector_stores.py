"""Request bodies for ``/vector_stores`` and its files, file batches and search."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from assistantd.wire.chunking_strategy import static_strategy_error
from assistantd.wire.common import FileId, Metadata, Request
from assistantd.wire.search_filters import filter_error

ATTRIBUTES_MAX_PAIRS = 16
ATTRIBUTES_MAX_KEY = 64
ATTRIBUTES_MAX_STRING = 512


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AutoChunking(_Strict):
    type: Literal["auto"]


class StaticChunkingParams(_Strict):
    max_chunk_size_tokens: Annotated[int, Field(ge=100, le=4096)]
    chunk_overlap_tokens: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _overlap(self) -> StaticChunkingParams:
        error = static_strategy_error(self.max_chunk_size_tokens, self.chunk_overlap_tokens)
        if error:
            raise ValueError(error)
        return self


class StaticChunking(_Strict):
    type: Literal["static"]
    static: StaticChunkingParams


ChunkingStrategy = Annotated[AutoChunking | StaticChunking, Field(discriminator="type")]


def _check_attributes(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if len(value) > ATTRIBUTES_MAX_PAIRS:
        raise ValueError(f"attributes can have at most {ATTRIBUTES_MAX_PAIRS} key-value pairs")
    for key, item in value.items():
        if len(key) > ATTRIBUTES_MAX_KEY:
            raise ValueError(f"attribute keys can be at most {ATTRIBUTES_MAX_KEY} characters long")
        if isinstance(item, str) and len(item) > ATTRIBUTES_MAX_STRING:
            raise ValueError(
                f"string attribute values can be at most {ATTRIBUTES_MAX_STRING} characters long"
            )
    return value


Attributes = Annotated[
    dict[str, str | bool | int | float] | None, AfterValidator(_check_attributes)
]


class ExpiresAfter(_Strict):
    anchor: Literal["last_active_at"]
    days: Annotated[int, Field(ge=1, le=365)]


class CreateVectorStore(Request):
    file_ids: Annotated[list[FileId], Field(max_length=500)] = []
    name: str | None = None
    description: str | None = None
    expires_after: ExpiresAfter | None = None
    chunking_strategy: ChunkingStrategy | None = None
    metadata: Metadata = None


class ModifyVectorStore(Request):
    name: str | None = None
    expires_after: ExpiresAfter | None = None
    metadata: Metadata = None


class CreateVectorStoreFile(Request):
    file_id: FileId
    chunking_strategy: ChunkingStrategy | None = None
    attributes: Attributes = None


class UpdateVectorStoreFile(Request):
    attributes: Attributes


class CreateFileBatch(Request):
    file_ids: Annotated[list[FileId], Field(min_length=1, max_length=2000)] | None = None
    files: Annotated[list[CreateVectorStoreFile], Field(min_length=1, max_length=2000)] | None = (
        None
    )
    chunking_strategy: ChunkingStrategy | None = None
    attributes: Attributes = None

    @model_validator(mode="after")
    def _one_of(self) -> CreateFileBatch:
        if (self.file_ids is None) == (self.files is None):
            raise ValueError("exactly one of file_ids or files must be given")
        return self

    def entries(self) -> list[CreateVectorStoreFile]:
        """One entry per file; with ``file_ids`` the top-level strategy and attributes apply."""
        if self.files is not None:
            return list(self.files)
        return [
            CreateVectorStoreFile(
                file_id=file_id,
                chunking_strategy=self.chunking_strategy,
                attributes=self.attributes,
            )
            for file_id in self.file_ids or []
        ]


class RankingOptions(_Strict):
    ranker: Literal["none", "auto", "default-2024-11-15"] = "auto"
    score_threshold: Annotated[float, Field(ge=0, le=1)] = 0.0


def _check_filter(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None:
        error = filter_error(value)
        if error:
            raise ValueError(error)
    return value


def _check_query(value: str | list[str]) -> str | list[str]:
    queries = [value] if isinstance(value, str) else value
    if not queries or not all(query.strip() for query in queries):
        raise ValueError("query must be a non-empty string or a list of non-empty strings")
    return value


class SearchVectorStore(Request):
    query: Annotated[str | list[str], AfterValidator(_check_query)]
    rewrite_query: bool = False
    max_num_results: Annotated[int, Field(ge=1, le=50)] = 10
    filters: Annotated[dict[str, Any] | None, AfterValidator(_check_filter)] = None
    ranking_options: RankingOptions | None = None


def chunking_to_wire(strategy: AutoChunking | StaticChunking | None) -> dict[str, Any]:
    """The strategy as a file reports it: always ``static`` with its numbers (``auto`` is
    800/400)."""
    if isinstance(strategy, StaticChunking):
        return {"type": "static", "static": strategy.static.model_dump()}
    return {"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}}
