"""Contract tests at the seam: what scripts/train_spark_als.py (Spark MLlib ALS, local mode) writes, the
numpy runtime loads unchanged; and the translation of Spark's user solve into the runtime's fold-in.

The script runs in its own environment (.venv-spark: pyspark and its jars), so this one needs no pyspark;
the Spark tests skip, saying why, when that environment or a Java runtime is missing. `make test` does not
install it (time: see the Makefile); `make test-spark` does, and runs this file. Spark's JVM and its
Python workers talk over loopback only (local[2], no web UI). Small factorisations (8 factors, 5 sweeps)
keep each of the two runs, JVM start included, to about 20 s on two cores.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from nudge.campaigns import get_campaign
from nudge.recommend import Catalog, Recommender
from scripts import train_recommender as tr
from scripts import train_spark_als as spark_als
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
SPARK_PYTHON = ROOT / ".venv-spark" / "bin" / "python"
STORE_TINY = ROOT / "tests" / "fixtures" / "store_tiny"
SMALL = ("--factors", "8", "--iterations", "5", "--parity-users", "50")  # seconds, not minutes, on 2 cores


def _missing() -> str | None:
    if not SPARK_PYTHON.is_file():
        return f"{SPARK_PYTHON.relative_to(ROOT)} is absent: `make test-spark` installs it (requirements/spark.txt)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime on PATH or in JAVA_HOME: Spark needs one (Java 8, 11 or 17)"
    if not (STORE_TINY / "store.json").is_file():
        return "tests/fixtures/store_tiny is absent"
    return None


needs_spark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


@pytest.mark.parametrize("value_beta", [None, 0.0])
def test_runtime_fold_in_is_sparks_own_solve_given_each_customers_regularization(value_beta):
    # GIVEN item factors and one customer's strengths, and Spark's conventions (λ = regParam × the customer's
    # number of ratings, confidence 1 + alpha·rating)
    factors = np.random.default_rng(0).normal(size=(30, 6)).astype(np.float32)
    items, strengths = np.array([1, 4, 7, 20]), np.array([0.7, 1.4, 2.1, 0.3], dtype=np.float32)
    ratings = strengths if value_beta is None else np.ones_like(strengths)  # what Spark was given
    want = factors @ spark_als.spark_fold_in(factors, factors.T.astype(np.float64) @ factors, items, ratings,
                                             reg_param=0.1, alpha=3.0)
    # WHEN the export's parameters are written for a customer with exactly that many ratings
    params = spark_als.runtime_parameters(reg_param=0.1, alpha=3.0, value_beta=value_beta, typical_ratings=len(items))
    rec = Recommender(item_ids=[f"p{i}" for i in range(30)], form="embeddings", popularity=np.ones(30),
                      factors=factors, **params)
    # THEN the unchanged runtime's fold-in scores as Spark's solve does
    np.testing.assert_allclose(rec.score_items(items, strengths), want, rtol=1e-4, atol=1e-5)


def interactions_csv(path: Path) -> Path:
    """The tiny store's history as an interactions CSV (user,item,timestamp,event_type,rating): the export
    format for stores not in the nudge store format."""
    with open(STORE_TINY / "events.csv", newline="", encoding="utf-8") as src, \
            open(path, "w", newline="", encoding="utf-8") as dst:
        writer = csv.writer(dst)
        writer.writerow(["user", "item", "timestamp", "event_type", "rating"])
        for row in csv.DictReader(src):
            writer.writerow([row["customer_id"], row["product_id"], row["timestamp"], row["event_type"], row["rating"]])
    return path


@pytest.fixture(scope="module")
def spark_exports(tmp_path_factory):
    """Both runs of scripts/train_spark_als.py in .venv-spark, started together (two JVMs on two cores: the
    wall time of about one run): the store read on the driver, and its CSV read by Spark itself with the
    artifacts written through Hadoop's file system (file:// here, s3:// on EMR). Returns the output folder."""
    out = tmp_path_factory.mktemp("spark")
    runs = {
        "store": ["--source", str(STORE_TINY), "--out", str(out / "store" / "recommender"),
                  "--catalog-dir", str(out / "store" / "catalog")],
        "csv": ["--source", str(interactions_csv(out / "interactions.csv")), "--reader", "spark",
                "--out", (out / "csv" / "recommender").as_uri(), "--catalog-dir", (out / "csv" / "catalog").as_uri()],
    }
    started = {}
    for name, args in runs.items():  # output to files: two pipes read one after the other could fill and block
        with open(out / f"{name}.log", "w", encoding="utf-8") as log:
            started[name] = subprocess.Popen([str(SPARK_PYTHON), "scripts/train_spark_als.py", *SMALL, *args],
                                             cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    for name, process in started.items():
        process.wait(timeout=300)
        assert process.returncode == 0, f"{name} run failed:\n{(out / f'{name}.log').read_text()[-4000:]}"
    return out


@pytest.mark.slow
@needs_spark
def test_spark_export_of_a_store_loads_and_ranks_in_the_runtime(spark_exports):
    # GIVEN the tiny store trained by Spark ALS in local mode (fixture)
    # WHEN the runtime loads the artifacts, checksums verified, with no change to the runtime
    rec = Recommender.load(spark_exports / "store" / "recommender", verify_checksums=True)
    catalog = Catalog.load(spark_exports / "store" / "catalog")
    # THEN they describe the Spark trainer, in the embeddings form, over the store's 12 products
    assert rec.meta["trainer"] == "spark-mllib-als"
    assert rec.meta["spark_version"].startswith("3.5")
    assert rec.form == "embeddings" and rec.meta["n_items"] == len(catalog) == 12
    assert rec.content_to_factors is not None  # cold items get factors from their text, as the single-machine export
    # AND the runtime's fold-in, given each customer's own Spark regularization, is Spark's own user vector
    parity = rec.meta["parity"]
    assert parity["customers"] > 0 and parity["exact_max_relative_diff"] <= 1e-3
    assert 0.0 <= parity["runtime_top10_overlap_mean"] <= 1.0
    # AND popularity is the single-machine export's (decayed event weights per product)
    data = tr.load_store_interactions(STORE_TINY)
    as_of_ts = datetime.combine(data.as_of, datetime.min.time(), tzinfo=timezone.utc).timestamp()
    want = tr._recent_popularity(data, {p: i for i, p in enumerate(data.products)}, as_of_ts, 120.0)
    np.testing.assert_allclose(rec.popularity, want, rtol=1e-6)
    # AND ranking the scarf-and-candle customer for loyalty works end to end
    profile = factories.profile("c001", customer_overrides={"first_name": "Olivia"}, purchased=["p007", "p001"],
                                viewed=["p002"])
    items = rec.rank(profile, get_campaign("loyalty").pool, k=4, catalog=catalog, as_of=date(2026, 11, 20))
    assert len(items) == 4
    assert {"p007", "p001", "p003", "p008"}.isdisjoint(i.product_id for i in items)  # bought, no stock, no image


@pytest.mark.slow
@needs_spark
def test_spark_reader_computes_what_the_single_machine_loader_does(spark_exports):
    # GIVEN the tiny store's history as an interactions CSV
    csv_path = spark_exports / "interactions.csv"
    # WHEN Spark itself read, weighed, decayed and indexed it, and wrote through Hadoop's file system (fixture)
    out = spark_exports / "csv"
    rec = Recommender.load(out / "recommender", verify_checksums=True)
    # THEN the (customer, item) strengths, popularity and trending list are train_recommender's for the same CSV
    data = tr.load_csv_interactions(csv_path)
    items = sorted(set(data.items.tolist()))
    i_index = {p: i for i, p in enumerate(items)}
    u_index = {u: i for i, u in enumerate(sorted(set(data.users.tolist())))}
    as_of_ts = float(data.timestamp.max())
    X = tr.build_matrix(data, u_index, i_index, as_of_ts=as_of_ts, half_life_days=120.0)
    source = rec.meta["data_source"]
    assert rec.item_ids == items
    assert source["reader"] == "spark"
    assert (source["events"], source["users"], source["pairs"]) == (len(data), len(u_index), X.nnz)
    assert source["strength_sum"] == pytest.approx(float(X.sum()), rel=1e-5)
    np.testing.assert_allclose(rec.popularity, tr._recent_popularity(data, i_index, as_of_ts, 120.0), rtol=1e-5)
    assert rec.trending == tr._locale_and_trending(data, i_index, as_of_ts, 120.0)[1]
    assert rec.meta["parity"]["exact_max_relative_diff"] <= 1e-3
    assert Catalog.load(out / "catalog").ids == items
