"""Store data: the on-disk format, its validating loader, a writer, a generator, a UCI loader.

>>> from nudge.store import load_store
>>> store = load_store("tests/fixtures/store_tiny")
>>> print(store.report.summary().splitlines()[0])
catalog.csv: read 12, accepted 12, rejected 0

Submodules: `nudge.store.generate` (synthetic store with taste structure),
`nudge.store.online_retail` (UCI "Online Retail" CSV -> StoreData), `nudge.store.facts` (the store's
offers and loyalty tiers as an artifact folder for the generate function). Format: docs/STORE_FORMAT.md.
"""

from nudge.store.format import SCHEMA_VERSION
from nudge.store.loader import StoreData, load_store, raise_if_rejected
from nudge.store.report import FileCounts, Rejection, ValidationReport
from nudge.store.writer import write_store

__all__ = [
    "SCHEMA_VERSION",
    "FileCounts",
    "Rejection",
    "StoreData",
    "ValidationReport",
    "load_store",
    "raise_if_rejected",
    "write_store",
]
