"""Measure the social-proof scrub (scripts/social_proof.py) on hand-labelled review texts.

Inputs → outputs:
  tests/fixtures/ner_heldout.jsonl   {"id", "text", "spans": [[label, start, end], ...]}, labels
                                     PERSON, EMAIL, PHONE, URL, ADDRESS; written by hand and never
                                     used to tune the rules (tests/fixtures/ner_dev.jsonl is for that)
    → build/reports/ner.json         every number below
    → a table on stdout

Matching rule (span level, overlap, label-blind for correctness): a predicted span is correct when
it overlaps, by at least one character, any labelled span; a labelled span is found when any
predicted span overlaps it. The label does not have to agree, because the scrub removes whatever it
finds the same way (the sentence goes): an email address taken for a web address is still removed.
Per-label precision groups predicted spans by their predicted label; per-label recall groups
labelled spans by their labelled label.

The number that matters for an email is the last one: texts that still show personal data after
the scrub (a labelled span inside a sentence the scrub kept), and its counterpart, texts without
any personal data that lost a sentence anyway (quotes lost for nothing).

    python scripts/eval_ner.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "layers" / "runtime"):  # run as a plain script
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from scripts.social_proof import PII_LABELS, load_nlp, scrub_many  # noqa: E402


@dataclass
class EvalNerConfig:
    heldout: str = "tests/fixtures/ner_heldout.jsonl"  # hand-labelled; never tuned on
    out_dir: str = "build/reports"  # writes ner.json here
    report_name: str = "ner.json"


def read_labelled(path: str | Path) -> list[dict[str, Any]]:
    """The labelled texts; each span is checked to lie inside its text and to carry a known label."""
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        for label, start, end in row["spans"]:
            if label not in PII_LABELS or not 0 <= start < end <= len(row["text"]):
                raise ValueError(f"{path}:{number}: expected a span of {PII_LABELS} inside the text, got {[label, start, end]}")
        rows.append(row)
    return rows


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 3) if den else None


def evaluate(rows: list[dict[str, Any]], nlp: Any) -> dict[str, Any]:
    """Precision, recall and the texts left with personal data, per label and overall."""
    started = time.perf_counter()
    results = scrub_many([row["text"] for row in rows], nlp)
    seconds = time.perf_counter() - started
    per_label = {label: {"predicted": 0, "predicted_correct": 0, "labelled": 0, "labelled_found": 0} for label in PII_LABELS}
    left_texts, over_removed, pii_texts, clean_texts, rejected = [], [], 0, 0, []
    for row, result in zip(rows, results):
        if result.rejected:
            rejected.append(row["id"])
        gold = [(label, start, end) for label, start, end in row["spans"]]
        for label, start, end in result.spans:
            per_label[label]["predicted"] += 1
            per_label[label]["predicted_correct"] += any(_overlaps((start, end), (s, e)) for _, s, e in gold)
        for label, start, end in gold:
            per_label[label]["labelled"] += 1
            per_label[label]["labelled_found"] += any(_overlaps((start, end), (s, e)) for _, s, e in result.spans)
        if gold:
            pii_texts += 1
            if any(_overlaps((s, e), kept) for _, s, e in gold for kept in result.kept):
                left_texts.append(row["id"])
        else:
            clean_texts += 1
            if result.dropped_sentences:
                over_removed.append(row["id"])
    totals = {key: sum(counts[key] for counts in per_label.values()) for key in ("predicted", "predicted_correct", "labelled", "labelled_found")}
    table = {
        label: {
            **counts,
            "precision": _ratio(counts["predicted_correct"], counts["predicted"]),
            "recall": _ratio(counts["labelled_found"], counts["labelled"]),
        }
        for label, counts in {**per_label, "overall": totals}.items()
    }
    return {
        "texts": len(rows),
        "texts_with_pii": pii_texts,
        "texts_with_pii_left_after_scrub": len(left_texts),
        "texts_with_pii_left_ids": left_texts,
        "texts_without_pii": clean_texts,
        "texts_without_pii_that_lost_a_sentence": len(over_removed),
        "texts_without_pii_that_lost_a_sentence_ids": over_removed,
        "rejected_as_hostile": rejected,
        "spans": table,
        "seconds": round(seconds, 2),
    }


def format_table(result: dict[str, Any]) -> str:
    lines = [f"{'label':<9} {'pred':>5} {'ok':>5} {'prec':>6} {'gold':>5} {'found':>5} {'recall':>6}"]
    for label, row in result["spans"].items():
        fmt = lambda v: "  -   " if v is None else f"{v:6.3f}"  # noqa: E731
        lines.append(
            f"{label:<9} {row['predicted']:>5} {row['predicted_correct']:>5} {fmt(row['precision'])} "
            f"{row['labelled']:>5} {row['labelled_found']:>5} {fmt(row['recall'])}"
        )
    lines.append(
        f"texts with personal data left after the scrub: {result['texts_with_pii_left_after_scrub']} of "
        f"{result['texts_with_pii']}; texts without any that lost a sentence: "
        f"{result['texts_without_pii_that_lost_a_sentence']} of {result['texts_without_pii']}"
    )
    return "\n".join(lines)


def main(config: EvalNerConfig) -> dict[str, Any]:
    nlp = load_nlp()
    result = {
        "schema_version": 1,
        "heldout": config.heldout,
        "model": f"{nlp.meta.get('lang')}_{nlp.meta.get('name')} {nlp.meta.get('version')}",
        "matching": "overlap of at least one character, label-blind (see scripts/eval_ner.py)",
        **evaluate(read_labelled(config.heldout), nlp),
        "config": asdict(config),
    }
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / config.report_name).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    defaults = EvalNerConfig()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--heldout", default=defaults.heldout)
    parser.add_argument("--out-dir", default=defaults.out_dir)
    parser.add_argument("--report-name", default=defaults.report_name)
    args = parser.parse_args()
    print(format_table(main(EvalNerConfig(heldout=args.heldout, out_dir=args.out_dir, report_name=args.report_name))))
