"""What language the demo's emails are in, read back from the written emails (issue #15).

Per customer language (the catalog language of the customer's locale, nudge.i18n): how many emails, the
language their copy was written in (the record's `copy.language`) and whether the model wrote it, how many
carry a fragment of the English catalog in their text part, the store's product names taken out (`data_values`) (scripts/i18n.py
`english_chrome`: what a French, German, Spanish, Italian, Dutch or Chinese reader must not see), and how many have an `<html lang>` that
does not match the customer's locale ("fr-FR" for fr_FR, "zh-Hans-CN" for zh_CN). `make demo` writes it to
build/reports/demo_languages.json with the issue's bars checked (`failed_bars`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from nudge_local.export import mime_part

_HTML_LANG = re.compile(r'<html [^>]*\blang="([^"]+)"')
NOT_ENGLISH = ("fr", "de", "es", "it", "nl", "zh_Hans")  # the bar: these customers read no English chrome


def language_report(out_dir: Path, entries: Iterable[Mapping[str, Any]], *, data_values: Iterable[str] = ()) -> dict[str, Any]:
    """`data_values`: the store's own words (its product names), taken out of each text before looking for English
    chrome: "Because you bought Yarrow Recycled Silver Hoop Earrings" in French has a product called "Silver ...",
    not the English tier name."""
    from babel import Locale

    from nudge.i18n import catalog_language
    from scripts.i18n import english_chrome

    chrome: dict[str, list[str]] = {}
    data = sorted({v for v in data_values if v and v.strip()}, key=len, reverse=True)
    subjects: dict[str, set[str]] = {}  # filled subjects, for a rough variety figure per language
    by_language: dict[str, dict[str, Any]] = {}
    for entry in entries:
        record = json.loads((out_dir / entry["json_path"]).read_text(encoding="utf-8"))
        requested = record["language"]["requested"] if record.get("language") else ""
        try:
            locale = Locale.parse(requested.replace("-", "_"))
            language = catalog_language(locale) or "none"
        except (ValueError, TypeError):
            locale, language = None, "none"
        counts = by_language.setdefault(language, {"emails": 0, "copy_language": {}, "copy_by_model": 0,
                                                   "with_english_chrome": 0, "lang_mismatch": 0, "examples": []})
        counts["emails"] += 1
        written = record["copy"].get("language", "en")
        counts["copy_language"][written] = counts["copy_language"].get(written, 0) + 1
        counts["copy_by_model"] += record["copy"]["source"] == "model"
        subjects.setdefault(language, set()).add(record["copy"]["subject"])
        if language in NOT_ENGLISH:
            text = mime_part((out_dir / entry["eml_path"]).read_bytes(), "plain")
            for value in data:  # the store's data, in its own language, longest first
                if value in text:
                    text = text.replace(value, " ")
            if language not in chrome:  # read from the catalogs once per language, not once per email
                chrome[language] = english_chrome(language)
            fragments = chrome[language]
            found = [f for f in fragments if f in text]
            counts["with_english_chrome"] += bool(found)
            page = (out_dir / entry["html_path"]).read_text(encoding="utf-8")
            tag = (_HTML_LANG.search(page) or [None, ""])[1]
            expected = "-".join(filter(None, [locale.language, locale.script, locale.territory])) if locale else ""
            if language == "zh_Hans" and locale is not None and not locale.script:
                expected = f"zh-Hans-{locale.territory}" if locale.territory else "zh-Hans"
            mismatch = tag.lower() != expected.lower()
            counts["lang_mismatch"] += mismatch
            if (found or mismatch) and len(counts["examples"]) < 5:
                counts["examples"].append({"email": entry["json_path"], "english": found[:3], "lang": tag, "expected": expected})
    for language, counts in by_language.items():
        counts["distinct_subjects"] = len(subjects.get(language, ()))
    return {"by_language": dict(sorted(by_language.items()))}


def failed_bars(report: Mapping[str, Any]) -> list[str]:
    """Issue #15's demo bars: no English chrome and a matching lang for every fr/de/es/it/nl/zh customer."""
    failed = []
    for language in NOT_ENGLISH:
        counts = report["by_language"].get(language)
        if counts is None:
            failed.append(f"{language}: no email in the demo")
            continue
        if counts["with_english_chrome"]:
            failed.append(f"{language}: {counts['with_english_chrome']} emails with English chrome")
        if counts["lang_mismatch"]:
            failed.append(f"{language}: {counts['lang_mismatch']} emails whose lang does not match the locale")
    return failed


__all__ = ["NOT_ENGLISH", "failed_bars", "language_report"]
