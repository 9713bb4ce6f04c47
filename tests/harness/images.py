"""Small real image files for tests, made here (no imaging library needed)."""

from __future__ import annotations

import random
import struct
import zlib

# The smallest GIF: one white pixel (GIF89a).
ONE_PIXEL_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def png(width: int = 2, height: int = 2, *, noise: bool = False, seed: int = 0) -> bytes:
    """A valid RGB PNG: a plain red one, or (``noise``) random pixels, which do not compress, so
    the file is about ``3 * width * height`` bytes."""
    rng = random.Random(seed)
    pixel = b"\xff\x00\x00"
    rows = b"".join(
        b"\x00" + (rng.randbytes(3 * width) if noise else pixel * width) for _ in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows, 0 if noise else 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
