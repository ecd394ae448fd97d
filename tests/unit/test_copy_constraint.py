"""Constrained decoding: GIVEN the phrasebook and the shipped tokenizer WHEN a completion is walked
token by token THEN every phrasebook email for the customer's facts is a path, anything else is not,
and any path at all ends in copy that passes the gate and uses only the customer's facts."""

import random
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from nudge.copy.constraint import ConstraintCache, build_constraint
from nudge.copy.guardrails import BASE_SLOTS
from nudge.copy.phrasebook import Phrasebook, slots_in
from nudge.copy.prompt import format_completion, parse_completion

TOKENIZER = Path(__file__).parents[2] / "layers" / "model" / "copywriter" / "tokenizer.json"
pytestmark = pytest.mark.skipif(not TOKENIZER.is_file(), reason="no shipped copywriter tokenizer")


@pytest.fixture(scope="module")
def encode():
    tokenizer = Tokenizer.from_file(str(TOKENIZER))
    return lambda text: tokenizer.encode(text, add_special_tokens=False).ids


@pytest.fixture(scope="module")
def decode():
    tokenizer = Tokenizer.from_file(str(TOKENIZER))
    return lambda ids: tokenizer.decode(ids, skip_special_tokens=True)


def walk(constraint, tokens):
    """Feed `tokens`; the index of the first one not allowed, or None when all were."""
    state = constraint.start()
    for i, token in enumerate(tokens):
        if token not in set(constraint.allowed(state).tolist()):
            return i
        state = constraint.advance(state, token)
    return None


def test_a_phrasebook_email_for_the_customers_facts_is_a_path_token_by_token(encode):
    book = Phrasebook.load()
    facts = frozenset({"first_name", "cart_item", "colour"})
    constraint = build_constraint(encode, book, "abandoned_cart", "helpful", facts)
    completion = format_completion(
        subject="{first_name}, you left {cart_item} in your cart",
        preheader="Your cart still holds {cart_item}, {first_name}.",
        intro="Hi {first_name}, just a friendly reminder that you left {cart_item} in your cart. "
              "We think {product} in {colour} would go well with {cart_item}. Your cart is here whenever you are ready.")
    assert walk(constraint, encode(completion)) is None


@pytest.mark.parametrize("intro", [
    "We kept your picks are safe for you.",  # a splice
    "Hi {first_name}, just a friendly reminder that you left {cart_item} in your cart.",  # no body sentence
    "Hi {first_name}, just a friendly reminder that you left {cart_item} in your cart. "
    "If you like {cart_item}, {product} in {material} might be just right too.",  # material: a fact the customer lacks
])
def test_a_splice_a_missing_fact_or_a_broken_shape_is_not_a_path(encode, intro):
    constraint = build_constraint(encode, Phrasebook.load(), "abandoned_cart", "helpful",
                                  frozenset({"first_name", "cart_item", "colour"}))
    completion = format_completion(subject="{first_name}, you left {cart_item} in your cart",
                                   preheader="Your cart still holds {cart_item}, {first_name}.", intro=intro)
    assert walk(constraint, encode(completion)) is not None


@pytest.mark.parametrize("campaign,tone,facts", [
    ("new_arrivals", "excited", {"first_name", "colour"}),
    ("loyalty", "grateful", {"tier"}),
    ("birthday_holiday", "caring", {"first_name", "occasion", "unhappy", "last_bought"}),
    ("win_back", "caring", set()),
    ("clearance", "urgent", {"first_name", "material", "last_bought"}),
])
def test_any_walk_through_the_constraint_is_gated_copy_with_the_customers_facts_only(encode, decode, campaign, tone, facts):
    # GIVEN random walks (any allowed token, uniformly) WHEN the walk ends THEN the text parses into
    # three fields, every sentence passes the grammar gate, and no slot needs a fact the customer lacks
    book, rng = Phrasebook.load(), random.Random(7)
    constraint = build_constraint(encode, book, campaign, tone, frozenset(facts))
    for _ in range(60):
        state, tokens = constraint.start(), []
        while len(tokens) < 200:
            token = int(rng.choice(constraint.allowed(state).tolist()))
            tokens.append(token)
            state = constraint.advance(state, token)
            if token == constraint.newline_id and state.node is None:
                break
        fields = parse_completion(decode(tokens))
        assert fields is not None and book.gate_fields(fields) == [], decode(tokens)
        used = set().union(*(slots_in(v) for v in fields.values()))
        assert used <= set(BASE_SLOTS) | set(facts), (used, facts)


def test_constraints_are_built_once_per_combination(encode):
    cache = ConstraintCache(encode, Phrasebook.load())
    first = cache.get("loyalty", "grateful", frozenset({"tier"}))
    assert cache.get("loyalty", "grateful", frozenset({"tier"})) is first
    assert isinstance(first.allowed(first.start()), np.ndarray)


def test_a_close_that_says_them_follows_only_a_sentence_that_names_several_things(encode):
    # GIVEN the new-arrivals constraint WHEN the intro so far names one product THEN "We hope you enjoy them
    # as much as we do." is not a path (no antecedent: found reading copy_sample.md); after "Our newest
    # {category} pieces are here." it is
    constraint = build_constraint(encode, Phrasebook.load(), "new_arrivals", "excited", frozenset())

    def email(intro):
        return encode(format_completion(subject="Meet {product}", preheader="We picked {product} for you.", intro=intro))

    close = " We hope you enjoy them as much as we do."
    assert walk(constraint, email("Good news from {store_name}! {product} caught our eye." + close)) is not None
    assert walk(constraint, email("Our newest {category} pieces are here. {product} caught our eye." + close)) is None
    assert walk(constraint, email("Good news from {store_name}! {product} caught our eye. Happy browsing!")) is None
