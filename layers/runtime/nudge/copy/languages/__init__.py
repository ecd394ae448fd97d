"""Copy in the customer's language: one copy pack per language besides English.

English copy lives in `nudge/copy/phrasebook.json` and `seed_copy.json`, with its guardrails in
nudge.copy.guardrails. Every other language the copywriter writes has a pack here, written for the
project by people (no teacher model writes these languages offline):

    languages/<language>/phrasebook.json   every sentence the copywriter may send in that language
                                           (the English schema; slots and facts as in English)
    languages/<language>/seed_copy.json    reviewed fallback copy, 3 variants per campaign, tone and field
    languages/<language>/rules.json        the language's guardrails: banned phrases, number words,
                                           currency words, words true of one campaign only, slot
                                           defaults, punctuation beyond English's, and its script

A pack's guardrails are English's rules in that language: digits in every script (Chinese numerals
included: every character with a Unicode numeric value is a digit), currency and number words,
banned phrases; Latin-script languages measure length in words with ~20% more room, Chinese in
characters (nudge.copy.guardrails.CJK_LIMITS).

The language of an email's copy is the customer's locale's language when the copywriter writes it,
else the store's default locale's, else English (`copy_language`); the fixed wording follows the
copy's language (nudge.i18n.choose_language `written_in`), so an email is in one language.

>>> copy_language("fr_FR", default_locale="en_GB"), copy_language("pt_BR", default_locale="en_GB")
('fr', 'en')
>>> copy_language("zh_CN", default_locale="en_GB"), copy_language("pt_PT", default_locale="de_DE")
('zh_Hans', 'de')
>>> present("zh_Hans", "您好。 我们为您挑选了 Blue Mug。")
'您好。我们为您挑选了 Blue Mug。'
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from babel import Locale, UnknownLocaleError

from nudge.copy.guardrails import CJK_LIMITS, ENGLISH, FIELDS, LATIN_LIMITS, SLOTS, LanguageRules
from nudge.errors import ConfigError

SOURCE_LANGUAGE = "en"
LANGUAGE_PACKS = ("fr", "de", "es", "it", "nl", "zh_Hans")  # copy languages besides English, each with a folder here
COPY_LANGUAGES = (SOURCE_LANGUAGE, *LANGUAGE_PACKS)
PACK_FILES = ("phrasebook.json", "seed_copy.json", "rules.json")
LATIN_INTRO_SCALE = 1.2  # a campaign's intro_max_words, in a longer Latin-script language
CJK_INTRO_SCALE = 2.7  # ... in characters: 40 words -> 108 characters, 45 -> 121
_CJK_SPACE_RE = re.compile(r"(?<=[。！？，：；])\s+")


def _check_language(language: str) -> None:
    if language not in COPY_LANGUAGES:
        raise ConfigError(f"no copy pack for language {language!r}; expected one of {COPY_LANGUAGES}")


def read_pack_file(language: str, name: str) -> dict[str, Any]:
    """One JSON file of a language's pack (not English: its files live in nudge/copy)."""
    _check_language(language)
    if language == SOURCE_LANGUAGE or name not in PACK_FILES:
        raise ConfigError(f"expected a pack file {PACK_FILES} of one of {LANGUAGE_PACKS}, got {language}/{name}")
    try:
        text = resources.files("nudge.copy.languages").joinpath(language, name).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"copy pack {language}: missing {name}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"copy pack {language}/{name}: not JSON ({exc})") from exc


@cache
def rules_for(language: str) -> LanguageRules:
    """The guardrails copy in `language` is checked with."""
    _check_language(language)
    if language == SOURCE_LANGUAGE:
        return ENGLISH
    raw = read_pack_file(language, "rules.json")
    missing = [k for k in ("script", "banned_phrases", "number_words", "currency_words", "campaign_terms", "slot_defaults") if k not in raw]
    if missing:
        raise ConfigError(f"copy pack {language}/rules.json: missing {', '.join(missing)}")
    cjk = raw["script"] == "cjk"
    return LanguageRules.build(
        language=language, script=raw["script"], banned=tuple(raw["banned_phrases"]), number_words=tuple(raw["number_words"]),
        currency_words=tuple(raw["currency_words"]), campaign_terms={k: tuple(v) for k, v in raw["campaign_terms"].items()},
        extra_punctuation=raw.get("extra_punctuation", ""), limits=CJK_LIMITS if cjk else LATIN_LIMITS,
        intro_scale=CJK_INTRO_SCALE if cjk else LATIN_INTRO_SCALE, say_once=tuple(raw.get("say_once", ())),
    )


@cache
def slot_defaults(language: str) -> dict[str, str]:
    """What each slot says in `language` when the data has nothing (English: nudge.copy.slots.SLOT_DEFAULTS)."""
    from nudge.copy.slots import SLOT_DEFAULTS

    _check_language(language)
    if language == SOURCE_LANGUAGE:
        return dict(SLOT_DEFAULTS)
    defaults = read_pack_file(language, "rules.json")["slot_defaults"]
    missing = [slot for slot in SLOTS if not str(defaults.get(slot, "")).strip()]
    if missing:
        raise ConfigError(f"copy pack {language}/rules.json: slot_defaults lacks {', '.join(missing)}")
    return {slot: str(defaults[slot]) for slot in SLOTS}


@cache  # once per (locale, store locale) in a container: it runs for every job
def copy_language(requested: str, *, default_locale: str) -> str:
    """The language an email's copy is written in: the customer's locale's when a pack (or English) covers it,
    else the store's default locale's, else English."""
    from nudge.i18n import catalog_language

    for tag in (requested, default_locale):
        try:
            locale = Locale.parse((tag or "").strip().replace("-", "_"))
        except (UnknownLocaleError, ValueError, TypeError):
            continue
        language = catalog_language(locale)
        if language in COPY_LANGUAGES:
            return language
    return SOURCE_LANGUAGE


def present(language: str, text: str) -> str:
    """Copy as the reader sees it: sentences of a language written without spaces lose the space the
    phrasebook joins them with (the model's format keeps it: one token boundary per sentence)."""
    return _CJK_SPACE_RE.sub("", text) if rules_for(language).script == "cjk" else text


def check_pack(language: str) -> dict[str, Any]:
    """Every problem of a language's pack: each expanded line and fallback field against the language's guardrails,
    and coverage (each campaign and tone can write a whole email for a customer with no facts and with all of them)."""
    from nudge.campaigns import TONES, get_campaign, load_campaigns
    from nudge.copy.guardrails import allowed_slots, check_copy
    from nudge.copy.phrasebook import CUSTOMER_FACTS, Phrasebook, sentences
    from nudge.copy.writer import SeedCopy

    problems: list[str] = []
    rules = rules_for(language)
    slot_defaults(language)
    book = Phrasebook.load(language)
    by_campaign: dict[str, dict[str, int]] = {}
    for line in book.lines:
        by_campaign.setdefault(line.campaign_type, {}).setdefault(line.role, 0)
        by_campaign[line.campaign_type][line.role] += 1
        limit = get_campaign(line.campaign_type).copy.intro_max_words
        found = check_copy(line.text, allowed_slots=allowed_slots(line.facts), field=line.field, campaign_type=line.campaign_type,
                           max_words=limit if line.field == "intro" else None, rules=rules)
        if line.field == "intro":  # one sentence of an intro; the whole intro's length is checked where it is drawn
            found = [code for code in found if code != "too_short"]
            if sentences(line.text) != [line.text]:
                found.append("not_one_sentence")
        if not line.facts <= set(CUSTOMER_FACTS) | {"unhappy", "birthday", "holiday"}:
            found.append("unknown_need")
        problems.extend(f"line:{code}: {line.campaign_type}/{line.role}: {line.text}" for code in found)
    campaigns = list(load_campaigns())
    every_fact = {"first_name", "last_bought", "cart_item", "tier", "occasion", "material", "colour"}
    for campaign in campaigns:
        for tone in TONES:
            for facts in (set(), every_fact | {"birthday"}, every_fact | {"holiday"}):
                for role in ("subject", "preheader", "open", "body", "close"):
                    if not book.choices(campaign, role, tone, facts):
                        problems.append(f"coverage: {campaign}/{tone}/{role}: no line for a customer with facts {sorted(facts) or 'none'}")
    seed = SeedCopy.load(language)
    fields = 0
    for campaign in campaigns:
        limit = get_campaign(campaign).copy.intro_max_words
        for tone in TONES:
            for name in FIELDS:
                try:
                    variants = seed.variants(campaign, tone, name)
                except (ConfigError, KeyError):
                    problems.append(f"seed:missing: {campaign}/{tone}/{name}")
                    continue
                if len(variants) < 3:
                    problems.append(f"seed:few_variants: {campaign}/{tone}/{name}: {len(variants)}")
                for text in variants:
                    fields += 1
                    found = check_copy(text, allowed_slots={"product", "store_name"}, field=name, campaign_type=campaign,
                                       max_words=limit if name == "intro" else None, rules=rules)
                    problems.extend(f"seed:{code}: {campaign}/{tone}/{name}: {text}" for code in found)
    return {"language": language, "lines": len(book.lines), "fallback_fields": fields, "by_campaign": by_campaign,
            "problems": problems}


__all__ = ["COPY_LANGUAGES", "LANGUAGE_PACKS", "SOURCE_LANGUAGE", "check_pack", "copy_language", "present", "read_pack_file",
           "rules_for", "slot_defaults"]
