"""The local embedding model's file is built at set-up (``assistantd build-model``) or, when the
cache lacks it, in the background as soon as a process that indexes starts: the first file
indexed never waits for (nor starts) a build."""

from __future__ import annotations

import io
from pathlib import Path

from tests.harness.clients import sdk_client
from tests.harness.cluster import ServerProcess, start_process
from tests.harness.contract import ContractLog
from tests.lifecycle.commands import assistantd
from tests.runs.conftest import wait_for

BUILT = "built the int8 embedding model"


def _models(cache: Path) -> list[Path]:
    return sorted(cache.glob("minilm-*.onnx")) if cache.exists() else []


def _index_one_file(server: ServerProcess, contract_log: ContractLog) -> None:
    assert server.url is not None
    client = sdk_client(server.url, contract_log)
    store = client.vector_stores.create(name="first")
    upload = ("notes.txt", io.BytesIO(b"The first file this server ever indexes."))
    batch = client.vector_stores.file_batches.upload_and_poll(store.id, files=[upload])
    assert batch.file_counts.completed == 1, batch


def test_a_model_built_at_set_up_is_used_as_is(tmp_path: Path, contract_log: ContractLog) -> None:
    cache = tmp_path / "models"
    done = assistantd(
        "build-model", data_dir=tmp_path, ASSISTANTD_EMBEDDING_MODEL_CACHE_DIR=str(cache)
    )
    assert done.returncode == 0, done.stderr
    [model] = _models(cache)
    assert done.stdout.strip() == str(model)
    built = model.stat()

    env = {"ASSISTANTD_EMBEDDING_MODEL_CACHE_DIR": str(cache)}
    server = start_process("serve", tmp_path / "data", env)
    try:
        _index_one_file(server, contract_log)
    finally:
        server.stop()
    assert not any(BUILT in line for line in server.log), "".join(server.log)
    assert _models(cache) == [model]
    assert (model.stat().st_ino, model.stat().st_mtime_ns) == (built.st_ino, built.st_mtime_ns)


def test_a_missing_model_is_built_at_start_up_before_any_file(
    tmp_path: Path, contract_log: ContractLog
) -> None:
    cache = tmp_path / "models"
    env = {"ASSISTANTD_EMBEDDING_MODEL_CACHE_DIR": str(cache)}
    server = start_process("serve", tmp_path / "data", env)
    try:
        # No file uploaded yet: the process builds the model on its own.
        wait_for(lambda: _models(cache), lambda models: len(models) == 1, seconds=90)
        wait_for(lambda: [line for line in server.log if BUILT in line], bool, seconds=10)
        _index_one_file(server, contract_log)
    finally:
        server.stop()
    assert sum(BUILT in line for line in server.log) == 1, "".join(server.log)
    assert not list(cache.glob(".build-*")), "a scratch directory was left behind"
