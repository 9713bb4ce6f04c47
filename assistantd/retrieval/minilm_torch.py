"""MiniLM in torch (fp32): the reference encoder, and the module the ONNX export traces.

Imports torch and transformers, so import this module only when they are wanted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel


class MeanPooledBert(torch.nn.Module):
    """BERT → mean of the unmasked token states → unit length (what sentence-transformers does)."""

    def __init__(self, bert: torch.nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        states = self.bert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=torch.zeros_like(input_ids),
        ).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)


def load_mean_pooled(model_dir: Path, attention: str = "sdpa") -> MeanPooledBert:
    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation=attention)
    return MeanPooledBert(bert).eval()


class TorchEncoder:
    """Batches of word-piece ids → unit vectors, on the CPU in fp32."""

    name = "torch-fp32"

    def __init__(self, model_dir: Path, threads: int) -> None:
        torch.set_num_threads(threads)
        self._model = load_mean_pooled(model_dir)

    def encode(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = self._model(torch.from_numpy(input_ids), torch.from_numpy(attention_mask))
        return out.numpy().astype(np.float32, copy=False)
