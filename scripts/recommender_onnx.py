"""The recommender's scoring step as an ONNX graph, checked against the numpy runtime and timed beside it.

Inputs → outputs: a Recommender (exported by scripts/train_recommender.py, or synthetic in the
benchmark) → `scoring.onnx` + `scoring.onnx.data` (the item table as external data):

- embeddings form: input `user` float32 [1, d] (the customer folded in, as Recommender._fold_in
  does) → `scores` float32 [1, n] = Gemm(user, item_factors, transB=1);
- neighbours form: inputs `history` int64 [H] (model item rows) and `weights` float32 [H] (their
  input values) → `scores` float32 [n] = the sum over the history of each item's neighbour weights
  (Gather the rows, scale, ScatterElements with reduction "add"), as Recommender.score_items does
  with np.bincount. Pad slots (-1) point at item 0 with weight 0.

Issue #16 asked for this export to be decided by measurement; `make bench` times both at 10k, 100k
and 1M items (scripts/bench_recommender.py, "scoring: numpy vs ONNX"), and docs/RECOMMENDER.md
records the choice. The runtime ships numpy (the measured figures are in the docs); this module is
offline only (it needs the `onnx` package) and never in the Lambda layer.

    python scripts/recommender_onnx.py build/artifacts/recommender /tmp/scoring   # export + parity check
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "layers" / "runtime") not in sys.path:
    sys.path.insert(0, str(ROOT / "layers" / "runtime"))

from nudge.errors import ExportParityError  # noqa: E402
from nudge.recommend import Recommender  # noqa: E402

OPSET = 18  # ScatterElements with reduction "add" needs 16 or later


def export_scoring(rec: Recommender, out_dir: str | Path) -> Path:
    """Write the scoring graph of `rec` (embeddings or neighbours) to out_dir/scoring.onnx (+ .data)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n = len(rec.item_ids)
    if rec.form == "embeddings":
        table = numpy_helper.from_array(np.ascontiguousarray(rec.factors, dtype=np.float32), "item_factors")
        d = int(rec.factors.shape[1])
        graph = helper.make_graph(
            [helper.make_node("Gemm", ["user", "item_factors"], ["scores"], transB=1)],
            "nudge_scoring_embeddings",
            [helper.make_tensor_value_info("user", TensorProto.FLOAT, [1, d])],
            [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, n])],
            [table],
        )
    elif rec.form == "neighbours":
        index = np.asarray(rec.neighbour_index, dtype=np.int64)
        weight = np.asarray(rec.neighbour_weight, dtype=np.float32).copy()
        weight[index < 0] = 0.0
        index = np.where(index < 0, 0, index)
        nodes = [
            helper.make_node("Gather", ["neighbour_index", "history"], ["rows_index"], axis=0),  # [H, M]
            helper.make_node("Gather", ["neighbour_weight", "history"], ["rows_weight"], axis=0),  # [H, M]
            helper.make_node("Unsqueeze", ["weights", "axis1"], ["weights_col"]),  # [H, 1]
            helper.make_node("Mul", ["rows_weight", "weights_col"], ["contributions"]),
            helper.make_node("Reshape", ["rows_index", "flat"], ["flat_index"]),
            helper.make_node("Reshape", ["contributions", "flat"], ["flat_values"]),
            helper.make_node("ScatterElements", ["zeros", "flat_index", "flat_values"], ["scores"], axis=0,
                             reduction="add"),
        ]
        graph = helper.make_graph(
            nodes, "nudge_scoring_neighbours",
            [helper.make_tensor_value_info("history", TensorProto.INT64, ["H"]),
             helper.make_tensor_value_info("weights", TensorProto.FLOAT, ["H"])],
            [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [n])],
            [numpy_helper.from_array(index, "neighbour_index"), numpy_helper.from_array(weight, "neighbour_weight"),
             numpy_helper.from_array(np.zeros(n, dtype=np.float32), "zeros"),
             numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
             numpy_helper.from_array(np.array([-1], dtype=np.int64), "flat")],
        )
    else:
        raise ValueError(f"form {rec.form!r}: only embeddings and neighbours have a scoring graph")
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="nudge")
    model.ir_version = 9  # what onnxruntime 1.31 reads for opset 18
    path = out / "scoring.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="scoring.onnx.data", size_threshold=1024)
    return path


def session(path: str | Path, threads: int = 1):
    """An onnxruntime session on one thread (what one Lambda request gets)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def onnx_scores(sess, rec: Recommender, history: np.ndarray, strengths: np.ndarray) -> np.ndarray:
    """Scores over the model's items for one history, through the graph (the same inputs as score_items)."""
    values = rec.values(np.asarray(strengths, dtype=np.float32))
    if rec.form == "embeddings":
        user = rec._fold_in(np.asarray(rec.factors[history]), values)
        return sess.run(["scores"], {"user": user[None, :].astype(np.float32)})[0][0]
    return sess.run(["scores"], {"history": np.asarray(history, dtype=np.int64), "weights": values})[0]


def check_parity(sess, rec: Recommender, *, customers: int = 8, history: int = 20, seed: int = 0,
                 tolerance: float = 1e-4) -> float:
    """Worst relative max |ONNX - numpy| over random histories; ExportParityError above `tolerance`."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(customers):
        items = rng.choice(len(rec.item_ids), size=min(history, len(rec.item_ids)), replace=False)
        strengths = rng.uniform(0.5, 2.0, len(items)).astype(np.float32)
        want = rec.score_items(items, strengths)
        got = onnx_scores(sess, rec, items, strengths)
        diff = float(np.abs(got - want).max() / max(1e-9, float(np.abs(want).max())))
        worst = max(worst, diff)
        if diff > tolerance:
            raise ExportParityError(f"ONNX scoring differs from numpy: relative max |diff| {diff:.2e} > {tolerance:.0e}")
    return worst


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifact_dir", help="a recommender exported by scripts/train_recommender.py")
    parser.add_argument("out_dir")
    args = parser.parse_args()
    recommender = Recommender.load(args.artifact_dir)
    graph_path = export_scoring(recommender, args.out_dir)
    print(f"wrote {graph_path}; parity (relative max |diff|) {check_parity(session(graph_path), recommender):.2e}")
