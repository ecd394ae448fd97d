"""Guardrails: GIVEN unfilled copy WHEN checked THEN exactly the broken rules are reported."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nudge.copy.guardrails import BANNED_PHRASES, FIELD_LIMITS, SLOTS, check_copy, check_fields

CLEAN_INTRO = "Hi {first_name}, we picked {product} and a few {category} pieces for you at {store_name}."


def codes(text, **kwargs):
    kwargs.setdefault("allowed_slots", SLOTS)
    return check_copy(text, **kwargs)


def test_clean_copy_passes():
    assert codes(CLEAN_INTRO) == []
    assert codes("{first_name}, your picks are in", field="subject") == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Hi {first_name}, we picked 3 lovely pieces for you and your home today.", "digit"),
        ("Hi {first_name}, we picked ³ lovely pieces for you and your home here.", "digit"),
        ("Hi {first_name}, we picked three lovely pieces for you and your home here.", "number_word"),
        ("Hi {first_name}, everything is just £ away from being yours, lovely pieces.", "currency"),
        ("Hi {first_name}, everything costs a few euros now, lovely pieces for you.", "currency"),
        ("Hi {first_name}, prices in GBP have dropped on these lovely pieces for you.", "currency"),
        ("Hi {first_name}, enjoy % off these lovely pieces we picked for you.", "percent"),
        ("Hi {first_name}, visit https://evil.example for lovely pieces we picked.", "url"),
        ("Hi {first_name}, visit www.shop for lovely pieces we picked just for you.", "url"),
        ("Hi {first_name}, visit kiln.com for the lovely pieces we picked for you.", "url"),
        ("Hi {first_name}, write to help@kiln.example about these lovely pieces now.", "email"),
        ("Hi {first_name}, we picked {price} and a few lovely pieces just for you.", "unknown_slot:price"),
        ("Hi {first_name}, we picked {product and a few lovely pieces just for you.", "stray_brace"),
        ("Hi {first_name}, we picked <b>lovely</b> pieces and a few more just for you.", "markup"),
        ("Hi {first_name}, we picked lovely pieces & a few more things just for you.", "markup"),
        ("Hi {first_name}, we picked lovely\u200b pieces and a few more just for you.", "control_char"),
        ("Hi {first_name}, we picked lovely\npieces and a few more just for you.", "control_char"),
        ("Hi {first_name}, we picked lovely pieces 🎉 and a few more just for you.", "symbol"),
        ("Hi {first_name}, we picked lovely pieces and a few more, all FREE for you.", "banned_phrase:free"),
        ("Hi {first_name}, act now on these lovely pieces we picked just for you.", "banned_phrase:act now"),
        ("Hi {first_name}, click here for lovely pieces we picked just for you.", "banned_phrase:click here"),
        ("Hi {first_name}, we guarantee you will love these pieces we picked.", "banned_phrase:guarantee"),
        ("Hi {first_name}, for a limited time these lovely pieces are yours to enjoy.", "banned_phrase:limited time"),
        ("Hi {first_name}, we picked LOVELY pieces and a few more just for you.", "shouting"),
        ("Hi {first_name}! Lovely pieces! A few more! Just for you!", "exclamation"),
        ("Hi {first_name}, we picked the the lovely pieces and a few more for you.", "repetition"),
        ("Hi {first_name}, lovely pieces for you, lovely pieces for you, lovely pieces.", "repetition"),
        ("Hi {first_name}", "too_short"),
        ("Hi {first_name}, " + "we picked lovely pieces just for you and " * 8 + "more.", "too_long"),
        ("", "empty"),
    ],
)
def test_each_rule_names_its_violation(text, code):
    # GIVEN unfilled copy breaking one rule WHEN checked THEN that rule's code is reported
    assert code in codes(text), codes(text)


def test_banned_phrase_100_percent_is_caught_even_without_digit_rule():
    assert "banned_phrase:100%" in codes("Hi {first_name}, you will be 100% happy with these pieces we picked.")


def test_banned_phrases_are_matched_on_word_boundaries():
    # "freedom" is not "free"; "codes" is not "code"
    assert codes("Hi {first_name}, enjoy the freedom of these lovely pieces we picked for you.") == []


def test_curly_apostrophes_are_folded_before_phrase_matching():
    assert "banned_phrase:you've won" in codes("Hi {first_name}, you’ve won a look at lovely pieces we picked.")


def test_campaign_terms_are_violations_in_other_campaigns():
    text = "Hi {first_name}, your cart still holds {product}, ready whenever you are."
    assert codes(text, campaign_type="abandoned_cart") == []
    assert "off_campaign:cart" in codes(text, campaign_type="clearance")


def test_field_bounds_differ_per_field_and_max_words_tightens_them():
    long_subject = "Hi {first_name}, we picked a few lovely pieces that we think suit your style"
    assert "too_long" in codes(long_subject, field="subject")
    assert "too_long" not in codes(long_subject, field="intro")
    assert "too_long" in codes(CLEAN_INTRO, field="intro", max_words=5)
    assert FIELD_LIMITS["subject"].max_chars < FIELD_LIMITS["intro"].max_chars


def test_unknown_field_is_a_programming_error():
    with pytest.raises(ValueError, match="field must be one of"):
        codes(CLEAN_INTRO, field="footer")


def test_check_fields_prefixes_codes_with_the_field():
    out = check_fields({"subject": "Save now {first_name}", "preheader": "A short note for you.", "intro": CLEAN_INTRO})
    assert out == ["subject:banned_phrase:save"]


def test_banned_list_is_lower_case_so_matching_is_case_insensitive():
    assert all(p == p.lower() for p in BANNED_PHRASES)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=200))
def test_any_text_with_a_digit_is_rejected(text):
    # GIVEN arbitrary text with a digit inserted WHEN checked THEN "digit" is always reported
    assert "digit" in codes(text + " 7 " + text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_check_copy_never_raises_on_arbitrary_text(text):
    assert isinstance(codes(text), list)


@pytest.mark.parametrize("text", ["Hi {first_name}, #cosy picks for you.", "Hi {first_name}, mugs and/or lamps for you.",
                                  "Hi {first_name}, a picks* for you.", "Hi {first_name}, ~ picks for you."])
def test_stray_symbols_that_no_other_rule_names_are_symbol_violations(text):
    assert "symbol" in codes(text, field="preheader")
