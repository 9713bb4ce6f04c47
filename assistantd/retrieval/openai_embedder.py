"""Embeddings from any OpenAI-compatible ``POST {base_url}/embeddings`` endpoint, via httpx."""

from __future__ import annotations

import httpx
import numpy as np

from assistantd.retrieval.embedder import EmbeddingError, normalise

# Output sizes of OpenAI's own models, used when no dimensions are configured.
KNOWN_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


class OpenAIEmbedder:
    # Remote models take whole chunks (8k tokens for OpenAI's), so chunks are sent as they are.
    averages_windows = False

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        dimensions: int | None = None,
        batch_size: int = 128,
        timeout_seconds: float = 60.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.model = model
        self._send_dimensions = dimensions
        # Unknown until the first answer when neither configured nor a known model.
        self.dimensions = dimensions or KNOWN_DIMENSIONS.get(model, 0)
        self._batch_size = batch_size
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout_seconds
        )

    async def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        batches = [
            await self._embed_batch(texts[i : i + self._batch_size])
            for i in range(0, len(texts), self._batch_size)
        ]
        vectors = normalise(np.concatenate(batches))
        self.dimensions = int(vectors.shape[1])
        return vectors

    async def _embed_batch(self, texts: list[str]) -> np.ndarray:
        body: dict = {"model": self.model, "input": texts, "encoding_format": "float"}
        if self._send_dimensions:
            body["dimensions"] = self._send_dimensions
        try:
            response = await self._client.post("embeddings", json=body)
        except httpx.HTTPError as exc:
            raise EmbeddingError(f"embedding endpoint unreachable: {exc}") from exc
        if response.status_code != 200:
            raise EmbeddingError(
                f"embedding endpoint answered {response.status_code}: {response.text[:500]}"
            )
        try:
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            vectors = np.array([item["embedding"] for item in data], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingError(f"malformed embeddings response: {exc}") from exc
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise EmbeddingError("embedding endpoint returned the wrong number of vectors")
        return vectors

    async def aclose(self) -> None:
        await self._client.aclose()
