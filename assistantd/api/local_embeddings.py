"""``/v1/embeddings`` for the local embedding model file_search uses, answered in-process.

The names ``all-MiniLM-L6-v2`` and ``sentence-transformers/all-MiniLM-L6-v2`` (unless a route
in ``ASSISTANTD_MODEL_ROUTES`` takes them) are embedded here, by the model ingestion uses when
``ASSISTANTD_EMBEDDING_BACKEND=local`` (the same weights, runtime and worker threads; one is made
on first use otherwise), so an app's own vectors match file_search's and nothing needs a model
server. The vectors have 384 dimensions, unit length; ``usage`` counts the input in the bundled
tokenizer's tokens (the model's word pieces are not OpenAI's tokens), and token-id inputs are
decoded to text with that tokenizer first.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from fastapi import FastAPI

from assistantd import tokens
from assistantd.config import Settings
from assistantd.errors import APIError, InvalidRequest
from assistantd.llm.passthrough import Answer
from assistantd.retrieval.embedder import EmbeddingError
from assistantd.retrieval.local_embedder import DIMENSIONS, LocalEmbedder, ModelNotInstalled
from assistantd.wire.model_endpoints import embedding_inputs

LOCAL_MODEL = "all-MiniLM-L6-v2"
LOCAL_MODEL_NAMES = frozenset({LOCAL_MODEL, f"sentence-transformers/{LOCAL_MODEL}"})


def is_local_model(app: FastAPI, model: str) -> bool:
    settings: Settings = app.state.settings
    return model in LOCAL_MODEL_NAMES and model not in settings.model_routes


async def embed_locally(app: FastAPI, body: dict[str, Any]) -> Answer:
    dimensions = body.get("dimensions")
    if dimensions is not None and dimensions != DIMENSIONS:
        raise InvalidRequest(
            f"{LOCAL_MODEL} makes {DIMENSIONS}-dimensional vectors only: leave 'dimensions' out "
            f"or set it to {DIMENSIONS}.",
            "dimensions",
        )
    texts = [_text(value) for value in embedding_inputs(body["input"])]
    try:
        vectors = await _embedder(app).embed(texts)
    except (EmbeddingError, ModelNotInstalled, OSError) as exc:
        raise APIError(f"the local embedding model is not available: {exc}") from exc
    as_base64 = body.get("encoding_format") == "base64"
    data = [
        {"object": "embedding", "index": i, "embedding": _encoded(vector, as_base64)}
        for i, vector in enumerate(vectors)
    ]
    used = sum(map(tokens.count, texts))
    usage = {"prompt_tokens": used, "total_tokens": used}
    answer = {"object": "list", "data": data, "model": body["model"], "usage": usage}
    return Answer(answer, used)


def _embedder(app: FastAPI) -> LocalEmbedder:
    """Ingestion's, when it is the local model (its loaded weights and threads), else our own."""
    ingestion = getattr(app.state, "ingestion", None)
    if isinstance(getattr(ingestion, "embedder", None), LocalEmbedder):
        return ingestion.embedder
    if getattr(app.state, "local_embedder", None) is None:
        settings: Settings = app.state.settings
        app.state.local_embedder = LocalEmbedder(
            runtime=settings.embedding_local_runtime,
            cache_dir=settings.embedding_model_cache_dir,
        )
    return app.state.local_embedder


def _text(value: str | list[int]) -> str:
    if isinstance(value, str):
        return value
    try:
        return tokens.decode(value)
    except ValueError as exc:
        raise InvalidRequest(f"Invalid 'input': {exc}", "input") from exc


def _encoded(vector: np.ndarray, as_base64: bool) -> list[float] | str:
    if as_base64:
        # Little-endian float32s, as OpenAI sends them.
        return base64.b64encode(vector.astype("<f4").tobytes()).decode()
    return [float(x) for x in vector]
