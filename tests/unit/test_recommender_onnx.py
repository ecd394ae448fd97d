"""The recommender's scoring step exported to ONNX (scripts/recommender_onnx.py) scores as the numpy runtime does.

Needs `onnx` (requirements/train.txt): `make test` runs this file in the training environment."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from nudge.errors import ExportParityError  # noqa: E402
from nudge.recommend import Recommender  # noqa: E402
from scripts.recommender_onnx import check_parity, export_scoring, onnx_scores, session  # noqa: E402


def _neighbours(n: int = 40, m: int = 5, seed: int = 0) -> Recommender:
    rng = np.random.default_rng(seed)
    index = rng.integers(0, n, (n, m)).astype(np.int32)
    index[:, -1] = -1  # a pad slot in every row
    weight = rng.normal(size=(n, m)).astype(np.float32)
    return Recommender(item_ids=[f"p{i}" for i in range(n)], form="neighbours", popularity=np.ones(n),
                       neighbour_index=index, neighbour_weight=weight, value_beta=0.3, value_mean=1.0)


def _embeddings(n: int = 100, d: int = 6, seed: int = 1) -> Recommender:
    rng = np.random.default_rng(seed)
    return Recommender(item_ids=[f"p{i}" for i in range(n)], form="embeddings", popularity=np.ones(n),
                       factors=rng.normal(size=(n, d)).astype(np.float32), regularization=0.1, alpha=2.0)


@pytest.mark.parametrize("make", [_neighbours, _embeddings])
def test_the_onnx_graph_scores_every_item_as_the_numpy_runtime(tmp_path, make):
    # GIVEN a model of 40 or 100 items, exported with its table as external data
    rec = make()
    path = export_scoring(rec, tmp_path)
    assert (tmp_path / "scoring.onnx.data").is_file()
    sess = session(path)
    # WHEN a history of 3 items (one repeated in the neighbours' pads' place) is scored both ways
    history, strengths = np.array([3, 7, 11]), np.array([0.7, 1.5, 2.0], dtype=np.float32)
    # THEN the scores agree to float32 precision, and the parity check over random histories passes
    np.testing.assert_allclose(onnx_scores(sess, rec, history, strengths), rec.score_items(history, strengths),
                               rtol=1e-5, atol=1e-6)
    assert check_parity(sess, rec, history=10) < 1e-5


def test_a_graph_that_does_not_match_its_model_fails_the_parity_check(tmp_path):
    # GIVEN the graph of one model and another model's weights
    sess = session(export_scoring(_neighbours(seed=0), tmp_path))
    # WHEN checked against the other THEN ExportParityError says by how much
    with pytest.raises(ExportParityError, match="ONNX scoring differs from numpy"):
        check_parity(sess, _neighbours(seed=5))
