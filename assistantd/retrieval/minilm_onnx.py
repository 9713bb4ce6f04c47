"""MiniLM on onnxruntime: the model ``onnx_export`` builds, fp32 or int8."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from assistantd.retrieval.onnx_export import (
    DISABLED_SESSION_OPTIMIZERS,
    Precision,
    onnx_model_path,
)


class OnnxEncoder:
    """Batches of word-piece ids → unit vectors."""

    def __init__(
        self, model_dir: Path, cache_dir: Path, precision: Precision, threads: int
    ) -> None:
        self.name = f"onnx-{precision}"
        path = onnx_model_path(model_dir, cache_dir, precision)
        self._session = ort.InferenceSession(
            str(path),
            _session_options(threads),
            providers=["CPUExecutionProvider"],
            disabled_optimizers=list(DISABLED_SESSION_OPTIMIZERS),
        )

    def encode(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": input_ids, "attention_mask": attention_mask}
        return np.asarray(self._session.run(None, feed)[0], dtype=np.float32)


def _session_options(threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle pool threads sleep instead of spinning between ops: spinning burned ~20% more CPU
    # for the same work, CPU the server's event loop and the other ingestion worker need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options
