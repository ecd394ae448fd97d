"""Write the embedded default store: a synthetic gift / home / fashion shop with taste structure.

Inputs → outputs:
  (nothing but a seed and sizes)
    → build/store/   store.json (with loyalty tiers), catalog.csv, customers.csv (with members' points),
                     events.csv, heldout_events.csv, offers.json (a birthday, a clearance and a
                     new-arrivals offer, dated from as_of)
                     (format: docs/STORE_FORMAT.md; generator: nudge.store.generate)
                     [+ generator_truth.json with --truth: latent segments, collections, qualities]

The same config writes the same bytes. After writing, the store is loaded back strictly, so a
generator bug fails here rather than in a later job.

    python scripts/make_store.py                         # 2,400 products, 5,000 customers, 200k events
    python scripts/make_store.py --out build/store_small --products 300 --customers 400 --events 20000
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "layers" / "runtime") not in sys.path:  # run as a plain script: the core lives in the layer
    sys.path.insert(0, str(ROOT / "layers" / "runtime"))

from nudge.store import load_store  # noqa: E402
from nudge.store.generate import AS_OF, generate_store  # noqa: E402

log = logging.getLogger("make_store")


@dataclass
class StoreConfig:
    out_dir: str | Path = "build/store"  # the store directory to (over)write
    seed: int = 7  # one seed → one store, byte for byte
    n_products: int = 2400  # catalog size (30 categories, ~80 collections at this size)
    n_customers: int = 5000  # customers (~12% never shop, ~12% of the rest lapsed)
    n_events: int = 200_000  # history events in the year before as_of (held-out adds ~14/365 of this)
    as_of: str = AS_OF.isoformat()  # the "today" of the data; history ends at as_of 00:00 UTC
    write_truth: bool = False  # also write generator_truth.json (latent model, for sanity checks)
    verify: bool = True  # load the written store back strictly (fails on any rejected row)
    progress: bool = True  # a tqdm bar per stage on stderr


def main(config: StoreConfig) -> Path:
    """Generate, write and (by default) verify the store; return its directory."""
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if not config.progress:
            return
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=f"{stage} sessions", unit="session", leave=False)
        bar.update(done - bar.n)

    started = time.perf_counter()
    root = generate_store(
        config.out_dir,
        seed=config.seed,
        n_products=config.n_products,
        n_customers=config.n_customers,
        n_events=config.n_events,
        as_of=date.fromisoformat(config.as_of),
        write_truth=config.write_truth,
        progress=progress,
    )
    for bar in bars.values():
        bar.close()
    log.info("wrote %s in %.1f s", root, time.perf_counter() - started)
    if config.verify:
        store = load_store(root, strict=True)
        log.info("verified: %s", store.report.summary().replace("\n", "; "))
    return root


if __name__ == "__main__":
    defaults = StoreConfig()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(defaults.out_dir), help="store directory to write")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--products", type=int, default=defaults.n_products)
    parser.add_argument("--customers", type=int, default=defaults.n_customers)
    parser.add_argument("--events", type=int, default=defaults.n_events)
    parser.add_argument("--as-of", default=defaults.as_of, help="YYYY-MM-DD")
    parser.add_argument("--truth", action="store_true", help="also write generator_truth.json")
    parser.add_argument("--no-verify", action="store_true", help="skip loading the store back")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    main(
        StoreConfig(
            out_dir=args.out,
            seed=args.seed,
            n_products=args.products,
            n_customers=args.customers,
            n_events=args.events,
            as_of=args.as_of,
            write_truth=args.truth,
            verify=not args.no_verify,
            progress=not args.quiet,
        )
    )
