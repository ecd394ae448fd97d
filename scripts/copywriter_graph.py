"""The copywriter's serving graph: a GPT-2 decoder written directly as ONNX with fused operators.

Why not only optimum's export: its `text-generation-with-past` graph is correct but spends most of a
decode step outside arithmetic. Profiled on the shipped student (4 layers, 256 dims, 30 rows, one
thread), a third of every step was shape bookkeeping (Shape/Gather/Unsqueeze/Concat/Reshape, ~75
tiny nodes) and mask construction (Range/IsNaN/Where), and the attention ran as ~10 separate ops per
layer. This graph states the same model in about 12 nodes per layer:

    Gather(wte) + Gather(wpe)                  token and position embeddings
    per layer:  LayerNormalization -> MatMul(c_attn) -> Split
                com.microsoft.MultiHeadAttention  (bias, causal, 2-D key padding mask, past/present)
                MatMul(c_proj) + bias + residual -> LayerNormalization -> MatMul(c_fc)
                com.microsoft.FastGelu (the tanh GELU GPT-2 uses, bias fused) -> MatMul(mlp.c_proj)
    Slice(last position) -> LayerNormalization(ln_f) -> MatMul(lm_head) -> LogSoftmax

The `logits` output is log-softmax normalized (meta.json `export.logits: "log_softmax"`): sampling is
unchanged by a constant shift per row, and the runtime reads a token's log-probability directly
instead of normalizing 1,491 logits per row in numpy each step (48 us in numpy vs 11 us here, at 30 rows).
It holds the last fed position only, (batch, 1, vocab) (meta.json `export.logits_positions: "last"`): the
runtime samples only there, and a pass feeds ~3 tokens per row (jump-forward; a prompt ~18), so the LM
head and the log-softmax over every fed position were work thrown away. Measured on the bench's
batches (10 briefs x 4 candidates, one thread, process time): 1.07-1.08x the tokens per second of the
same graph with every position.

Its inputs and outputs are those of the optimum graph (`input_ids`, `attention_mask`,
`position_ids`, `past_key_values.{i}.key|value` -> `logits`, `present.{i}.key|value`; only `logits`
is shorter), so the runtime runs either. Residual adds stay plain Add + LayerNormalization: onnxruntime fuses them into
SkipLayerNormalization where that is faster, and writing SkipLayerNormalization ourselves measured
slower (its extra outputs). The export script checks this graph against PyTorch like any other.

>>> # model = GPT2LMHeadModel.from_pretrained(...); onnx.save(decoder_graph(model), "model.onnx")
"""

from __future__ import annotations

from typing import Any

import numpy as np

MS_DOMAIN = "com.microsoft"
LOGITS = "log_softmax"  # what the `logits` output holds; recorded in meta.json for the runtime
LOGITS_POSITIONS = "last"  # which fed positions `logits` covers (optimum's graph: "all")
IR_VERSION = 8  # onnxruntime 1.31 reads IR <= 13; 8 is what opset 17 needs
OPSET = 17


def decoder_graph(model: Any) -> Any:
    """An onnx.ModelProto computing `model` (a transformers GPT2LMHeadModel) with a KV cache, fp32."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    config = model.config
    if config.model_type != "gpt2":
        raise ValueError(f"expected a GPT-2 model (GPT2LMHeadModel), got model_type={config.model_type!r}")
    if getattr(config, "activation_function", "gelu_new") not in ("gelu_new", "gelu_pytorch_tanh"):
        raise ValueError(f"expected the tanh GELU of GPT-2, got activation_function={config.activation_function!r}")
    width, heads, layers, vocab = config.n_embd, config.n_head, config.n_layer, config.vocab_size
    head_dim, eps = width // heads, float(config.layer_norm_epsilon)
    weights = {name: tensor.detach().cpu().numpy().astype(np.float32) for name, tensor in model.state_dict().items()}
    lm_head = weights.get("lm_head.weight", weights["transformer.wte.weight"])

    initializers: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, array: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(op_type: str, inputs: list[str], output: str | list[str], domain: str | None = None, **attrs: Any) -> str:
        outputs = [output] if isinstance(output, str) else output
        nodes.append(helper.make_node(op_type, inputs, outputs, name=f"{op_type}_{len(nodes)}", domain=domain, **attrs))
        return outputs[0]

    def layer_norm(x: str, prefix: str, out: str) -> str:
        gamma, beta = const(f"{prefix}.weight", weights[f"{prefix}.weight"]), const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return op("LayerNormalization", [x, gamma, beta], out, axis=-1, epsilon=eps)

    def linear(x: str, prefix: str, out: str) -> str:
        """x @ W (GPT-2's Conv1D keeps W as in x out); the bias is left to the caller to fuse."""
        return op("MatMul", [x, const(f"{prefix}.weight", weights[f"{prefix}.weight"])], out)

    tokens = op("Gather", [const("wte", weights["transformer.wte.weight"]), "input_ids"], "token_embedding")
    positions = op("Gather", [const("wpe", weights["transformer.wpe.weight"]), "position_ids"], "position_embedding")
    hidden = op("Add", [tokens, positions], "hidden_0")
    key_padding_mask = op("Cast", ["attention_mask"], "key_padding_mask", to=TensorProto.INT32)
    for i in range(layers):
        p = f"transformer.h.{i}"
        normed = layer_norm(hidden, f"{p}.ln_1", f"ln_1_{i}")
        qkv = linear(normed, f"{p}.attn.c_attn", f"qkv_{i}")
        split = const(f"qkv_split_{i}", np.array([width] * 3, dtype=np.int64))
        op("Split", [qkv, split], [f"q_{i}", f"k_{i}", f"v_{i}"], axis=-1)
        attended = op(
            "MultiHeadAttention",
            [f"q_{i}", f"k_{i}", f"v_{i}", const(f"{p}.attn.c_attn.bias", weights[f"{p}.attn.c_attn.bias"]),
             key_padding_mask, "", f"past_key_values.{i}.key", f"past_key_values.{i}.value"],
            [f"attention_{i}", f"present.{i}.key", f"present.{i}.value"],
            domain=MS_DOMAIN, num_heads=heads, unidirectional=1,
        )
        projected = linear(attended, f"{p}.attn.c_proj", f"attn_proj_{i}")
        projected = op("Add", [projected, const(f"{p}.attn.c_proj.bias", weights[f"{p}.attn.c_proj.bias"])], f"attn_out_{i}")
        hidden = op("Add", [hidden, projected], f"residual_attn_{i}")
        normed = layer_norm(hidden, f"{p}.ln_2", f"ln_2_{i}")
        expanded = linear(normed, f"{p}.mlp.c_fc", f"fc_{i}")
        activated = op("FastGelu", [expanded, const(f"{p}.mlp.c_fc.bias", weights[f"{p}.mlp.c_fc.bias"])], f"gelu_{i}",
                       domain=MS_DOMAIN)
        contracted = linear(activated, f"{p}.mlp.c_proj", f"mlp_proj_{i}")
        contracted = op("Add", [contracted, const(f"{p}.mlp.c_proj.bias", weights[f"{p}.mlp.c_proj.bias"])], f"mlp_out_{i}")
        hidden = op("Add", [hidden, contracted], f"hidden_{i + 1}")
    last = op("Slice", [hidden, const("last_start", np.array([-1], dtype=np.int64)),
                        const("last_end", np.array([np.iinfo(np.int64).max], dtype=np.int64)),
                        const("sequence_axis", np.array([1], dtype=np.int64))], "last_hidden")
    final = layer_norm(last, "transformer.ln_f", "ln_f")
    raw = op("MatMul", [final, const("lm_head.weight_t", lm_head.T)], "raw_logits")
    op("LogSoftmax", [raw], "logits", axis=-1)

    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "total_sequence"]),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "sequence"]),
    ]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 1, vocab])]
    for i in range(layers):
        for kind in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.{kind}", TensorProto.FLOAT,
                                                        ["batch", heads, "past_sequence", head_dim]))
            outputs.append(helper.make_tensor_value_info(f"present.{i}.{kind}", TensorProto.FLOAT,
                                                         ["batch", heads, "total_sequence", head_dim]))
    graph = helper.make_graph(nodes, "nudge_copywriter_decoder", inputs, outputs, initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS_DOMAIN, 1)],
                              producer_name="nudge.copywriter_graph", ir_version=IR_VERSION)
    onnx.checker.check_model(proto)
    return proto
