"""Copy in the customer's language: GIVEN each copy pack (French, German, Spanish, Italian, Dutch, Chinese) WHEN expanded and
checked THEN every line passes that language's guardrails and every campaign can write a whole email; the
guardrails catch facts in each script; the customer's locale picks the language, and a brief in a language
is written in it, fixed wording following."""

from dataclasses import replace

import pytest

from nudge.copy.guardrails import check_copy
from nudge.copy.languages import COPY_LANGUAGES, LANGUAGE_PACKS, check_pack, copy_language, present, rules_for, slot_defaults
from nudge.copy.phrasebook import Phrasebook, sentences
from nudge.copy.writer import Copywriter, CopyBrief
from nudge.errors import ConfigError

BRIEF = CopyBrief(campaign_type="win_back", tone="caring", first_name="Léa", product_names=("Blue Mug",),
                  categories=("Mugs",), store_name="Kiln", seed_key="spring:c-1", last_bought="Oak Board")


@pytest.mark.parametrize("language", LANGUAGE_PACKS)
def test_every_line_and_fallback_of_each_pack_passes_its_guardrails_and_covers_every_campaign(language):
    report = check_pack(language)
    assert report["problems"] == []
    assert report["lines"] >= 300 and report["fallback_fields"] == 6 * 6 * 3 * 3


@pytest.mark.parametrize("language", LANGUAGE_PACKS)
def test_no_pack_line_puts_an_english_catalog_word_inside_its_grammar(language):
    # category, colour, material and occasion values are the store's English words: a French sentence cannot
    # agree with them, so the packs name only products, the store, the name, the tier and the cart item
    used = {slot for line in Phrasebook.load(language).lines for slot in line.facts}
    assert not used & {"occasion", "material", "colour"}
    assert not any("{category}" in line.text for line in Phrasebook.load(language).lines)


@pytest.mark.parametrize("text, code", [
    ("我们为您挑选了三款{product}。", "digit"),  # a Chinese numeral is a number like 3
    ("全场免费送货给您。", "banned_phrase:免费"),
    ("只要几十元就能带回家。", "currency"),
])
def test_chinese_guardrails_catch_numerals_money_and_claims_without_word_boundaries(text, code):
    found = check_copy(text, field="intro", rules=rules_for("zh_Hans"))
    assert any(v.startswith(code) for v in found), found


def test_chinese_length_is_counted_in_characters_and_its_exclamation_marks_count():
    zh = rules_for("zh_Hans")
    assert check_copy("您好", field="subject", rules=zh) == ["too_short"]  # 2 characters, not 1 word
    assert check_copy("好消息！好心情！{product}", field="subject", rules=zh) == ["exclamation"]
    assert check_copy("谢谢您，{first_name}", field="subject", rules=zh) == []  # 谢谢 doubles by nature


@pytest.mark.parametrize("language, text, code", [
    ("fr", "Profitez de la livraison gratuite sur {product}.", "banned_phrase"),
    ("de", "Nur heute: {product} für zehn Euro.", "number_word"),
    ("es", "Te regalamos {product} por cinco euros.", "currency"),
])
def test_latin_packs_catch_money_numbers_and_claims_in_their_own_words(language, text, code):
    found = check_copy(text, field="intro", rules=rules_for(language))
    assert any(v.startswith(code) for v in found), found


def test_english_rules_are_unchanged_by_the_packs():
    assert check_copy("Save 20% today", field="subject") == check_copy("Save 20% today", field="subject", rules=rules_for("en"))
    assert check_copy("Profitez de la livraison gratuite.", field="preheader") == []  # French words mean nothing to English rules


@pytest.mark.parametrize("requested, default, expected", [
    ("fr_FR", "en_GB", "fr"), ("de-AT", "en_GB", "de"), ("es_MX", "en_GB", "es"), ("zh_CN", "en_GB", "zh_Hans"),
    ("it_IT", "en_GB", "it"), ("nl_BE", "en_GB", "nl"), ("zh_TW", "en_GB", "en"), ("pt_BR", "fr_FR", "fr"), ("", "en_US", "en"),
    ("xx", "zz", "en"),
])
def test_the_customers_locale_picks_the_copy_language_else_the_stores(requested, default, expected):
    assert copy_language(requested, default_locale=default) == expected


def test_chinese_sentences_lose_the_space_the_model_format_keeps():
    assert present("zh_Hans", "您好。 我们想您了！ 欢迎回来。") == "您好。我们想您了！欢迎回来。"
    assert present("fr", "Bonjour. À bientôt.") == "Bonjour. À bientôt."
    assert sentences("您好。 我们想您了！") == ["您好。", "我们想您了！"]


@pytest.mark.parametrize("language", COPY_LANGUAGES)
def test_every_language_says_something_for_every_missing_slot(language):
    defaults = slot_defaults(language)
    assert all(value.strip() for value in defaults.values())


def test_a_writer_hands_each_brief_to_its_languages_copywriter_and_keeps_the_order():
    # GIVEN briefs in four languages and a copywriter without models (reviewed copy only)
    writer = Copywriter.load(None)
    briefs = [replace(BRIEF, language=lang, seed_key=f"k-{i}") for i, lang in enumerate(["fr", "en", "zh_Hans", "de", "fr"])]
    # WHEN it writes them
    copies = writer.write_batch(briefs)
    # THEN each copy is in its brief's language, from that language's reviewed copy, in the order given
    assert [c.language for c in copies] == ["fr", "en", "zh_Hans", "de", "fr"]
    for brief, copy in zip(briefs, copies):
        book = Phrasebook.load(brief.language)
        assert copy.source == "fallback"
        assert book.gate("subject", copy.subject.replace("Blue Mug", "{product}").replace("Kiln", "{store_name}").replace("Léa", "{first_name}")) == []
    assert "  " not in copies[2].intro and " " not in copies[2].intro.replace("Blue Mug", "")  # no space between Chinese sentences
    assert writer.counters["fallback"] == 5


def test_a_language_without_a_pack_is_a_config_error():
    with pytest.raises(ConfigError, match="expected one of"):
        Copywriter.load(None).write_batch([replace(BRIEF, language="pt")])


@pytest.mark.parametrize("language", COPY_LANGUAGES)
def test_fallback_cart_copy_names_the_cart_item_where_it_says_it_is_in_the_cart(language):
    # GIVEN an abandoned-cart brief whose featured product is a suggestion beside the cart item, and no model
    brief = replace(BRIEF, campaign_type="abandoned_cart", tone="helpful", product_names=("Oak Board",), cart_item="Linen Throw",
                    language=language)
    # WHEN the reviewed copy is written ("... {product} is still in your cart ...", "Votre panier contient toujours {product}")
    copies = Copywriter.load(None).write_batch([replace(brief, seed_key=f"k{i}") for i in range(12)])
    # THEN the thing it says is in the cart is the cart item, never the suggestion
    assert all(c.source == "fallback" and "Oak Board" not in c.subject + c.preheader + c.intro for c in copies)


@pytest.mark.parametrize("language", LANGUAGE_PACKS)
def test_each_pack_names_the_phrases_an_intro_says_once_and_the_scorer_counts_them(language):
    from nudge.copy.writer import personal_score

    say_once = rules_for(language).say_once
    assert say_once and all(p == p.lower() for p in say_once)
    phrase = say_once[0]
    twice = {"subject": "x", "preheader": "y", "intro": f"{phrase} {{product}}. {phrase} {{last_bought}}."}
    once = {"subject": "x", "preheader": "y", "intro": f"{phrase} {{product}}. {{last_bought}}."}
    assert personal_score(twice, say_once) < personal_score(once, say_once)


@pytest.mark.parametrize("language, label", [("fr", "Argent"), ("de", "Silber"), ("zh_Hans", "银卡"), ("en", "Silver")])
def test_a_standard_tier_reads_in_the_copys_language_as_the_loyalty_box_shows_it(language, label):
    # GIVEN a silver member (the data says "silver"); the renderer's box says "Argent" to a French reader
    brief = replace(BRIEF, campaign_type="loyalty", tone="grateful", tier="silver", language=language)
    # THEN the copy's {tier} says the same word, not the English data value
    assert brief.slot_values()["tier"] == label
    assert replace(brief, tier="Founders").slot_values()["tier"] == "Founders"  # a store's own tier: as the data has it
