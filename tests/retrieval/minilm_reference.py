"""The local model's vectors for a fixed sample, as the fp32 torch model gave them.

The ONNX runtimes are checked against these, so their tests need no torch. The file was written
by the torch runtime (``python -m tests.retrieval.minilm_reference``, where torch is installed);
``test_the_reference_vectors_are_the_torch_models`` checks it still is what torch gives.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

REFERENCE_FILE = Path(__file__).parent / "data" / "minilm_torch_fp32.npy"

SAMPLE = [
    "The cat sat on the mat.",
    "Refund policy: customers may return any purchase within 30 days for a refund.",
    "Part number QX-7781 is the replacement hinge for the garden gate.",
    "Wie spät ist es? Es ist halb neun.",
    "def add(a: int, b: int) -> int:\n    return a + b",
    # Longer than one model window, so window averaging is compared too.
    " ".join(
        f"Section {i}: the pump primes in {i % 9 + 1} seconds at low pressure." for i in range(80)
    ),
    "",
]


def reference_vectors() -> np.ndarray:
    """The torch model's unit vectors of ``SAMPLE`` (one row per text, float32)."""
    return np.load(REFERENCE_FILE)


async def _write() -> None:
    from assistantd.retrieval.local_embedder import LocalEmbedder

    vectors = await LocalEmbedder(runtime="torch").embed(SAMPLE)
    REFERENCE_FILE.parent.mkdir(exist_ok=True)
    np.save(REFERENCE_FILE, vectors.astype(np.float32))


if __name__ == "__main__":
    asyncio.run(_write())
