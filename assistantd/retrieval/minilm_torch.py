"""MiniLM in torch (fp32): the reference encoder, for whoever has torch installed.

Imports torch and transformers (the ``local-embeddings-torch`` extra), so import this module
only when they are wanted; the ONNX runtimes need neither.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel
from transformers.utils import logging as hf_logging


class MeanPooledBert(torch.nn.Module):
    """BERT → mean of the token states → unit length (what sentence-transformers does).

    It takes ``input_ids`` only: the embedder batches windows of one length, so no token is
    padding and the mean runs over all of them.
    """

    def __init__(self, bert: torch.nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        states = self.bert(
            input_ids=input_ids,
            attention_mask=torch.ones_like(input_ids),
            token_type_ids=torch.zeros_like(input_ids),
        ).last_hidden_state
        return torch.nn.functional.normalize(states.mean(1), dim=-1)


def load_mean_pooled(model_dir: Path) -> MeanPooledBert:
    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="sdpa")
    return MeanPooledBert(bert).eval()


class TorchEncoder:
    """Batches of equal-length word-piece windows → unit vectors, on the CPU in fp32."""

    name = "torch-fp32"

    def __init__(self, model_dir: Path) -> None:
        # One thread per call: the embedder runs one call per core at a time (see LocalEmbedder).
        torch.set_num_threads(1)
        hf_logging.disable_progress_bar()  # transformers' "Loading weights" bar, every start
        self._model = load_mean_pooled(model_dir)

    def encode(self, input_ids: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = self._model(torch.from_numpy(input_ids))
        return out.numpy().astype(np.float32, copy=False)
