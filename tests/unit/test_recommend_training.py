"""Contract tests at the seam: what scripts/train_recommender.py writes, the runtime loads and ranks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from nudge.campaigns import get_campaign
from nudge.errors import ExportParityError, ValidationError
from nudge.recommend import Catalog, Recommender
from nudge.types import Customer, Profile
from scripts import train_recommender as tr

STORE_TINY = Path(__file__).resolve().parents[1] / "fixtures" / "store_tiny"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    if not (STORE_TINY / "store.json").is_file():
        pytest.skip("tests/fixtures/store_tiny is absent")
    out = tmp_path_factory.mktemp("rec")
    config = tr.TrainConfig(source=str(STORE_TINY), out_dir=str(out / "recommender"), catalog_dir=str(out / "catalog"),
                            models=("popularity", "itemknn", "ease"), validation_days=60)
    meta = tr.main(config)
    return out, meta


def test_training_exports_what_the_runtime_loads(trained):
    # GIVEN the tiny store trained with a small candidate list
    out, meta = trained
    # WHEN the runtime loads the artifacts
    rec = Recommender.load(out / "recommender", verify_checksums=True)
    catalog = Catalog.load(out / "catalog")
    # THEN meta describes itself and the export matched the trained model
    assert meta["model"] in {"popularity", "itemknn", "ease"}
    assert meta["parity_max_relative_diff"] <= 1e-4
    assert {"schema_version", "kind", "hyperparameters", "data_source", "metrics", "n_items", "dims",
            "created"} <= set(meta)
    assert rec.meta["n_items"] == len(catalog) == 12
    # AND ranking the fixture's scarf-and-candle customer for loyalty works end to end
    customer = Customer("c001", "Olivia", "o@example.com", "en_GB", "Europe/London", None, True)
    profile = Profile(customer=customer, purchased=["p007", "p001"], viewed=["p002"])
    items = rec.rank(profile, get_campaign("loyalty").pool, k=4, catalog=catalog, as_of=date(2026, 11, 20))
    assert len(items) == 4
    assert {"p007", "p001", "p003", "p008"}.isdisjoint(i.product_id for i in items)  # bought, no stock, no image


def test_export_check_raises_on_a_tampered_artifact(trained):
    out, _ = trained
    data = tr.load_store_interactions(STORE_TINY)
    items = list(data.products)
    users = sorted(set(data.users.tolist()))
    X = tr.build_matrix(data, {u: i for i, u in enumerate(users)}, {p: i for i, p in enumerate(items)})
    model = tr.EASEModel(**{"lambda": 10.0}).fit(X)
    exported = model.export(items)
    exported.neighbour_weight = exported.neighbour_weight * 1.5  # a broken export
    with pytest.raises(ExportParityError, match="ease"):
        tr.check_export(model, exported, X, users=3, tolerance=1e-4)


def test_interactions_csv_contract(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("user,item,timestamp,event_type\nu1,a,2026-01-01T00:00:00Z,view\n"
                    "u1,b,1767225600,purchase\n", encoding="utf-8")
    data = tr.load_csv_interactions(path)
    assert list(data.weight) == [1.0, 4.0] and len(data) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("who,what\nu1,a\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="expected columns"):
        tr.load_csv_interactions(bad)


def test_ease_ranks_the_co_bought_item_first():
    # GIVEN 30 users who bought a with b, and 10 who bought a with c
    rows = [(u, 0) for u in range(40)] + [(u, 1) for u in range(30)] + [(u, 2) for u in range(30, 40)]
    users, cols = zip(*rows)
    import scipy.sparse as sp

    X = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (users, cols)), shape=(41, 3))
    model = tr.EASEModel(**{"lambda": 1.0}).fit(X)
    # WHEN scoring a new user who bought only a
    scores = model.scores(sp.csr_matrix(([1.0], ([0], [0])), shape=(1, 3)))[0]
    # THEN b beats c
    assert scores[1] > scores[2]


@pytest.mark.parametrize("value_beta", [None, 0.0, 0.35])
def test_runtime_value_transform_matches_training(value_beta):
    # GIVEN strengths as the training matrix holds them
    import scipy.sparse as sp

    X = sp.csr_matrix(np.array([[0.0, 0.7, 2.1], [1.4, 0.0, 0.3]], dtype=np.float32))
    model = tr.EASEModel(**{"lambda": 1.0, "value_beta": value_beta}).fit(X)
    runtime = model.export(["a", "b", "c"])
    # THEN the runtime turns them into the same model inputs as training does
    np.testing.assert_allclose(runtime.values(X.data), model.inputs(X).data, rtol=1e-6)


def test_cold_item_gets_factors_from_its_text():
    # GIVEN an ALS-form recommender whose content map sends text to the factor space
    from nudge.campaigns import PoolRules
    from tests.unit.test_recommend_runtime import make_product

    products = {p.product_id: p for p in (make_product("tea", "Kitchen"), make_product("hat", "Fashion"))}
    catalog = Catalog.from_products(products)
    factors = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    content_to_factors = np.linalg.lstsq(catalog.content, factors, rcond=None)[0].astype(np.float32)
    rec = Recommender(item_ids=["tea", "hat"], form="embeddings", popularity=np.ones(2), factors=factors,
                      content_to_factors=content_to_factors, regularization=0.1)
    # WHEN a new fashion item arrives after training
    products["cap"] = make_product("cap", "Fashion", arrival_date=date(2026, 4, 25), name="Item hat cap")
    grown = Catalog.from_products(products)
    customer = Customer("c1", "Ada", "a@example.com", "en_GB", "Europe/London", None, True)
    items = rec.rank(Profile(customer=customer, purchased=["hat"]), PoolRules(), k=1, catalog=grown,
                     as_of=date(2026, 5, 1))
    # THEN the cold fashion item is recommended to the hat buyer
    assert [i.product_id for i in items] == ["cap"]


def _dense_reference(name: str, X, hp):
    """The weights as the dense items × items computation wrote them before the sparse blocks."""
    import scipy.sparse as sp

    X = X.astype(np.float64)
    if name == "itemknn":
        gram = np.asarray((X.T @ X).todense())
        norms = np.sqrt(np.diag(gram))
        return gram / (np.outer(norms, norms) + hp["shrink"] + 1e-9)
    B = X.copy()
    B.data[:] = 1.0
    user_deg, item_deg = np.asarray(B.sum(axis=1)).ravel(), np.asarray(B.sum(axis=0)).ravel()
    walk = (sp.diags(1.0 / np.maximum(item_deg, 1)) @ B.T) @ (sp.diags(1.0 / np.maximum(user_deg, 1)) @ B)
    return np.asarray(walk.todense()) ** hp["alpha"] / np.maximum(item_deg, 1) ** hp["beta"]


@pytest.mark.parametrize("name, hp", [("itemknn", {"shrink": 10.0, "value_beta": None}),
                                      ("rp3beta", {"alpha": 0.6, "beta": 0.3})])
def test_sparse_neighbours_in_blocks_equal_the_dense_weights(name, hp):
    import scipy.sparse as sp

    # GIVEN 300 customers × 120 items, and blocks of 7 item rows (so 18 blocks, the last one short)
    X = sp.random(300, 120, density=0.08, random_state=1, format="csr", dtype=np.float32)
    X.data = np.log1p(X.data * 5).astype(np.float32)
    model = tr.make_model(name, hp, top_neighbours=120)
    model.block_bytes = 12 * 120 * 7
    # WHEN it fits, keeping every neighbour
    model.fit(X)
    # THEN its weights are the dense computation's, diagonal zeroed, to float32 precision
    dense = _dense_reference(name, model.inputs(X), hp).astype(np.float32)
    np.fill_diagonal(dense, 0.0)
    np.testing.assert_allclose(model.sparse.toarray(), dense, rtol=1e-5, atol=1e-7)
    # AND keeping 20, every row keeps the 20 largest magnitudes, ordered
    model20 = tr.make_model(name, hp, top_neighbours=20)
    model20.block_bytes = 12 * 120 * 7
    model20.fit(X)
    for row in range(120):
        expected = np.sort(np.abs(dense[row]))[::-1][:20]
        kept = np.abs(model20.weight[row][model20.index[row] >= 0])
        np.testing.assert_allclose(kept, expected[expected > 0], rtol=1e-5)


def test_fit_plan_skips_what_does_not_fit_and_shrinks_grids_to_the_time_budget():
    import scipy.sparse as sp

    # GIVEN 5,000 customers × 20,000 items: EASE's Gram matrix alone would be 3.2 GB
    rng = np.random.default_rng(2)
    X = sp.csr_matrix((np.ones(100_000, dtype=np.float32), (rng.integers(0, 5000, 100_000), rng.integers(0, 20_000, 100_000))),
                      shape=(5000, 20_000))
    names = ["popularity", "itemknn", "ease", "als", "hybrid"]
    # WHEN planned within 2 GiB and a generous time budget
    planned, skipped, _ = tr.plan_fits(names, X, tr.GRIDS, tr.COMPACT_GRIDS, memory_budget=2 * 2**30, time_budget_s=1e6)
    # THEN EASE is skipped with the memory it needs, the others keep their full grids, hybrid stays
    assert set(skipped) == {"ease"} and "GiB, over the memory budget of 2.0 GiB (20,000 items)" in skipped["ease"]
    assert planned["itemknn"] == tr.GRIDS["itemknn"] and planned["als"] == tr.GRIDS["als"] and "hybrid" in planned
    # WHEN the time budget is so small that a full grid cannot run, but one fit can
    one_fit = tr.estimate_fit("als", X, hp=tr.GRIDS["als"][0]).seconds
    planned, skipped, _ = tr.plan_fits(["als"], X, tr.GRIDS, tr.COMPACT_GRIDS, memory_budget=2**40,
                                    time_budget_s=one_fit * 1.5)
    # THEN ALS tunes on the first compact point only; with less than one fit's time it is skipped
    assert planned == {"als": tr.COMPACT_GRIDS["als"][:1]} and skipped == {}
    planned, skipped, _ = tr.plan_fits(["als"], X, tr.GRIDS, tr.COMPACT_GRIDS, memory_budget=2**40,
                                    time_budget_s=one_fit / 2)
    assert planned == {} and "over its share" in skipped["als"]


def test_a_forced_model_that_does_not_fit_is_refused_before_any_fit(trained, tmp_path):
    # GIVEN the tiny store and a memory budget of 1 KB (nothing but popularity fits)
    config = tr.TrainConfig(source=str(STORE_TINY), out_dir=str(tmp_path / "rec"), catalog_dir="", model="ease",
                            models=("popularity", "ease"), grid="compact", memory_budget_gb=1e-6)
    # WHEN EASE is asked for, THEN training stops with what EASE needs, naming the budget
    with pytest.raises(tr.TrainingBudgetError, match=r"model 'ease' does not fit: one fit needs"):
        tr.main(config)
    # AND with every family over the budget, the error lists each
    config.model, config.models = "auto", ("ease", "itemknn")
    with pytest.raises(tr.TrainingBudgetError, match=r"no candidate model fits: ease: .*; itemknn: "):
        tr.main(config)


def test_a_large_catalog_exports_embeddings_with_an_ivf_index_in_cluster_order(tmp_path, monkeypatch):
    pytest.importorskip("implicit")
    # GIVEN the tiny store, and the IVF threshold lowered to its size
    monkeypatch.setattr(tr, "IVF_MIN_ITEMS", 1)
    config = tr.TrainConfig(source=str(STORE_TINY), out_dir=str(tmp_path / "rec"), catalog_dir=str(tmp_path / "catalog"),
                            model="als", models=("popularity", "als"), grid="compact", validation_days=60)
    # WHEN ALS is trained and exported (the export checks runtime scores against the trained model)
    meta = tr.main(config)
    # THEN the artifact carries the index and its measured probe, the items run cluster by cluster, the
    # one catalog (artifacts/catalog, none beside the model) is in the same order, and a customer ranks
    rec = Recommender.load(tmp_path / "rec", verify_checksums=True)
    catalog = Catalog.load(tmp_path / "catalog")
    assert meta["ivf_probe"] >= 1 and 0.0 <= meta["ivf_recall_at_100"] <= 1.0
    assert (np.diff(rec.ivf_assign) >= 0).all() and catalog.ids == rec.item_ids
    assert not (tmp_path / "rec" / "catalog").exists()
    assert meta["parity_max_relative_diff"] <= config.parity_tolerance
    customer = Customer("c1", "Ada", "ada@example.com", "en_GB", "Europe/London", None, True)
    ranked = rec.rank(Profile(customer=customer, purchased=[catalog.ids[0]]), get_campaign("loyalty").pool, k=3,
                      catalog=catalog, as_of=date(2026, 11, 20))
    assert len(ranked) == 3
