"""MiniLM as an ONNX graph written node by node from the shipped safetensors (no torch).

The graph is the fused form onnxruntime's BERT optimizer used to make of a torch trace, built
directly: ``EmbedLayerNormalization`` (word + position + segment-0 embeddings, layer norm); per
layer, the query, key and value projections as plain MatMuls (so int8 quantization covers
them) feeding ``MultiHeadAttention`` with their biases and no mask (every batch holds windows of
one length, and without a mask onnxruntime takes its flash-attention kernel); the attention
output and feed-forward projections as MatMul + Add (onnxruntime folds the Add into an int8
MatMul); ``Gelu`` (erf form, as BERT's ``gelu``); residual Add + ``LayerNormalization`` left
unfused (see ``onnx_export.DISABLED_SESSION_OPTIMIZERS``); then the mean over the tokens and L2
normalisation, as sentence-transformers pools this model.

Input ``input_ids`` (int64, batch × length), output ``embedding`` (float32, batch × hidden).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper
from safetensors.numpy import load_file

OPSET = 17
# onnxruntime ≥ 1.18 reads IR 8 (opset 17); newer onnx releases would stamp a newer IR by default.
IR_VERSION = 8
MS = "com.microsoft"
# A norm below this is treated as this, as torch's normalize does (no division by zero).
NORM_FLOOR = 1e-12


@dataclass(frozen=True)
class BertShape:
    layers: int
    hidden: int
    heads: int
    layer_norm_eps: float

    @classmethod
    def read(cls, model_dir: Path) -> BertShape:
        config = json.loads((model_dir / "config.json").read_text())
        # The graph below is BERT with absolute positions and exact GELU; anything else would
        # be a different model computed wrongly, so refuse it.
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise ValueError(f"{model_dir} is not a BERT model with GELU activations")
        if config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{model_dir} uses {config['position_embedding_type']} positions")
        return cls(
            layers=config["num_hidden_layers"],
            hidden=config["hidden_size"],
            heads=config["num_attention_heads"],
            layer_norm_eps=config["layer_norm_eps"],
        )


def value_projection(layer: int) -> str:
    """The name of ``layer``'s value-projection MatMul (left fp32 by the int8 recipe)."""
    return f"layer{layer}/value/MatMul"


def build_model(model_dir: Path) -> onnx.ModelProto:
    """The fp32 model of the BERT checkpoint in ``model_dir`` (config.json, model.safetensors)."""
    shape = BertShape.read(model_dir)
    # Filled in place: helper.make_model would copy the graph's 90 MB of weights once more.
    model = onnx.ModelProto(ir_version=IR_VERSION, producer_name="assistantd")
    model.opset_import.extend([helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)])
    graph = model.graph
    graph.name = "minilm"
    graph.node.extend(_GraphBuilder(_weights(model_dir), shape, graph).nodes())
    graph.input.append(
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"])
    )
    graph.output.append(
        helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", shape.hidden])
    )
    return model


def _weights(model_dir: Path) -> dict[str, np.ndarray]:
    weights = load_file(str(model_dir / "model.safetensors"))
    # Checkpoints saved from BertForX carry a "bert." prefix; the bare BertModel does not.
    return {name.removeprefix("bert."): array for name, array in weights.items()}


class _GraphBuilder:
    def __init__(
        self, weights: dict[str, np.ndarray], shape: BertShape, graph: onnx.GraphProto
    ) -> None:
        self._weights = weights
        self._shape = shape
        self._graph = graph

    def nodes(self) -> list[onnx.NodeProto]:
        nodes, states = self._embeddings()
        for layer in range(self._shape.layers):
            layer_nodes, states = self._layer(layer, states)
            nodes += layer_nodes
        return nodes + self._pooling(states)

    def _constant(self, name: str, array: np.ndarray) -> str:
        tensor = self._graph.initializer.add()
        tensor.name = name
        tensor.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
        tensor.dims.extend(array.shape)
        tensor.raw_data = np.ascontiguousarray(array).tobytes()  # little-endian, as ONNX stores
        return name

    def _weight(self, key: str, transpose: bool = False) -> str:
        array = self._weights[key]
        # A linear layer's weight is stored out × in; MatMul multiplies by in × out.
        return self._constant(key, array.T if transpose else array)

    def _embeddings(self) -> tuple[list[onnx.NodeProto], str]:
        w = "embeddings."
        nodes = [
            helper.make_node("Cast", ["input_ids"], ["ids32"], to=TensorProto.INT32),
            helper.make_node("Shape", ["input_ids"], ["ids_shape"]),
            # Every piece is in segment 0: one text per window.
            helper.make_node(
                "ConstantOfShape",
                ["ids_shape"],
                ["segments"],
                value=helper.make_tensor("zero", TensorProto.INT32, [1], [0]),
            ),
            helper.make_node(
                "EmbedLayerNormalization",
                [
                    "ids32",
                    "segments",
                    self._weight(w + "word_embeddings.weight"),
                    self._weight(w + "position_embeddings.weight"),
                    self._weight(w + "token_type_embeddings.weight"),
                    self._weight(w + "LayerNorm.weight"),
                    self._weight(w + "LayerNorm.bias"),
                ],
                ["embedded", "mask_index_unused"],
                domain=MS,
                epsilon=self._shape.layer_norm_eps,
            ),
        ]
        return nodes, "embedded"

    def _layer(self, layer: int, states: str) -> tuple[list[onnx.NodeProto], str]:
        w, at = f"encoder.layer.{layer}.", f"layer{layer}/"
        projections = []
        for part in ("query", "key", "value"):
            weight = self._weight(f"{w}attention.self.{part}.weight", transpose=True)
            projections.append(
                helper.make_node("MatMul", [states, weight], [at + part], name=f"{at}{part}/MatMul")
            )
        qkv_bias = np.concatenate(
            [self._weights[f"{w}attention.self.{p}.bias"] for p in ("query", "key", "value")]
        )
        attention = helper.make_node(
            "MultiHeadAttention",
            [at + "query", at + "key", at + "value", self._constant(at + "qkv_bias", qkv_bias)],
            [at + "attention"],
            name=at + "attention",
            domain=MS,
            num_heads=self._shape.heads,
        )
        attended, after_attention = self._dense_residual_norm(
            at + "attention", states, f"{w}attention.output.", at + "attention_output/"
        )
        intermediate = self._linear(after_attention, f"{w}intermediate.dense.", at + "ffn_in/")
        gelu = helper.make_node("Gelu", [at + "ffn_in/out"], [at + "gelu"], domain=MS)
        ffn_out, out = self._dense_residual_norm(
            at + "gelu", after_attention, f"{w}output.", at + "ffn_out/"
        )
        return [*projections, attention, *attended, *intermediate, gelu, *ffn_out], out

    def _linear(self, source: str, key: str, at: str) -> list[onnx.NodeProto]:
        weight = self._weight(key + "weight", transpose=True)
        return [
            helper.make_node("MatMul", [source, weight], [at + "product"], name=at + "MatMul"),
            helper.make_node("Add", [at + "product", self._weight(key + "bias")], [at + "out"]),
        ]

    def _dense_residual_norm(
        self, source: str, residual: str, key: str, at: str
    ) -> tuple[list[onnx.NodeProto], str]:
        nodes = self._linear(source, key + "dense.", at)
        nodes += [
            helper.make_node("Add", [at + "out", residual], [at + "residual"]),
            helper.make_node(
                "LayerNormalization",
                [
                    at + "residual",
                    self._weight(key + "LayerNorm.weight"),
                    self._weight(key + "LayerNorm.bias"),
                ],
                [at + "normed"],
                axis=-1,
                epsilon=self._shape.layer_norm_eps,
            ),
        ]
        return nodes, at + "normed"

    def _pooling(self, states: str) -> list[onnx.NodeProto]:
        floor = self._constant("norm_floor", np.array(NORM_FLOOR, dtype=np.float32))
        return [
            # No piece is padding (windows of one length a batch), so the mean runs over all.
            helper.make_node("ReduceMean", [states], ["mean"], axes=[1], keepdims=0),
            helper.make_node("ReduceL2", ["mean"], ["norm"], axes=[-1], keepdims=1),
            helper.make_node("Max", ["norm", floor], ["norm_floored"]),
            helper.make_node("Div", ["mean", "norm_floored"], ["embedding"]),
        ]
