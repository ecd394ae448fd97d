"""The catalog as arrays aligned to an item index, for fast rule masks at request time.

Saved as `catalog.jsonl` (one product per line, the facts the renderer needs), `catalog.offsets.npy`
(each line's byte offset) and one `<array>.npy` per array under `arrays/` (loaded memory-mapped, with
`allow_pickle=False`). Loading maps the arrays and reads no product line: a product's line is read
and parsed when `catalog.product(pid)` first asks for it, so a cold start over a million items stays
short. Catalogs saved before (one `catalog.npz`, lines read whole) still load.

>>> from datetime import date
>>> from decimal import Decimal
>>> from nudge.types import Product
>>> p = Product("p1", "Gift mug", "A mug", "Kitchen", Decimal("8.50"), "GBP", 3, "https://x/p1.jpg", date(2026, 1, 2))
>>> cat = Catalog.from_products({"p1": p})
>>> cat.product("p1").name, float(cat.price[0]), bool(cat.giftable[0])
('Gift mug', 8.5, True)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np

from nudge.errors import ArtifactMismatchError
from nudge.recommend.content import CONTENT_DIMS, content_vectors, fit_idf, product_text
from nudge.types import Product

CATALOG_SCHEMA_VERSION = 1

# Giftable heuristic: a word that says "gift" in the name, description or category, and a price a
# guest would pay. Kept as data so a store can tune it; documented in docs/RECOMMENDER.md.
GIFT_WORDS = frozenset(
    """gift gifts giftset set box hamper candle candles mug mugs jewellery jewelry necklace bracelet
    earrings ring scarf toy toys game games puzzle book books chocolate chocolates card cards
    ornament ornaments decoration decorations frame frames perfume fragrance lantern tin tins
    teddy bear keyring wallet purse cushion vase blanket diffuser soap""".split()
)
GIFT_PRICE_RANGE = (3.0, 200.0)  # in the catalog currency; outside it an item is not "giftable"
_WORD = re.compile(r"[a-z]+")


def is_giftable(name: str, description: str, category: str, price: float) -> bool:
    """The giftable heuristic for one product (see GIFT_WORDS and GIFT_PRICE_RANGE)."""
    words = set(_WORD.findall(f"{name} {description} {category}".lower().replace("_", " ")))
    low, high = GIFT_PRICE_RANGE
    return bool(words & GIFT_WORDS) and low <= price <= high


def _product_to_json(product: Product) -> str:
    raw = asdict(product)
    raw["price"] = str(product.price)
    raw["clearance_price"] = None if product.clearance_price is None else str(product.clearance_price)
    raw["arrival_date"] = product.arrival_date.isoformat()
    return json.dumps(raw, ensure_ascii=False, sort_keys=True)


def _product_from_json(line: str) -> Product:
    raw = json.loads(line)
    raw["price"] = Decimal(raw["price"])
    raw["clearance_price"] = None if raw.get("clearance_price") is None else Decimal(raw["clearance_price"])
    raw["arrival_date"] = date.fromisoformat(raw["arrival_date"])
    return Product(**raw)


class Catalog:
    """Products as arrays aligned to one item index (position i describes `ids[i]`).

    Arrays: `category_codes` (int32, into `categories`), `price` (float64, the price the customer
    pays: the clearance price when on clearance), `in_stock`, `has_image`, `clearance`, `giftable`
    (bool), `arrival` (int32 proleptic ordinal days, `date.toordinal()`), `content` (float32,
    (n, CONTENT_DIMS), L2-normalised text vectors for cold items and the hybrid model).
    """

    ARRAYS = ("category_codes", "price", "in_stock", "has_image", "clearance", "giftable", "arrival", "content")

    def __init__(
        self,
        *,
        ids: Sequence[str],
        categories: Sequence[str],
        category_codes: np.ndarray,
        price: np.ndarray,
        in_stock: np.ndarray,
        has_image: np.ndarray,
        arrival: np.ndarray,
        clearance: np.ndarray,
        giftable: np.ndarray,
        content: np.ndarray | None = None,
        products: Mapping[str, Product] | None = None,
        product_lines: Sequence[str] | None = None,
    ) -> None:
        self.ids = list(ids)
        self.index = {pid: i for i, pid in enumerate(self.ids)}
        if len(self.index) != len(self.ids):
            raise ValueError("catalog ids must be unique")
        n = len(self.ids)
        self.categories = list(categories)
        self.category_codes = np.asarray(category_codes, dtype=np.int32)
        self.price = np.asarray(price, dtype=np.float64)
        self.in_stock = np.asarray(in_stock, dtype=bool)
        self.has_image = np.asarray(has_image, dtype=bool)
        self.arrival = np.asarray(arrival, dtype=np.int32)
        self.clearance = np.asarray(clearance, dtype=bool)
        self.giftable = np.asarray(giftable, dtype=bool)
        self.content = (
            np.zeros((n, CONTENT_DIMS), dtype=np.float32) if content is None else np.asarray(content, dtype=np.float32)
        )
        for name in self.ARRAYS:
            if len(getattr(self, name)) != n:
                raise ValueError(f"catalog array {name!r} has {len(getattr(self, name))} rows, expected {n}")
        self._products: dict[str, Product] = dict(products or {})
        self._lines = list(product_lines) if product_lines is not None else None
        self._line_file: tuple[Path, np.ndarray] | None = None  # (catalog.jsonl, offsets): lines read on demand

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, product_id: object) -> bool:
        return product_id in self.index

    @classmethod
    def from_products(cls, products: Mapping[str, Product]) -> Catalog:
        """Build the arrays from `nudge.types.Product`s (order: the mapping's order)."""
        ids = list(products)
        categories = sorted({p.category for p in products.values()})
        code_of = {c: i for i, c in enumerate(categories)}
        prods = [products[pid] for pid in ids]
        pay = [float(p.clearance_price if p.clearance and p.clearance_price is not None else p.price) for p in prods]
        tokens = [product_text(p.name, p.description, p.category) for p in prods]
        return cls(
            ids=ids,
            categories=categories,
            category_codes=np.array([code_of[p.category] for p in prods], dtype=np.int32),
            price=np.array(pay, dtype=np.float64),
            in_stock=np.array([p.stock > 0 for p in prods], dtype=bool),
            has_image=np.array([bool(p.image_url) for p in prods], dtype=bool),
            arrival=np.array([p.arrival_date.toordinal() for p in prods], dtype=np.int32),
            clearance=np.array([p.clearance for p in prods], dtype=bool),
            giftable=np.array(
                [is_giftable(p.name, p.description, p.category, pay[i]) for i, p in enumerate(prods)], dtype=bool
            ),
            content=content_vectors(tokens, idf=fit_idf(tokens)),
            products=products,
        )

    def reordered(self, order: Sequence[int]) -> Catalog:
        """The same catalog with item i of the result being item order[i] of this one (product records
        and not yet parsed product lines included)."""
        order = np.asarray(order, dtype=np.int64)
        products = {self.ids[i]: self._products[self.ids[i]] for i in order if self.ids[i] in self._products}
        lines = None if self._lines is None and self._line_file is None else [self._line(int(i)) for i in order]
        return Catalog(ids=[self.ids[i] for i in order], categories=self.categories, products=products,
                       product_lines=lines, **{name: np.asarray(getattr(self, name))[order] for name in self.ARRAYS})

    def _line(self, i: int) -> str:
        """Item i's saved product line (by byte offset from catalog.jsonl, or from the lines held)."""
        if self._line_file is not None:
            path, offsets = self._line_file
            with open(path, "rb") as fh:
                fh.seek(int(offsets[i]))
                return fh.read(int(offsets[i + 1] - offsets[i])).decode("utf-8")
        return self._lines[i]

    def product(self, product_id: str) -> Product:
        """The full `Product` for one id; raises KeyError for an id the catalog does not hold."""
        found = self._products.get(product_id)
        if found is None:
            if self._line_file is None and self._lines is None:
                raise KeyError(product_id)
            found = _product_from_json(self._line(self.index[product_id]))
            self._products[product_id] = found
        return found

    def name(self, product_id: str) -> str:
        """The product's display name, or its id when the catalog holds no product record."""
        try:
            return self.product(product_id).name
        except (KeyError, IndexError):
            return product_id

    def category_of(self, i: int) -> str:
        return self.categories[int(self.category_codes[i])]

    def save(self, directory: str | Path) -> None:
        """Write `catalog.jsonl` + `catalog.offsets.npy` + `arrays/<name>.npy` + `catalog.json` (ids,
        categories, schema) into directory."""
        directory = Path(directory)
        (directory / "arrays").mkdir(parents=True, exist_ok=True)
        offsets = [0]
        with open(directory / "catalog.jsonl", "wb") as fh:
            for pid in self.ids:
                try:
                    line = _product_to_json(self.product(pid)) + "\n"
                except KeyError:
                    line = "{}\n"  # array-only catalogs (benchmarks, MovieLens) carry no product facts
                offsets.append(offsets[-1] + fh.write(line.encode("utf-8")))
        np.save(directory / "catalog.offsets.npy", np.array(offsets, dtype=np.int64), allow_pickle=False)
        for name in self.ARRAYS:
            np.save(directory / "arrays" / f"{name}.npy", np.ascontiguousarray(getattr(self, name)), allow_pickle=False)
        (directory / "catalog.npz").unlink(missing_ok=True)  # the format before arrays/: never two copies
        header = {"schema_version": CATALOG_SCHEMA_VERSION, "ids": self.ids, "categories": self.categories}
        (directory / "catalog.json").write_text(json.dumps(header), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> Catalog:
        directory = Path(directory)
        header = json.loads((directory / "catalog.json").read_text(encoding="utf-8"))
        if header.get("schema_version") != CATALOG_SCHEMA_VERSION:
            raise ArtifactMismatchError(
                f"catalog schema_version: expected {CATALOG_SCHEMA_VERSION}, got {header.get('schema_version')!r}"
            )
        if (directory / "arrays").is_dir():
            data = {}
            for name in cls.ARRAYS:
                path = directory / "arrays" / f"{name}.npy"
                if not path.is_file():
                    raise ArtifactMismatchError(f"catalog array {name}: expected a file at {path}, found none")
                # a plain ndarray over the read-only mapping (the memmap subclass slows every fancy index)
                data[name] = np.asarray(np.load(path, allow_pickle=False, mmap_mode="r"))
            catalog = cls(ids=header["ids"], categories=header["categories"], **data)
            offsets = np.load(directory / "catalog.offsets.npy", allow_pickle=False, mmap_mode="r")
            if len(offsets) != len(catalog) + 1:
                raise ArtifactMismatchError(f"catalog.offsets.npy: expected {len(catalog) + 1} offsets, got {len(offsets)}")
            catalog._line_file = (directory / "catalog.jsonl", offsets)
            return catalog
        with np.load(directory / "catalog.npz", allow_pickle=False) as arrays:
            data = {name: arrays[name] for name in cls.ARRAYS}
        lines = (directory / "catalog.jsonl").read_text(encoding="utf-8").splitlines()
        return cls(ids=header["ids"], categories=header["categories"], product_lines=lines, **data)
