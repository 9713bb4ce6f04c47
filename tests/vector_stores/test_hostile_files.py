"""Hostile documents fail as ``invalid_file`` without taking the server's memory with them.

The harness serves assistantd in a thread of this process, so the process's RSS is the server's.
"""

from __future__ import annotations

import io
import os
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

import openai

from tests.vector_stores.conftest import wait_until

GIB = 1024**3
MIB = 1024**2
RSS_GROWTH_LIMIT = 200 * MIB


def docx_bomb(expanded_bytes: int) -> bytes:
    """A ~1 MB DOCX whose ``word/document.xml`` inflates to ``expanded_bytes``: one paragraph of
    repeated text, written in streaming chunks so building it costs this test no memory."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        head = (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            b"<w:body><w:p><w:r><w:t>"
        )
        tail = b"</w:t></w:r></w:p></w:body></w:document>"
        block = b"A" * MIB
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(head)
            for _ in range(expanded_bytes // MIB):
                part.write(block)
            part.write(tail)
    return out.getvalue()


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def peak_rss() -> Iterator[dict[str, int]]:
    """Sample this process's RSS every few milliseconds while the block runs."""
    seen = {"before": rss_bytes(), "peak": rss_bytes()}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            seen["peak"] = max(seen["peak"], rss_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield seen
    finally:
        done.set()
        sampler.join()
        seen["peak"] = max(seen["peak"], rss_bytes())


def test_docx_bomb_fails_as_invalid_file_with_flat_memory(client: openai.OpenAI) -> None:
    bomb = docx_bomb(GIB)
    assert len(bomb) < 5 * MIB
    file_id = client.files.create(file=("report.docx", bomb), purpose="assistants").id
    del bomb
    store = client.vector_stores.create(name="bomb")

    with peak_rss() as rss:
        client.vector_stores.files.create(vector_store_id=store.id, file_id=file_id)

        def finished() -> bool:
            entry = client.vector_stores.files.retrieve(file_id, vector_store_id=store.id)
            return entry.status != "in_progress"

        wait_until(finished, "the bomb to be indexed or refused", seconds=120)

    growth = rss["peak"] - rss["before"]
    print(f"RSS before {rss['before'] / MIB:.0f} MiB, peak {rss['peak'] / MIB:.0f} MiB")
    assert growth < RSS_GROWTH_LIMIT, f"server RSS grew by {growth / MIB:.0f} MiB"
    entry = client.vector_stores.files.retrieve(file_id, vector_store_id=store.id)
    assert entry.status == "failed"
    assert entry.last_error is not None and entry.last_error.code == "invalid_file"
    # The server goes on indexing ordinary files.
    good = client.files.create(
        file=("ok.txt", b"An ordinary note about lamps."), purpose="assistants"
    )
    client.vector_stores.files.create_and_poll(vector_store_id=store.id, file_id=good.id)
    assert client.vector_stores.files.retrieve(good.id, vector_store_id=store.id).status == (
        "completed"
    )
