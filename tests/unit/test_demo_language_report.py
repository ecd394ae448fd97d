"""The demo's language report (nudge_local.language_report): GIVEN emails rendered for customers in several
locales, their copy in a known language WHEN read back from disk THEN each customer language counts its emails,
the copy's language, English chrome and lang mismatches, and the bars fail on an English email to a French reader."""

from __future__ import annotations

import json

from nudge.render import render_email, samples
from nudge_local.language_report import NOT_ENGLISH, failed_bars, language_report


def write(tmp_path, name, locale, written_in):
    rendered = render_email(**samples.email_args("win_back", customer=samples.customer(locale=locale), items=samples.keyed_items(),
                                                 copy=samples.copy(language=written_in)))
    folder = tmp_path / name
    folder.mkdir()
    (folder / "email.html").write_text(rendered.html, encoding="utf-8")
    (folder / "email.eml").write_bytes(rendered.eml)
    record = {"language": rendered.language.record(), "copy": {"language": written_in, "source": "fallback", "subject": rendered.subject}}
    (folder / "email.json").write_text(json.dumps(record), encoding="utf-8")
    return {"json_path": f"{name}/email.json", "html_path": f"{name}/email.html", "eml_path": f"{name}/email.eml"}


def test_every_language_in_its_own_words_passes_and_an_english_email_to_a_french_reader_fails(tmp_path):
    # GIVEN one email per customer language, each written in it
    locales = {"fr": "fr_FR", "de": "de_DE", "es": "es_ES", "it": "it_IT", "nl": "nl_NL", "zh_Hans": "zh_CN"}
    entries = [write(tmp_path, language, locale, language) for language, locale in locales.items()]
    report = language_report(tmp_path, entries + [write(tmp_path, "en", "en_GB", "en")])
    # THEN every language counts one email in its own words, no English chrome, a matching lang, and no bar fails
    for language in NOT_ENGLISH:
        counts = report["by_language"][language]
        assert counts["copy_language"] == {language: 1} and counts["with_english_chrome"] == 0 and counts["lang_mismatch"] == 0
    assert failed_bars(report) == []
    # WHEN a French customer's copy (and so the wording) is English instead
    report = language_report(tmp_path, entries + [write(tmp_path, "fr_in_english", "fr_FR", "en")])
    # THEN the report counts English chrome and a lang of en-GB where fr-FR was due, and the bars say so
    french = report["by_language"]["fr"]
    assert french["with_english_chrome"] == 1 and french["lang_mismatch"] == 1
    assert french["examples"][0]["expected"] == "fr-FR" and french["examples"][0]["english"]
    assert any(bar.startswith("fr: 1 emails with English chrome") for bar in failed_bars(report))
