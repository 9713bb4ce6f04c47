"""GET /v1/models and deterministic embeddings."""

from __future__ import annotations

import math

import openai


async def test_models_lists_the_configured_ids(sdk: openai.AsyncOpenAI) -> None:
    page = await sdk.models.list()
    assert [m.id for m in page.data] == ["scripted"]


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_embeddings_are_deterministic_normalised_and_sized(sdk: openai.AsyncOpenAI) -> None:
    texts = ["the cat sat on the mat", "a cat sat on a mat", "quarterly revenue grew"]
    # The SDK asks for base64 by default and decodes it, so this covers that encoding too.
    first = await sdk.embeddings.create(model="emb", input=texts, dimensions=64)
    again = await sdk.embeddings.create(model="emb", input=texts, dimensions=64)
    vectors = [d.embedding for d in first.data]
    assert vectors == [d.embedding for d in again.data]
    assert all(len(v) == 64 for v in vectors)
    assert all(math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-5) for v in vectors)
    assert _cosine(vectors[0], vectors[1]) > _cosine(vectors[0], vectors[2])
    assert first.usage.prompt_tokens > 0


async def test_embeddings_as_float_lists(sdk: openai.AsyncOpenAI) -> None:
    result = await sdk.embeddings.create(model="emb", input="hello", encoding_format="float")
    assert len(result.data[0].embedding) == 1536
