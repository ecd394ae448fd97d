"""Evaluate the review-sentiment scorers side by side.

Inputs → outputs:
  tests/fixtures/reviews_heldout.csv  (id, text, rating 1-5, label negative|neutral|positive, style,
                                       lang en|de|fr: English is the headline set, de/fr are reported apart)
  optionally the review events of a store folder (--store-dir) and of a generated store
  (nudge.store.generate, when that module exists), labelled from their stars
    → build/reports/sentiment.json   every number below, machine-readable
    → build/reports/sentiment.md     the same as tables

Text-only and text+rating results are kept apart: stars are the strongest signal when a review has
them, and the text-only table is what matters for reviews without stars (and for sarcasm the stars
contradict). The tone table measures the decision the pipeline actually takes: how many unhappy
reviews get "caring" (recall) and how many happy ones lose their campaign tone by mistake.

    python scripts/eval_sentiment.py --out-dir build/reports
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "layers" / "runtime") not in sys.path:  # run as a plain script: the core lives in the layer
    sys.path.insert(0, str(ROOT / "layers" / "runtime"))

from nudge.errors import ValidationError  # noqa: E402
from nudge.sentiment import LABELS, assess_review, label_for, rating_score, score_review, text_score  # noqa: E402
from nudge.sentiment.scorer import RATING_WEIGHT  # noqa: E402


@dataclass
class EvalConfig:
    heldout_csv: str = "tests/fixtures/reviews_heldout.csv"  # hand-written, hand-labelled reviews
    out_dir: str = "build/reports"  # writes sentiment.json and sentiment.md here
    store_dir: str = ""  # a store folder (docs/STORE_FORMAT.md) whose review events are scored too; "" = none
    generated_store: bool = True  # also score a store from nudge.store.generate when that module exists
    generated_products: int = 300  # size of that generated store (about 400 text reviews; < 1 s)
    generated_customers: int = 500
    generated_events: int = 30_000
    seed: int = 7  # for the generated store and the cross-validation folds
    trained_baseline: bool = True  # also cross-validate a bag-of-words model trained on the set itself
    folds: int = 5  # folds for that model: it is always scored on reviews it was not trained on
    ridge: float = 1.0  # its L2 penalty (fixed, not tuned)


@dataclass(frozen=True)
class Review:
    text: str
    rating: int | None
    label: str  # negative | neutral | positive
    style: str = ""
    lang: str = "en"


Predictor = Callable[[Review], str]

# The chosen scorer first in each table; alternatives after it.
TEXT_ONLY: dict[str, Predictor] = {
    "vader + domain + de/fr lexicons, cut 0.2 (chosen)": lambda r: label_for(text_score(r.text)),
    "vader + domain + de/fr lexicons, cut 0.05": lambda r: label_for(text_score(r.text), threshold=0.05),
    "vader stock, cut 0.2": lambda r: label_for(text_score(r.text, domain=False)),
    "vader stock, cut 0.05 (VADER's default)": lambda r: label_for(text_score(r.text, domain=False), threshold=0.05),
    "always positive (baseline)": lambda r: "positive",
}
TEXT_AND_RATING: dict[str, Predictor] = {
    f"stars x{RATING_WEIGHT} + vader/domain (chosen)": lambda r: label_for(score_review(r.text, r.rating)),
    f"stars x{RATING_WEIGHT} + vader stock": lambda r: label_for(
        RATING_WEIGHT * rating_score(r.rating) + (1 - RATING_WEIGHT) * text_score(r.text, domain=False)
    ),
    "stars only (1-2 neg, 3 neu, 4-5 pos)": lambda r: label_for(rating_score(r.rating)),
}


def read_heldout(path: str | Path) -> list[Review]:
    """The labelled CSV as Reviews; a malformed row raises ValidationError naming the row."""
    reviews = []
    with open(path, encoding="utf-8", newline="") as handle:
        for row_number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                rating = int(row["rating"])
                if not 1 <= rating <= 5 or row["label"] not in LABELS or not row["text"].strip():
                    raise ValueError("rating must be 1-5, label one of LABELS, text non-empty")
            except (KeyError, ValueError) as exc:
                raise ValidationError(f"{path}:{row_number}: expected text, rating 1-5, label in {LABELS}; {exc}") from exc
            reviews.append(Review(row["text"], rating, row["label"], row.get("style", ""), row.get("lang") or "en"))
    return reviews


def label_from_stars(rating: int) -> str:
    return "negative" if rating <= 2 else "neutral" if rating == 3 else "positive"


def wilson_interval(correct: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% confidence interval of a proportion (Wilson score): honest error bars for n ~ 300."""
    if total == 0:
        return (0.0, 0.0)
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return (round(centre - half, 4), round(centre + half, 4))


def classification_metrics(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy (with 95% interval), macro-F1, per-class F1 and the confusion matrix (gold -> predicted)."""
    correct = sum(g == p for g, p in zip(gold, predicted))
    per_class = {}
    for label in LABELS:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        per_class[label] = round(2 * precision * recall / (precision + recall) if precision + recall else 0.0, 4)
    present = [label for label in LABELS if label in gold]  # macro over the classes the set has
    confusion = Counter(zip(gold, predicted))
    return {
        "n": len(gold),
        "accuracy": round(correct / len(gold), 4) if gold else 0.0,
        "accuracy_95ci": wilson_interval(correct, len(gold)),
        "macro_f1": round(sum(per_class[label] for label in present) / len(present), 4) if present else 0.0,
        "f1": per_class,
        "confusion": {g: {p: confusion[(g, p)] for p in LABELS} for g in LABELS},
    }


def evaluate_scorers(reviews: Sequence[Review], scorers: dict[str, Predictor], *, by_style: bool) -> dict[str, Any]:
    gold = [r.label for r in reviews]
    results = {}
    for name, predict in scorers.items():
        started = time.perf_counter()
        predicted = [predict(r) for r in reviews]
        elapsed_ms = (time.perf_counter() - started) * 1000
        metrics = classification_metrics(gold, predicted)
        metrics["ms_per_review"] = round(elapsed_ms / max(1, len(reviews)), 3)
        if by_style:
            styles: dict[str, list[bool]] = {}
            for review, label in zip(reviews, predicted):
                styles.setdefault(review.style or "-", []).append(review.label == label)
            metrics["accuracy_by_style"] = {s: [sum(v), len(v)] for s, v in sorted(styles.items())}
        results[name] = metrics
    return results


def _bag_of_words(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9']+|[!?]", text.lower())
    return set(words) | {f"{a} {b}" for a, b in zip(words, words[1:])}  # unigrams and bigrams


def cross_validated_bag_of_words(reviews: Sequence[Review], *, folds: int, ridge: float, seed: int) -> list[str]:
    """Labels from a small trained model, each predicted by a model that never saw that review.

    Kernel ridge regression on L2-normalised binary unigrams and bigrams, one-hot targets, argmax:
    what a small text model learns from ~260 labelled reviews. It stands in for the "train a model
    and export it to ONNX" option: if it cannot beat the lexicon with this much data, a model is not
    worth shipping until a store's own starred reviews give it thousands of examples.
    """
    features = [_bag_of_words(r.text) for r in reviews]
    vocabulary = {f: i for i, f in enumerate(sorted(set().union(*features)))}
    x = np.zeros((len(reviews), len(vocabulary)))  # (reviews, features)
    for row, found in enumerate(features):
        x[row, [vocabulary[f] for f in found]] = 1.0
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    y = np.eye(len(LABELS))[[LABELS.index(r.label) for r in reviews]]  # (reviews, 3)
    order = np.random.default_rng(seed).permutation(len(reviews))
    predicted = np.empty(len(reviews), dtype=int)
    for fold in range(folds):
        test = order[fold::folds]
        train = np.setdiff1d(order, test)
        centre = y[train].mean(axis=0)
        kernel = x[train] @ x[train].T  # (train, train): the dual form, as features >> reviews
        alpha = np.linalg.solve(kernel + ridge * np.eye(len(train)), y[train] - centre)
        predicted[test] = (x[test] @ x[train].T @ alpha + centre).argmax(axis=1)
    return [LABELS[i] for i in predicted]


def weight_sweep(reviews: Sequence[Review], weights: Sequence[float] = (0.5, 0.6, 0.7, 0.8, 0.9)) -> dict[str, float]:
    """Accuracy of the blended label for several star weights (sensitivity, not a tuning loop)."""
    texts = [text_score(r.text) for r in reviews]
    out = {}
    for weight in weights:
        predicted = [label_for(weight * rating_score(r.rating) + (1 - weight) * t) for r, t in zip(reviews, texts)]
        out[f"{weight:.1f}"] = round(sum(p == r.label for p, r in zip(predicted, reviews)) / len(reviews), 4)
    return out


def evaluate_tone(reviews: Sequence[Review]) -> dict[str, Any]:
    """The pipeline's decision: share of each gold label that gets "caring" (unhappy = True)."""
    out = {}
    for mode, use_rating in (("text only", False), ("text + rating", True)):
        caring: dict[str, list[int]] = {label: [0, 0] for label in LABELS}
        for review in reviews:
            unhappy = assess_review(review.text, review.rating if use_rating else None).unhappy
            caring[review.label][0] += int(unhappy)
            caring[review.label][1] += 1
        out[mode] = {
            "unhappy_recall": round(caring["negative"][0] / max(1, caring["negative"][1]), 4),
            "caring_rate_neutral": round(caring["neutral"][0] / max(1, caring["neutral"][1]), 4),
            "caring_rate_positive": round(caring["positive"][0] / max(1, caring["positive"][1]), 4),
            "counts": caring,
        }
    return out


def store_reviews(store_dir: str | Path) -> list[Review]:
    """Review events of a store folder, labelled from their stars (the store has no other label)."""
    from nudge.store import load_store

    store = load_store(store_dir)
    return [
        Review(e.text, e.rating, label_from_stars(e.rating), "store")
        for e in store.events
        if e.event_type == "review" and e.rating is not None and e.text.strip()
    ]


def generated_reviews(config: EvalConfig) -> tuple[list[Review], str]:
    """Reviews from nudge.store.generate when that module exists; ([], why) when it cannot be used.

    The generator writes review text from templates by mood, and its mood is the stars' bucket
    (4-5 positive, 3 mixed, 1-2 negative), so labels from stars are its ground truth.
    """
    try:
        from nudge.store.generate import generate
    except ImportError as exc:
        return [], f"skipped: nudge.store.generate is not available ({exc})"
    kwargs = {"seed": config.seed, "n_products": config.generated_products,
              "n_customers": config.generated_customers, "n_events": config.generated_events}
    try:
        store = generate(**kwargs)
    except TypeError as exc:  # the generator's signature changed: say so rather than guess
        return [], f"skipped: could not call generate({kwargs}): {exc}"
    reviews = [
        Review(e.text, e.rating, label_from_stars(e.rating), "generated")
        for e in store.events
        if e.event_type == "review" and e.rating is not None and e.text.strip()
    ]
    return reviews, "nudge.store.generate.generate(" + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


def _table(title: str, results: dict[str, Any]) -> list[str]:
    lines = [f"### {title}", "", "| scorer | n | accuracy | 95% CI | macro-F1 | F1 neg | F1 neu | F1 pos | ms/review |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, m in results.items():
        low, high = m["accuracy_95ci"]
        f1 = m["f1"]
        lines.append(f"| {name} | {m['n']} | {m['accuracy']:.3f} | {low:.3f}-{high:.3f} | {m['macro_f1']:.3f} | "
                     f"{f1['negative']:.3f} | {f1['neutral']:.3f} | {f1['positive']:.3f} | {m['ms_per_review']} |")
    return lines + [""]


def _tone_table(title: str, tone: dict[str, Any]) -> list[str]:
    lines = [f"### {title}", "", "| input | unhappy reviews -> caring | neutral -> caring | positive -> caring |",
             "|---|---|---|---|"]
    for mode, t in tone.items():
        lines.append(f"| {mode} | {t['unhappy_recall']:.3f} | {t['caring_rate_neutral']:.3f} | {t['caring_rate_positive']:.3f} |")
    return lines + [""]


def render_markdown(report: dict[str, Any]) -> str:
    lines = ["# Review sentiment: evaluation", "",
             f"Held-out set: `{report['heldout_csv']}`, {report['heldout_n']} hand-written English reviews, labels "
             f"{report['heldout_labels']}. Written and labelled by one person (also the lexicon's author): "
             "treat the numbers as indicative, with the 95% intervals shown.", ""]
    held = report["heldout"]
    lines += _table("Held-out, text only", held["text_only"])
    lines += _table("Held-out, text + rating", held["text_and_rating"])
    lines += _tone_table("Tone decision (assess_review -> caring), held-out", held["tone"])
    sweep = held["rating_weight_sweep"]
    lines += ["", f"### Star weight in the blend (accuracy; shipped: {RATING_WEIGHT})", "",
              "| " + " | ".join(sweep) + " |", "|" + "---|" * len(sweep), "| " + " | ".join(f"{a:.3f}" for a in sweep.values()) + " |"]
    lines += ["", "### Chosen text-only scorer by style (correct / n)", ""]
    chosen = next(iter(held["text_only"].values()))
    lines += ["| style | correct | n |", "|---|---|---|"]
    lines += [f"| {style} | {c} | {n} |" for style, (c, n) in chosen["accuracy_by_style"].items()]
    lines.append("")
    for lang, part in report["heldout_other_languages"].items():
        lines += [f"## Held-out, language {lang} ({part['n']} reviews, labels {part['labels']})", ""]
        lines += _table(f"{lang}, text only", part["text_only"])
        lines += _table(f"{lang}, text + rating", part["text_and_rating"])
        lines += _tone_table(f"{lang}, tone decision", part["tone"])
    for key, title in (("store", "Store folder reviews"), ("generated", "Generated store reviews")):
        part = report.get(key)
        if not part:
            continue
        lines += [f"## {title} (labels from stars: 1-2 negative, 3 neutral, 4-5 positive)", "", f"Source: {part['source']}", ""]
        if part.get("text_only"):
            lines += _table(f"{title}, text only", part["text_only"])
            lines += _table(f"{title}, text + rating", part["text_and_rating"])
            lines += _tone_table(f"{title}, tone decision", part["tone"])
    return "\n".join(lines) + "\n"


def main(config: EvalConfig) -> dict[str, Any]:
    """Score every scorer on every available set; write sentiment.json and sentiment.md; return the report."""
    everything = read_heldout(config.heldout_csv)
    reviews = [r for r in everything if r.lang == "en"]
    text_only = evaluate_scorers(reviews, TEXT_ONLY, by_style=True)
    if config.trained_baseline:
        started = time.perf_counter()
        predicted = cross_validated_bag_of_words(reviews, folds=config.folds, ridge=config.ridge, seed=config.seed)
        metrics = classification_metrics([r.label for r in reviews], predicted)
        metrics["ms_per_review"] = round((time.perf_counter() - started) * 1000 / len(reviews), 3)
        name = f"bag-of-words ridge, trained, {config.folds}-fold CV (alternative to a lexicon)"
        text_only = {**dict(list(text_only.items())[:-1]), name: metrics, **dict(list(text_only.items())[-1:])}
    report: dict[str, Any] = {
        "config": asdict(config),
        "heldout_csv": config.heldout_csv,
        "heldout_n": len(reviews),
        "heldout_labels": dict(Counter(r.label for r in reviews)),
        "heldout_other_languages": {
            lang: {
                "n": len(subset),
                "labels": dict(Counter(r.label for r in subset)),
                "text_only": evaluate_scorers(subset, TEXT_ONLY, by_style=False),
                "text_and_rating": evaluate_scorers(subset, TEXT_AND_RATING, by_style=False),
                "tone": evaluate_tone(subset),
            }
            for lang in sorted({r.lang for r in everything} - {"en"})
            for subset in [[r for r in everything if r.lang == lang]]
        },
        "heldout": {
            "text_only": text_only,
            "text_and_rating": evaluate_scorers(reviews, TEXT_AND_RATING, by_style=True),
            "tone": evaluate_tone(reviews),
            "rating_weight_sweep": weight_sweep(reviews),
        },
    }
    sources: list[tuple[str, list[Review], str]] = []
    if config.store_dir:
        sources.append(("store", store_reviews(config.store_dir), config.store_dir))
    if config.generated_store:
        generated, how = generated_reviews(config)
        sources.append(("generated", generated, how))
    for key, extra, source in sources:
        report[key] = {"source": source, "n": len(extra)}
        if extra:
            report[key]["text_only"] = evaluate_scorers(extra, TEXT_ONLY, by_style=False)
            report[key]["text_and_rating"] = evaluate_scorers(extra, TEXT_AND_RATING, by_style=False)
            report[key]["tone"] = evaluate_tone(extra)
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sentiment.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "sentiment.md").write_text(render_markdown(report), encoding="utf-8")
    return report


if __name__ == "__main__":
    defaults = EvalConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heldout-csv", default=defaults.heldout_csv)
    parser.add_argument("--out-dir", default=defaults.out_dir)
    parser.add_argument("--store-dir", default=defaults.store_dir, help="also score this store folder's reviews")
    parser.add_argument("--no-generated-store", action="store_true", help="skip nudge.store.generate")
    parser.add_argument("--generated-products", type=int, default=defaults.generated_products)
    parser.add_argument("--generated-customers", type=int, default=defaults.generated_customers)
    parser.add_argument("--generated-events", type=int, default=defaults.generated_events)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--no-trained-baseline", action="store_true", help="skip the cross-validated model")
    args = parser.parse_args()
    result = main(EvalConfig(heldout_csv=args.heldout_csv, out_dir=args.out_dir, store_dir=args.store_dir,
                             generated_store=not args.no_generated_store,
                             generated_products=args.generated_products, generated_customers=args.generated_customers,
                             generated_events=args.generated_events, seed=args.seed,
                             trained_baseline=not args.no_trained_baseline))
    print(render_markdown(result))
