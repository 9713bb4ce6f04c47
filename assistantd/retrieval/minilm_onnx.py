"""MiniLM on onnxruntime: the model ``onnx_export`` builds, fp32 or int8."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from assistantd.retrieval.onnx_export import DISABLED_SESSION_OPTIMIZERS, Precision


class OnnxEncoder:
    """Batches of equal-length word-piece windows → unit vectors.

    One session, each call on one thread: the embedder runs one call per core at a time, each
    on its own batch. Spreading each call over both cores (two intra-op threads, not spinning)
    cost ~15% more CPU per window, in hand-offs between the model's ~80 small ops (~30% more
    with spinning threads).
    """

    def __init__(self, path: Path, precision: Precision) -> None:
        """``path``: the model file ``onnx_export`` built."""
        self.name = f"onnx-{precision}"
        self._session = ort.InferenceSession(
            str(path),
            _session_options(),
            providers=["CPUExecutionProvider"],
            disabled_optimizers=list(DISABLED_SESSION_OPTIMIZERS),
        )

    def encode(self, input_ids: np.ndarray) -> np.ndarray:
        # Session.run is thread-safe and releases the GIL: concurrent calls use separate cores.
        out = self._session.run(None, {"input_ids": input_ids})[0]
        return np.asarray(out, dtype=np.float32)


def _session_options() -> ort.SessionOptions:
    options = ort.SessionOptions()
    # The calling thread does all the work: no pool threads to wake, nor to spin.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options
