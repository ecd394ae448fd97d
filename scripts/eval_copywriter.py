"""Evaluate the shipped copywriter on seeded fact sheets, hostile ones included.

Inputs : layers/model/copywriter/ (or --model-dir), build/copywriter/corpus/report.json (teacher's
         raw violation rate), optionally the teacher for perplexities (--teacher "" skips them).
Outputs: build/reports/copywriter.json, build/reports/copywriter.md (metrics + 20 emails verbatim) and
         build/reports/copy_sample.md (100 random filled emails, numbered, for a person to read)

Metrics (unfilled = the model's words before slot filling):
  grounding_violations   emails whose FILLED text has a digit, currency sign, URL, email address,
                         markup or brace that no slot value brought in (must be 0)
  raw_violation_rate     share of sampled candidates the guardrails or the grammar gate rejected
  raw_ungrammatical_rate share of sampled candidates with a sentence outside the phrasebook (the gate)
  ungrammatical_rate     share of SENT emails with a sentence outside the phrasebook or the reviewed
                         fallback copy: 0 by construction, measured anyway (the gate is the same code)
  lint_error_rate        share of sent emails that an independent lint flags after filling: a doubled
                         word, a sentence starting in lower case, "a"/"an" before the wrong sound, a
                         brace, or one of the broken phrases issue #11 quoted. A person's read of
                         copy_sample.md is the real measure; docs/COPYWRITER.md has the count
  personal_subject_share share of subjects that hold something of this customer (writer.CUSTOMER_SLOTS:
                         name, category, last purchase, cart item, tier, occasion; a recommended product
                         alone does not count), as the demo's copy report counts them
  fallback_rate          share of emails that got reviewed copy
  slot_accuracy          share of model emails whose unfilled intro uses {first_name} or {product}
                         and whose filled text keeps no brace
  unique_intro_share     distinct unfilled intros / emails;  distinct_2: distinct / all intro bigrams
  perplexity_under_teacher vs reviewed_copy_perplexity_under_teacher (chosen copy vs seed copy)
  languages              a block per copy language besides English (nudge.copy.languages), from the same kind of
                         fact sheets written in it: grounding_violations (numerals of every script too),
                         fallback_rate, raw_violation_rate, ungrammatical_rate, distinct_share per field; and
                         build/reports/copy_sample_<language>.md, 20 filled emails for a person to read

Run: .venv-train/bin/python scripts/eval_copywriter.py --n-briefs 500
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "runtime"))  # scripts run from a checkout; the runtime is not installed
sys.path.insert(0, str(ROOT))  # nudge_local (offline helpers shared with the demo)

from tqdm import tqdm  # noqa: E402

from nudge.campaigns import load_campaigns  # noqa: E402
from nudge.copy.guardrails import FIELDS, words  # noqa: E402
from nudge.copy.phrasebook import Phrasebook, slots_in  # noqa: E402
from nudge.copy.slots import fill_slots  # noqa: E402
from nudge_local.copy_report import QUOTED_ERRORS  # noqa: E402
from nudge.copy.writer import CUSTOMER_SLOTS, Copywriter, CopyBrief, SeedCopy, tone_for  # noqa: E402
from nudge.copy.languages import LANGUAGE_PACKS, present, rules_for  # noqa: E402


@dataclass
class EvalConfig:
    model_dir: str = "layers/model/copywriter"
    corpus_report: str = "build/copywriter/corpus/report.json"
    out_json: str = "build/reports/copywriter.json"
    out_md: str = "build/reports/copywriter.md"
    n_briefs: int = 1000
    batch_size: int = 10  # briefs per write_batch call, as in the generate Lambda
    threads: int = 1
    seed: int = 7
    hostile_share: float = 0.2  # share of fact sheets with hostile product names
    teacher: str = "smollm2"  # "" to skip the perplexity metrics
    perplexity_samples: int = 100  # texts scored by the teacher per side (teacher passes are slow on 2 cores)
    show_emails: int = 20
    sample_emails: int = 100  # written to copy_sample.md for a person to read
    out_sample: str = "build/reports/copy_sample.md"
    update_model_card: bool = False  # replace the "## Evaluation" section of the model's MODEL_CARD.md
    # copy in the other languages (nudge.copy.languages): the same fact sheets written in each, a block each in
    # the report and a sample of language_sample emails in build/reports/copy_sample_<language>.md
    languages: str = ",".join(LANGUAGE_PACKS)  # "" skips them
    language_briefs: int = 300
    language_sample: int = 20
    # generation overrides for tuning (0 / -1: keep meta.json's)
    candidates: int = 0
    temperature: float = -1.0
    top_p: float = -1.0
    personal_weight: float = -1.0


FIRST_NAMES = ("Ada", "Bea", "Chen", "Dev", "Émile", "Farah", "Gus", "Hana", "Ivo", "Jo", "Kofi", "Lena", "Mateo", "Noor", "")
PRODUCTS = ("Blue Stoneware Mug", "Linen Apron", "Oak Serving Board", "Brass Desk Lamp", "Wool Throw", "Herb Planter",
            "Scented Candle", "Leather Notebook", "Glass Teapot", "Cotton Tote")
HOSTILE_PRODUCTS = ("Mug 2.0 (350 ml)", "Gift Card £25", "50% Off Bundle", "<b>Bold</b> Lamp <script>x()</script>",
                    "Sunny Mug ☀️🎉", "Visit www.evil.example now", "Deluxe " * 20 + "Teapot", "{first_name} Special",
                    "Tote\r\nBcc: eve@example.com", "&lt;i&gt;Vase&lt;/i&gt;")
CATEGORIES = ("Mugs", "Kitchen", "Garden", "Lighting", "Home", "Stationery", "Tea", "Bags", "Textiles")
OCCASIONS = ("birthday", "birthday", "Christmas", "Mother's Day", "Valentine's Day", "Hanukkah")
TIERS = ("gold", "platinum")
MATERIALS = ("stoneware", "linen", "oak", "brass", "wool", "glass", "cotton")
COLOURS = ("sage green", "navy", "cream", "terracotta", "charcoal", "red")
HOSTILE_FACTS = ("<img src=x onerror=alert(1)>", "50% off", "{tier}", "\u202eevil", "gold\nBcc: eve@example.com")
STORES = ("Kiln & Co", "Northwind", "The Linen Room", "Oak 24")


def fact_sheets(config: EvalConfig) -> list[CopyBrief]:
    rng = random.Random(config.seed)
    campaigns = sorted(load_campaigns())
    briefs = []
    for i in range(config.n_briefs):
        campaign = campaigns[i % len(campaigns)]
        sentiment = rng.choices(["neutral", "positive", "negative"], weights=[0.6, 0.25, 0.15])[0]
        hostile = rng.random() < config.hostile_share
        pool = HOSTILE_PRODUCTS if hostile else PRODUCTS
        fact = lambda values, rate: (rng.choice(HOSTILE_FACTS) if hostile else rng.choice(values)) if rng.random() < rate else ""  # noqa: E731
        briefs.append(CopyBrief(
            campaign_type=campaign, tone=tone_for(campaign, sentiment), first_name=rng.choice(FIRST_NAMES),
            product_names=tuple(rng.sample(pool, k=2)), categories=tuple(rng.sample(CATEGORIES, k=2)),
            store_name=rng.choice(STORES), seed_key=f"eval-{campaign}:c-{i}",
            history_categories=tuple(rng.sample(CATEGORIES, k=rng.randint(0, 2))), sentiment=sentiment,
            last_bought=fact(PRODUCTS, 0.6), cart_item=fact(PRODUCTS, 1.0 if campaign == "abandoned_cart" else 0),
            occasion=rng.choice(OCCASIONS) if campaign == "birthday_holiday" else "",
            tier=rng.choice(TIERS) if campaign == "loyalty" else "",
            material=fact(MATERIALS, 0.55), colour=fact(COLOURS, 0.6)))
        if briefs[-1].last_bought == briefs[-1].product_names[0]:  # as the pipeline does (nudge.pipeline.brief_facts)
            briefs[-1] = replace(briefs[-1], last_bought="")
        if briefs[-1].cart_item in briefs[-1].product_names[:1]:  # the pipeline features another product than the cart's
            briefs[-1] = replace(briefs[-1], product_names=briefs[-1].product_names[::-1])
        said = briefs[-1].product_names[0].lower()  # an attribute the name already says is left out
        if briefs[-1].material.lower() in said or briefs[-1].colour.lower() in said:
            briefs[-1] = replace(briefs[-1], material="" if briefs[-1].material.lower() in said else briefs[-1].material,
                                 colour="" if briefs[-1].colour.lower() in said else briefs[-1].colour)
    return briefs


_FACT_PATTERNS = {
    "digit": re.compile(r"\d"), "currency": re.compile(r"[$£€¥]"), "url": re.compile(r"https?:|www\.", re.I),
    "email": re.compile(r"@"), "markup": re.compile(r"[<>]"), "brace": re.compile(r"[{}]"), "percent": re.compile(r"%"),
}


def value_forms(values: dict[str, str]) -> list[str]:
    """Each slot value as given and as filling writes it (NFKC: "…" reads "..."), longest first."""
    forms = {form for value in values.values() for form in (value, unicodedata.normalize("NFKC", value))}
    return sorted(forms, key=len, reverse=True)


def grounding_problems(filled: str, values: dict[str, str]) -> list[str]:
    """Fact-like text in the filled copy that no slot value explains (numerals of every script included: 三, 〇)."""
    residue = filled
    for form in value_forms(values):  # a value may be capitalised at a sentence start
        residue = re.sub(re.escape(form), " ", residue, flags=re.IGNORECASE)
    found = [name for name, pattern in _FACT_PATTERNS.items() if pattern.search(residue)]
    return found + ["numeral"] * any(unicodedata.numeric(ch, None) is not None and not ch.isdigit() for ch in residue)


_LINT = {
    "doubled_word": re.compile(r"\b(\w+) \1\b", re.IGNORECASE),
    "lower_case_sentence": re.compile(r"(?:^|[.!?] )[a-z]"),
    "article": re.compile(r"\b(a [aeiouAEIOU]\w|an [b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z]\w)"),
    "brace": re.compile(r"[{}]"),
}


def lint(filled: dict[str, str], values: dict[str, str] | None = None) -> list[str]:
    """An independent check of filled copy (not the gate): codes of what reads as broken.

    The data values (`values`, as filled) are replaced by a neutral word first: a product named
    "Deluxe Deluxe Teapot" is the catalog's wording, not the copywriter's error.
    """
    for form in value_forms(values or {}):
        filled = {k: re.sub(re.escape(form), "Thing", v, flags=re.IGNORECASE) for k, v in filled.items()}
    text = " ".join(filled.values())
    found = [name for name, pattern in _LINT.items() if any(pattern.search(v) for v in filled.values())]
    return found + [f"quoted:{q}" for q in QUOTED_ERRORS if q.lower() in text.lower()]


def teacher_perplexity(teacher_spec: str, texts: list[str], threads: int) -> float:
    import torch
    try:  # imported as scripts.<name> (tests) or run as a script (scripts/ on sys.path)
        from scripts.build_copy_corpus import load_teacher
    except ImportError:
        from build_copy_corpus import load_teacher

    torch.set_num_threads(threads)
    model, tokenizer = load_teacher(teacher_spec, ROOT / "build/copywriter/teacher_fp32")
    total, count = 0.0, 0
    for text in tqdm(texts, desc="teacher ppl", leave=False):
        ids = tokenizer(text, return_tensors="pt").input_ids
        with torch.no_grad():
            loss = model(input_ids=ids, labels=ids).loss
        total += float(loss) * (ids.shape[1] - 1)
        count += ids.shape[1] - 1
    return math.exp(total / max(count, 1))


def as_text(fields: dict[str, str]) -> str:
    return f"Subject: {fields['subject']}\nPreheader: {fields['preheader']}\nIntro: {fields['intro']}"


@dataclass
class CandidateCounts:
    """What the guardrails and the gate made of every sampled candidate: how many, how many rejected, by rule."""

    total: int = 0
    bad: int = 0
    ungrammatical: int = 0
    by_rule: Counter = field(default_factory=Counter)

    def rate(self, count: int) -> float | None:
        return round(count / self.total, 4) if self.total else None


def drafts_counted(writer: Copywriter, batch: list[CopyBrief], counts: CandidateCounts) -> list:
    """The drafts `writer` chooses for `batch` (reviewed copy without a model), counting its candidates."""
    if writer.model is None:
        return writer.draft_batch(batch)
    scored = writer.candidates_for(batch)
    for per_brief in scored:
        for _fields, violations, _score in per_brief:
            counts.total += 1
            counts.bad += bool(violations)
            counts.by_rule.update(v.split(":", 1)[-1].split(":")[0] if ":" in v else v for v in violations)
            counts.ungrammatical += any(v.endswith(":ungrammatical") for v in violations)
    return writer.drafts_from(batch, scored)


def main(config: EvalConfig) -> dict:
    writer = Copywriter.load(ROOT / config.model_dir, threads=config.threads)
    overrides = {k: getattr(config, k) for k in ("candidates", "temperature", "top_p", "personal_weight") if getattr(config, k) > 0}
    writer.settings = replace(writer.settings, **overrides)
    briefs = fact_sheets(config)
    drafts, seconds, counts = [], [], CandidateCounts()
    for start in tqdm(range(0, len(briefs), config.batch_size), desc="eval"):
        batch = briefs[start : start + config.batch_size]
        t0 = time.perf_counter()
        drafts.extend(drafts_counted(writer, batch, counts))
        seconds.append(time.perf_counter() - t0)

    emails, grounding, slot_ok, model_emails = [], 0, 0, 0
    book = Phrasebook.load()
    for brief, draft in zip(briefs, drafts):
        values = brief.slot_values()
        filled = {name: fill_slots(draft.fields[name], values) for name in FIELDS}
        problems = grounding_problems(" ".join(filled.values()), values)
        grounding += bool(problems)
        if draft.source == "model":
            model_emails += 1
            slot_ok += bool(slots_in(draft.fields["intro"])) and not any("{" in v for v in filled.values())
        emails.append({"campaign_type": brief.campaign_type, "tone": brief.tone, "source": draft.source,
                       "unfilled": draft.fields, "filled": filled, "rejected_reasons": list(draft.rejected_reasons),
                       "grounding_problems": problems, "gate": book.gate_fields(draft.fields), "lint": lint(filled, values),
                       "personal_subject": bool(slots_in(draft.fields["subject"]) & CUSTOMER_SLOTS)})

    intros = [e["unfilled"]["intro"] for e in emails]
    bigrams = [bg for intro in intros for bg in zip(words(intro), words(intro)[1:])]
    corpus_report = json.loads((ROOT / config.corpus_report).read_text()) if (ROOT / config.corpus_report).is_file() else {}
    seed_copy = SeedCopy.load()
    result = {
        "model_version": writer.model_version,
        "generation": asdict(writer.settings),
        "emails": len(emails),
        "grounding_violations": grounding,
        "raw_violation_rate": counts.rate(counts.bad),
        "raw_violations_by_rule": dict(counts.by_rule.most_common()),
        "teacher_raw_violation_rate": corpus_report.get("teacher", {}).get("raw_violation_rate"),
        "raw_ungrammatical_rate": counts.rate(counts.ungrammatical),
        "ungrammatical_rate": round(sum(bool(e["gate"]) for e in emails) / len(emails), 4),
        "lint_error_rate": round(sum(bool(e["lint"]) for e in emails) / len(emails), 4),
        "lint_errors_by_code": dict(Counter(code for e in emails for code in e["lint"]).most_common()),
        "personal_subject_share": round(sum(e["personal_subject"] for e in emails) / len(emails), 4),
        "fallback_rate": round(sum(e["source"] == "fallback" for e in emails) / len(emails), 4),
        "slot_accuracy": round(slot_ok / model_emails, 4) if model_emails else None,
        "unique_intro_share": round(len(set(intros)) / len(intros), 4),
        "distinct_2": round(len(set(bigrams)) / max(len(bigrams), 1), 4),
        "mean_intro_words": round(sum(len(words(i)) for i in intros) / len(intros), 2),
        "hostile_share": config.hostile_share,
        "seconds_per_batch_p50": round(sorted(seconds)[len(seconds) // 2], 4),
        "ms_per_email_p50": round(sorted(seconds)[len(seconds) // 2] / config.batch_size * 1000, 1),
        "perplexity_under_teacher": None,
        "reviewed_copy_perplexity_under_teacher": None,
        "config": asdict(config),
    }
    if config.teacher:
        rng = random.Random(config.seed)
        chosen = [as_text(e["unfilled"]) for e in emails if e["source"] == "model"] or [as_text(e["unfilled"]) for e in emails]
        reviewed = [as_text(seed_copy.choose(c, t, f"ppl-{i}")) for i, (c, by_tone) in
                    enumerate(sorted(seed_copy.copy.items()) * 20) for t in sorted(by_tone)]
        result["perplexity_under_teacher"] = round(teacher_perplexity(
            config.teacher, rng.sample(chosen, min(config.perplexity_samples, len(chosen))), config.threads), 2)
        result["reviewed_copy_perplexity_under_teacher"] = round(teacher_perplexity(
            config.teacher, rng.sample(reviewed, min(config.perplexity_samples, len(reviewed))), config.threads), 2)

    out_json = ROOT / config.out_json
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    shown = random.Random(config.seed).sample(emails, min(config.show_emails, len(emails)))
    lines = ["# Copywriter evaluation", "", f"Model: `{result['model_version']}` on {len(emails)} fact sheets "
             f"({int(config.hostile_share * 100)}% with hostile product names).", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in result.items() if k not in ("config", "raw_violations_by_rule", "lint_errors_by_code", "languages")]
    lines += ["", f"Raw violations by rule: {result['raw_violations_by_rule']}", "", f"## {len(shown)} random emails, verbatim", ""]
    for e in shown:
        lines += [f"**{e['campaign_type']} / {e['tone']} / {e['source']}**"
                  + (f" (rejected: {', '.join(e['rejected_reasons'][:4])})" if e["rejected_reasons"] else ""), "",
                  f"> Subject: {e['filled']['subject']}  ", f"> Preheader: {e['filled']['preheader']}  ",
                  f"> {e['filled']['intro']}", ""]
    (ROOT / config.out_md).write_text("\n".join(lines) + "\n")
    write_sample(emails, result, config)
    result["languages"] = {language: language_block(writer, config, language)
                           for language in filter(None, config.languages.split(","))}
    out_json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    if result["languages"]:
        table = ["", "## Other languages", "", "| language | model | emails | grounding violations | fallback | raw violations | "
                 "distinct subjects / preheaders / intros | mean intro | ms per email |", "|---|---|---|---|---|---|---|---|---|"]
        for language, b in result["languages"].items():
            d = b["distinct_share"] or {}
            table.append(f"| {language} | `{b['model_version']}` | {b['emails']} | {b['grounding_violations']} | {b['fallback_rate']} | "
                         f"{b['raw_violation_rate']} | {d.get('subject')} / {d.get('preheader')} / {d.get('intro')} | "
                         f"{b['mean_intro_units']} {b['length_unit']} | {b['ms_per_email_p50']} |")
        with open(ROOT / config.out_md, "a", encoding="utf-8") as handle:
            handle.write("\n".join(table) + "\n")
    card = ROOT / config.model_dir / "MODEL_CARD.md"
    if config.update_model_card and card.is_file() and writer.model is not None:
        keep = card.read_text().split("\n## Evaluation")[0].rstrip("\n")
        metrics = [f"| {k} | {v} |" for k, v in result.items()
                   if k not in ("config", "generation", "raw_violations_by_rule", "lint_errors_by_code", "model_version", "languages")]
        card.write_text(keep + "\n\n## Evaluation\n\n" + f"scripts/eval_copywriter.py on {len(emails)} seeded fact sheets "
                        f"({int(config.hostile_share * 100)}% hostile product names), one thread, batch {config.batch_size}, "
                        f"generation {asdict(writer.settings)}:\n\n| metric | value |\n|---|---|\n" + "\n".join(metrics) + "\n")
    for language, block in result["languages"].items() if config.update_model_card else ():
        card = ROOT / config.model_dir / "languages" / language / "MODEL_CARD.md"
        if card.is_file() and block["model_version"] != "reviewed":
            keep = card.read_text().split("\n## Evaluation")[0].rstrip("\n")
            rows = [f"| {k} | {v} |" for k, v in block.items() if k not in ("raw_violations_by_rule", "sample")]
            card.write_text(keep + "\n\n## Evaluation\n\n" + f"scripts/eval_copywriter.py on {block['emails']} seeded fact sheets "
                            f"({int(config.hostile_share * 100)}% hostile product names; the store's data in English), one thread, "
                            f"batch {config.batch_size}:\n\n| metric | value |\n|---|---|\n" + "\n".join(rows) + "\n")
    return result


def language_block(writer: Copywriter, config: EvalConfig, language: str) -> dict:
    """The same kind of fact sheets (English catalog data, as a store's would be) written in `language`:
    grounding violations, fallback share, what the gate and guardrails rejected, variety; and a sample to read."""
    briefs = [replace(b, language=language, seed_key=f"{b.seed_key}:{language}")
              for b in fact_sheets(replace(config, n_briefs=config.language_briefs))]
    own = writer.writer_for(language)
    book, rules = Phrasebook.load(language), rules_for(language)
    emails, seconds, counts = [], [], CandidateCounts()
    for start in range(0, len(briefs), config.batch_size):
        batch = briefs[start : start + config.batch_size]
        t0 = time.perf_counter()
        drafts = drafts_counted(own, batch, counts)
        seconds.append(time.perf_counter() - t0)
        for brief, draft in zip(batch, drafts):
            values = brief.slot_values()
            filled = {name: fill_slots(draft.fields[name], values) for name in FIELDS}
            filled["intro"] = present(language, filled["intro"])  # as the reader gets it (Chinese: no space between sentences)
            emails.append({"campaign_type": brief.campaign_type, "tone": brief.tone, "source": draft.source,
                           "unfilled": draft.fields, "filled": filled, "gate": book.gate_fields(draft.fields),
                           "grounding_problems": grounding_problems(" ".join(filled.values()), values)})
    n = len(emails)
    unfilled = {f: [e["unfilled"][f] for e in emails] for f in FIELDS}
    block = {
        "model_version": own.model_version,
        "emails": n,
        "grounding_violations": sum(bool(e["grounding_problems"]) for e in emails),
        "fallback_rate": round(sum(e["source"] == "fallback" for e in emails) / n, 4) if n else None,
        "raw_violation_rate": counts.rate(counts.bad),
        "raw_violations_by_rule": dict(counts.by_rule.most_common()),
        "ungrammatical_rate": round(sum(bool(e["gate"]) for e in emails) / n, 4) if n else None,
        "distinct_share": {f: round(len(set(v)) / n, 4) for f, v in unfilled.items()} if n else None,
        "mean_intro_units": round(sum(len(rules.units(i)) for i in unfilled["intro"]) / n, 2) if n else None,
        "length_unit": "characters" if rules.script == "cjk" else "words",
        "ms_per_email_p50": round(sorted(seconds)[len(seconds) // 2] / config.batch_size * 1000, 1) if seconds else None,
        "sample": str(Path(config.out_sample).with_name(f"copy_sample_{language}.md")),  # beside copy_sample.md
    }
    picked = random.Random(config.seed + 2).sample(emails, min(config.language_sample, n))
    lines = [f"# {len(picked)} random emails in `{language}`, filled, for a person to read", "",
             f"Model `{block['model_version']}`, from `make eval-copy` ({n} seeded fact sheets, "
             f"{int(config.hostile_share * 100)}% hostile; product names are the store's English data).", ""]
    for number, e in enumerate(picked, 1):
        lines += [f"{number}. **{e['campaign_type']} / {e['tone']} / {e['source']}**", "",
                  f"   Subject: {e['filled']['subject']}  ", f"   Preheader: {e['filled']['preheader']}  ",
                  f"   Intro: {e['filled']['intro']}", ""]
    (ROOT / block["sample"]).write_text("\n".join(lines) + "\n")
    return block


def write_sample(emails: list[dict], result: dict, config: EvalConfig) -> None:
    """copy_sample.md: random filled emails, numbered, with room for a reader's verdict."""
    picked = random.Random(config.seed + 1).sample(emails, min(config.sample_emails, len(emails)))
    lines = ["# 100 random emails, filled, for a person to read", "",
             f"Model `{result['model_version']}`, from `make eval-copy` ({len(emails)} seeded fact sheets, "
             f"{int(config.hostile_share * 100)}% hostile). Read each as a marketer would; count a sentence that is "
             "broken, wrong or odd as an error, and write the count into docs/COPYWRITER.md.", ""]
    for number, e in enumerate(picked, 1):
        lines += [f"{number}. **{e['campaign_type']} / {e['tone']} / {e['source']}**", "",
                  f"   Subject: {e['filled']['subject']}  ", f"   Preheader: {e['filled']['preheader']}  ",
                  f"   Intro: {e['filled']['intro']}", ""]
    out = ROOT / config.out_sample
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name, default in asdict(EvalConfig()).items():
        if isinstance(default, bool):
            parser.add_argument("--" + name.replace("_", "-"), action="store_true")
        else:
            parser.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    report = main(EvalConfig(**vars(parser.parse_args())))
    print(json.dumps({k: v for k, v in report.items() if k != "config"}, indent=2, ensure_ascii=False))
