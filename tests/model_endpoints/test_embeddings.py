"""``client.embeddings`` against assistantd: passed through to the route's backend (floats and
base64, ``dimensions``, the upstream name), or answered by the local model file_search uses."""

from __future__ import annotations

import base64
import math
import struct

import httpx
import openai
import pytest

from assistantd.scripted_model.embeddings import embed
from tests.model_endpoints.conftest import KeyedServer
from tests.runs.conftest import Scripted


def test_embeddings_pass_through_as_floats_and_base64(
    project_client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    # The SDK asks for base64 unless told otherwise, and decodes it.
    default = project_client.embeddings.create(model=model, input="hello wide world")
    assert default.model == model and default.object == "list"
    assert default.data[0].embedding == pytest.approx(embed("hello wide world"), abs=1e-6)
    assert scripted.requests(model)[-1]["encoding_format"] == "base64"
    assert default.usage.prompt_tokens > 0

    floats = project_client.embeddings.create(
        model=model, input=["one", "two"], encoding_format="float", dimensions=8
    )
    assert [d.index for d in floats.data] == [0, 1]
    assert floats.data[1].embedding == pytest.approx(embed("two", 8))
    sent = scripted.requests(model)[-1]
    assert (sent["dimensions"], sent["encoding_format"]) == (8, "float")


def test_a_routed_embedding_model_goes_upstream_under_its_name(
    keyed_server: KeyedServer, project_client: openai.OpenAI, scripted: Scripted
) -> None:
    answer = project_client.embeddings.create(model=keyed_server.alias, input="routed")
    assert answer.model == keyed_server.alias
    assert scripted.requests(keyed_server.upstream)[-1]["model"] == keyed_server.upstream


def test_embedding_requests_are_checked(project_client: openai.OpenAI, model: str) -> None:
    cases = [
        ({"input": "x"}, "model"),
        ({"model": model}, "input"),
        ({"model": model, "input": ""}, "input"),
        ({"model": model, "input": [1, "a"]}, "input"),
        ({"model": model, "input": "x", "encoding_format": "int8"}, "encoding_format"),
        ({"model": model, "input": "x", "dimensions": 0}, "dimensions"),
    ]
    for body, param in cases:
        with pytest.raises(openai.BadRequestError) as bad:
            project_client.post("/embeddings", body=body, cast_to=object)
        assert bad.value.response.json()["error"]["param"] == param, body


def test_the_local_model_answers_in_process(
    keyed_server: KeyedServer, project_client: openai.OpenAI
) -> None:
    texts = ["The cat sat on the mat.", "A cat is sitting on a rug.", "Quarterly tax filings"]
    answer = project_client.embeddings.create(model="all-MiniLM-L6-v2", input=texts)
    vectors = [d.embedding for d in answer.data]
    assert [len(v) for v in vectors] == [384] * 3
    assert all(math.isclose(math.hypot(*v), 1.0, abs_tol=1e-4) for v in vectors)

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.2
    raw = httpx.post(
        f"{keyed_server.base}/v1/embeddings",
        headers={"Authorization": f"Bearer {keyed_server.key}"},
        json={"model": "sentence-transformers/all-MiniLM-L6-v2", "input": texts[0],
              "encoding_format": "base64"},
        timeout=60,
    ).json()  # fmt: skip
    decoded = struct.unpack("<384f", base64.b64decode(raw["data"][0]["embedding"]))
    assert list(decoded) == pytest.approx(vectors[0], abs=1e-6)
    with pytest.raises(openai.BadRequestError) as bad:
        project_client.embeddings.create(model="all-MiniLM-L6-v2", input="x", dimensions=128)
    assert bad.value.response.json()["error"]["param"] == "dimensions"
