"""What a store load accepted and rejected: every rejected row named, counts per file.

An optional descriptive cell (a catalog `material` or `colour`) that breaks its rule costs only
the cell: it is cleared, the row is accepted, and the cell is named in `cleared` instead.

>>> report = ValidationReport()
>>> report.read("catalog.csv")
>>> print(report.reject("catalog.csv", 7, "price", "bad_value", "expected a decimal such as 12.50, got 'abc'"))
catalog.csv row 7 column price: expected a decimal such as 12.50, got 'abc'
>>> report.counts["catalog.csv"].rejected
1
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

# Short machine-readable codes for why a row was rejected (the reason text says the details).
REJECTION_CODES = (
    "missing",  # a required value is empty
    "bad_value",  # a value that does not parse or breaks its rule
    "duplicate",  # a repeated id, or an event row identical to an earlier one
    "unknown_product",  # an event names a product the catalog does not hold (or rejected)
    "unknown_customer",  # an event names a customer the customer file does not hold (or rejected)
    "out_of_window",  # an event on the wrong side of the as_of cut-off
    "cancellation",  # UCI Online Retail: a C-prefixed invoice; reported, never a purchase
    "not_a_product",  # UCI Online Retail: a fee or adjustment line (POST, M, D, BANK CHARGES)
)


@dataclass(frozen=True, slots=True)
class Rejection:
    """One rejected row, or (in `ValidationReport.cleared`) one rejected cell whose row was kept.

    `row` counts the header as row 1, so the first data row is row 2.
    """

    file: str
    row: int
    column: str
    code: str  # one of REJECTION_CODES
    reason: str  # says what was expected and what came

    def __str__(self) -> str:
        return f"{self.file} row {self.row} column {self.column}: {self.reason}"


@dataclass(slots=True)
class FileCounts:
    read: int = 0
    accepted: int = 0
    rejected: int = 0


@dataclass(slots=True)
class ValidationReport:
    """Per-file counts, every rejected row, every cleared cell, and file-level warnings (e.g. unknown columns).

    A cleared cell's row is counted as accepted (read = accepted + rejected still holds), and it
    leaves `ok` and strict loading alone: the row's facts that remain are sound.
    """

    rejected: list[Rejection] = field(default_factory=list)
    counts: dict[str, FileCounts] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    cleared: list[Rejection] = field(default_factory=list)  # bad optional cells emptied; their rows kept

    def _counts(self, file: str) -> FileCounts:
        counts = self.counts.get(file)
        if counts is None:
            counts = self.counts[file] = FileCounts()
        return counts

    def read(self, file: str, n: int = 1) -> None:
        self._counts(file).read += n

    def accept(self, file: str, n: int = 1) -> None:
        self._counts(file).accepted += n

    def reject(self, file: str, row: int, column: str, code: str, reason: str) -> Rejection:
        rejection = Rejection(file=file, row=row, column=column, code=code, reason=reason)
        self.rejected.append(rejection)
        self._counts(file).rejected += 1
        return rejection

    def clear(self, file: str, row: int, column: str, code: str, reason: str) -> Rejection:
        """Name a bad optional cell that was emptied while its row was accepted (counts unchanged)."""
        cleared = Rejection(file=file, row=row, column=column, code=code, reason=reason)
        self.cleared.append(cleared)
        return cleared

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return not self.rejected

    def by_code(self, file: str | None = None) -> Counter[str]:
        """How many rows were rejected for each code, for one file or all."""
        return Counter(r.code for r in self.rejected if file is None or r.file == file)

    def summary(self, *, examples: int = 3) -> str:
        """A few lines for a terminal or a log: counts per file, reasons, first examples."""
        lines = []
        for file, c in self.counts.items():
            line = f"{file}: read {c.read}, accepted {c.accepted}, rejected {c.rejected}"
            codes = self.by_code(file)
            if codes:
                line += " (" + ", ".join(f"{code} {n}" for code, n in sorted(codes.items())) + ")"
            cleared = [r for r in self.cleared if r.file == file]
            if cleared:
                line += f"; {len(cleared)} cells cleared"
            lines.append(line)
            for rejection in [r for r in self.rejected if r.file == file][:examples]:
                lines.append(f"  {rejection}")
            for rejection in cleared[:examples]:
                lines.append(f"  {rejection}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: {"counts": {file: {read, accepted, rejected}}, "rejected"/"cleared"/"warnings": [...]}."""
        return {
            "counts": {file: asdict(c) for file, c in self.counts.items()},
            "rejected": [asdict(r) for r in self.rejected],
            "cleared": [asdict(r) for r in self.cleared],
            "warnings": list(self.warnings),
        }
