"""Slot filling with hostile facts: GIVEN data values that try to inject markup, invent facts or
break a subject line WHEN filled into reviewed or model copy THEN the email text stays plain,
single-line and bounded, and the data's own facts (digits in a product name) stay as data; a
category before a head noun reads as a modifier ("planter pieces") without guessing at unknown words."""

from nudge.copy.guardrails import check_copy
from nudge.copy.slots import SLOT_DEFAULTS, SLOT_MAX_CHARS, clean_name, clean_value, fill_slots, slot_values
from nudge.copy.writer import Copywriter, CopyBrief

import pytest

TEMPLATE = "{first_name}, {product} is waiting in {category} at {store_name}"


def write(**overrides):
    brief = dict(
        campaign_type="abandoned_cart", tone="helpful", first_name="Ada", product_names=("Blue Mug",),
        categories=("Mugs",), store_name="Kiln", seed_key="spring:c-1",
    )
    brief.update(overrides)
    return Copywriter.load(None).write_batch([CopyBrief(**brief)])[0]


def all_text(copy):
    return " ".join([copy.subject, copy.preheader, copy.intro])


def test_product_name_with_digits_is_a_fact_and_stays():
    copy = write(product_names=("Mug 2.0 (350 ml)",))
    assert "Mug 2.0 (350 ml)" in all_text(copy) or "Mug 2.0" in all_text(copy)
    assert "{" not in all_text(copy)


def test_price_in_a_product_name_is_kept_verbatim_not_invented():
    # The price is the catalog's own text; the copy adds no other number.
    copy = write(product_names=("Gift Card £25",))
    digits = {ch for ch in all_text(copy) if ch.isdigit()}
    assert digits <= {"2", "5"}


def test_html_in_a_product_name_never_leaks_as_markup():
    copy = write(product_names=('<img src=x onerror="alert(1)">Blue <b>Mug</b>',))
    assert "<" not in all_text(copy) and ">" not in all_text(copy)
    assert "onerror" not in all_text(copy)


def test_script_in_a_product_name_is_dropped_with_its_body():
    assert clean_value("Mug<script>steal()</script>") == "Mug"


def test_html_entities_cannot_smuggle_markup():
    assert "<" not in clean_value("&lt;b&gt;Mug&lt;/b&gt; &amp;lt;i&amp;gt;")


def test_emoji_in_a_product_name_is_removed():
    assert clean_value("Sunny Mug ☀️🎉") == "Sunny Mug"


def test_very_long_product_name_is_cut_at_a_word_with_an_ellipsis():
    value = clean_value("Hand thrown stoneware mug " * 10, max_chars=SLOT_MAX_CHARS["product"])
    assert len(value) <= SLOT_MAX_CHARS["product"] and value.endswith("…")
    assert not value[:-1].endswith(" ")


def test_very_long_first_name_is_bounded():
    copy = write(first_name="Bartholomew " * 20)
    assert len(copy.subject) < 120


def test_newline_in_a_first_name_cannot_inject_a_header():
    copy = write(first_name="Ada\r\nBcc: eve@example.com")
    assert "\n" not in copy.subject and "\r" not in copy.subject
    assert "eve@example.com" not in all_text(copy)


def test_first_name_that_is_an_email_address_falls_back_to_the_default():
    assert clean_name("eve@example.com") == ""
    assert slot_values(first_name="eve@example.com")["first_name"] == SLOT_DEFAULTS["first_name"]


def test_slot_lookalike_in_a_value_is_not_expanded_again():
    out = fill_slots(TEMPLATE, {"first_name": "Ada", "product": "{store_name} Mug", "category": "Mugs", "store_name": "Kiln"})
    assert out.startswith("Ada, (store_name) Mug")


def test_template_braces_in_a_value_cannot_reach_a_template_engine():
    assert "{" not in clean_value("{{ config.secret }}") and "}" not in clean_value("{% raw %}")


def test_bidi_override_and_zero_width_characters_are_removed():
    assert clean_value("Mug\u202egnp.exe\u200b") == "Muggnp.exe"


def test_empty_values_get_readable_defaults():
    values = slot_values()
    assert values == SLOT_DEFAULTS


def test_unknown_slot_in_a_template_raises():
    from nudge.errors import GuardrailViolation

    with pytest.raises(GuardrailViolation, match="unknown slot"):
        fill_slots("Hi {email}", {"first_name": "Ada"})


def test_guardrails_run_on_unfilled_text_so_filled_digits_are_not_violations_of_the_model():
    template = "Hi {first_name}, {product} is still waiting for you in your cart."
    assert check_copy(template, field="intro") == []
    assert any(ch.isdigit() for ch in fill_slots(template, {"first_name": "Ada", "product": "Mug 2"}))


def test_a_value_at_a_sentence_start_is_capitalized():
    out = fill_slots("{first_name}, hello. {product} is back", {"first_name": "", "product": "oak board"})
    assert out == "Friend, hello. Oak board is back"


def test_first_name_filled_directly_is_cleaned_like_slot_values():
    assert fill_slots("Hi {first_name}", {"first_name": "eve@example.com"}) == "Hi friend"


@pytest.mark.parametrize(
    "category, expected",
    [
        ("Planters", "New Planter ideas for Ada, and more Planters."),
        ("games & puzzles", "New game & puzzle ideas for Ada, and more games & puzzles."),
        ("Glassware", "New Glassware ideas for Ada, and more Glassware."),  # uncountable: unchanged
        ("Tassen", "New Tassen ideas for Ada, and more Tassen."),  # not in the table: never guessed at
        ("", "New favourite ideas for Ada, and more favourites."),  # the default reads as a modifier too
    ],
)
def test_a_category_before_a_head_noun_reads_as_a_modifier(category, expected):
    # GIVEN copy using the category both as a modifier and as a noun
    template = "New {category} ideas for {first_name}, and more {category}."
    # WHEN filled THEN only the modifier use is singular, and only for plurals the table knows
    assert fill_slots(template, {"category": category, "first_name": "Ada"}) == expected


def test_a_category_before_a_singular_head_noun_reads_as_a_modifier_too():
    # "Oscar, your next scarves find" was read in 18 of the session-8 demo's new-arrival subjects
    assert fill_slots("{first_name}, your next {category} find", {"category": "scarves", "first_name": "Oscar"}) == \
        "Oscar, your next scarf find"


@pytest.mark.parametrize(
    "category, expected",
    [
        ("mugs", "Our mugs are ready. Some mugs are reduced."),  # was "Our mug pieces are ready"
        ("Photo Frames", "Our Photo Frames are ready. Some Photo Frames are reduced."),
        ("Games & Puzzles", "Our Games & Puzzles are ready. Some Games & Puzzles are reduced."),
        ("jewellery", "Our jewellery pieces are ready. Some jewellery pieces are reduced."),  # uncountable: keeps pieces
        ("Tassen", "Our Tassen pieces are ready. Some Tassen pieces are reduced."),  # not in the table: unchanged
    ],
)
def test_a_countable_plural_category_stands_for_pieces(category, expected):
    # GIVEN phrasebook lines saying "{category} pieces" (plural, so "are")
    template = "Our {category} pieces are ready. Some {category} pieces are reduced."
    # WHEN filled with a category that is itself a countable plural THEN it replaces "pieces", agreement intact
    assert fill_slots(template, {"category": category}) == expected


def test_a_category_before_a_verb_keeps_its_plural():
    assert fill_slots("New {category} picked for you", {"category": "Mugs"}) == "New Mugs picked for you"


def test_your_stays_before_a_birthday_and_goes_before_a_holiday():
    # GIVEN phrasebook lines written for "your {occasion}"
    lines = "Your {occasion} picks. We hope your {occasion} is full of good things, Ada."
    # THEN a birthday is the reader's own, a holiday is not
    assert fill_slots(lines, {"occasion": "birthday"}) == "Your birthday picks. We hope your birthday is full of good things, Ada."
    assert fill_slots(lines, {"occasion": "Mother's Day"}) == "Mother's Day picks. We hope Mother's Day is full of good things, Ada."
