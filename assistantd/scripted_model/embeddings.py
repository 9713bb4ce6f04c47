"""Deterministic embeddings: hashed bag-of-words vectors, L2-normalised.

Texts sharing words get a high cosine similarity, which is enough to exercise retrieval
end to end without a real embedding model.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct

DEFAULT_DIMENSIONS = 1536
_WORD = re.compile(r"\w+", re.UNICODE)


def embed(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    vector = [0.0] * dimensions
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        # The low bits choose the slot and one more bit the sign, so unrelated words cancel out
        # on average instead of all adding up.
        vector[value % dimensions] += 1.0 if (value >> 32) & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0.0:
        vector[0] = 1.0  # an empty text still gets a unit vector, as real models return
        return vector
    return [x / norm for x in vector]


def as_base64(vector: list[float]) -> str:
    """The ``encoding_format: base64`` form: little-endian float32s, as OpenAI sends them."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
