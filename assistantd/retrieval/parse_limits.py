"""How far an untrusted document may expand while it is parsed, checked before it is parsed.

A file's stored size says little about the memory its parsing takes: a 1 MB DOCX can hold an XML
part that inflates to gigabytes, and an HTML or JSON file becomes a tree of Python or lxml objects
many times its size. So a zip-based document's central directory is read first (nothing inflated)
and refused when its parts declare more than ``max_expanded_bytes`` in all, or when one large part
is compressed more than ``MAX_RATIO``:1, as only crafted content is. The declared sizes are a
real bound: Python's ``zipfile`` (which python-docx reads with) stops inflating a part at its
declared size and fails it on the CRC. Tree-parsed formats are refused above the same size.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from assistantd.retrieval.errors import InvalidFile

MAX_RATIO = 100
# Small parts may compress as well as they like: they cannot take much memory.
RATIO_CHECKED_FROM_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ParseLimits:
    # The most a document may hold once unpacked (a DOCX's parts), or, for formats parsed into a
    # tree (HTML, JSON), its size as stored.
    max_expanded_bytes: int = 64 * 1024 * 1024


DEFAULT_LIMITS = ParseLimits()


def check_archive(data: bytes, limits: ParseLimits, kind: str) -> None:
    """Raise ``InvalidFile`` unless the zip's parts, as declared, stay within ``limits``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InvalidFile(f"The {kind} could not be read: {exc}") from exc
    total = 0
    for entry in entries:
        total += entry.file_size
        if total > limits.max_expanded_bytes:
            raise InvalidFile(
                f"The {kind} expands to more than {limits.max_expanded_bytes} bytes when unpacked."
            )
        if entry.file_size >= RATIO_CHECKED_FROM_BYTES and (
            entry.file_size > MAX_RATIO * max(entry.compress_size, 1)
        ):
            raise InvalidFile(
                f"The {kind}'s part {entry.filename!r} is compressed more than {MAX_RATIO}:1."
            )


def check_tree_size(data: bytes, limits: ParseLimits, kind: str) -> None:
    """Raise ``InvalidFile`` if a file parsed into a tree is too large for that."""
    if len(data) > limits.max_expanded_bytes:
        raise InvalidFile(
            f"The {kind} file is larger than {limits.max_expanded_bytes} bytes, the most that is "
            "parsed."
        )
