"""The copywriter's text format: one prompt per brief, one completion with three fields.

This module is the contract between the offline scripts (corpus, training, evaluation) and the
runtime generator: both build prompts and parse completions only through these functions.

    clearance urgent neutral | kitchen, garden | kitchen | name bought colour
    Subject: {first_name}, sale picks to go with {last_bought}
    Preheader: Reduced pieces, picked for you.
    Intro: {first_name}, our clearance is on ...
    <eos>

The prompt line is campaign, tone and review mood, then the categories shown, then the categories
the customer bought before, then which facts this customer has (`FACT_WORDS`: a name, a last
purchase, a cart item, an occasion, a loyalty tier, the featured product's material or colour), so
the model writes about what is there and only that (prompt format 3). It is kept short on purpose: every prompt token stays in the KV cache of
every candidate for the whole generation, and the labelled five-line format of prompt format 1
(`campaign: clearance` ...) cost 24 tokens where this one costs about 12 (measured: a decode step at
40 cached positions is ~20% cheaper than at 55). The prompt carries no personal data and no fact the
copy could leak: the first name, product names, prices and the store name stay out (they are slots);
categories are reduced to letters.

>>> parse_completion(" Hi {first_name}\\nPreheader: A note.\\nIntro: Hello there.\\n")
{'subject': 'Hi {first_name}', 'preheader': 'A note.', 'intro': 'Hello there.'}
"""

from __future__ import annotations

import re

from nudge.copy.slots import clean_value

COMPLETION_PREFIX = "Subject:"  # the prompt ends here; the model writes the subject first
SENTIMENTS = ("positive", "neutral", "negative")
_CONTEXT_WORD_RE = re.compile(r"[^\W\d_]+(?:[ '-][^\W\d_]+)*")


# Category words the corpus builder puts in prompts; the export records them in meta.json
# (`context_words`) and the runtime drops any other word from a prompt.
CONTEXT_WORDS = (
    "mugs", "kitchen", "garden", "lighting", "candles", "stationery", "toys", "jewellery", "home decor",
    "bags", "clothing", "books", "tea", "bakeware", "textiles", "plants", "ceramics", "prints", "shoes",
    "skincare", "coffee", "outdoor", "games", "accessories", "furniture", "baby", "pets", "crafts",
    # the embedded store's categories (nudge.store.vocabulary, nudge.store.online_retail) as context_words() splits them
    "baking", "bath", "bedding", "body", "cards", "christmas", "clocks", "comfort", "cups", "cushions", "fashion",
    "glassware", "gloves", "hats", "home fragrance", "kitchen textiles", "lamps", "lights", "notebooks", "party",
    "photo frames", "planters", "puzzles", "rugs", "scarves", "slippers", "socks", "storage", "tableware", "teapots",
    "throws", "towels", "vases", "wall art",
)


def context_words(values: tuple[str, ...] | list[str], *, limit: int = 3) -> str:
    """Categories reduced to lower-case letters for the prompt: context, never copied facts.

    >>> context_words(("Mugs & Cups", "<b>Garden</b>", "Size 12"))
    'mugs, cups, garden'
    """
    seen: list[str] = []
    for value in values:
        for chunk in _CONTEXT_WORD_RE.findall(clean_value(value, max_chars=48).lower()):
            chunk = " ".join(chunk.split())[:24]
            if chunk and chunk not in seen:
                seen.append(chunk)
    return ", ".join(seen[:limit]) or "none"


# The prompt's word for each fact slot a customer may have (nudge.copy.guardrails), in prompt order.
FACT_WORDS: dict[str, str] = {
    "first_name": "name", "last_bought": "bought", "cart_item": "cart", "occasion": "occasion", "tier": "tier",
    "material": "material", "colour": "colour",
}


def build_prompt(
    *,
    campaign_type: str,
    tone: str,
    sentiment: str = "neutral",
    categories: tuple[str, ...] = (),
    history_categories: tuple[str, ...] = (),
    facts: frozenset[str] | set[str] | tuple[str, ...] = (),
) -> str:
    """The text the model continues; it ends with "Subject:". `facts`: the fact slots the customer has.

    >>> build_prompt(campaign_type="loyalty", tone="grateful", facts={"tier", "first_name"})
    'loyalty grateful neutral | none | none | name tier\\nSubject:'
    """
    mood = sentiment if sentiment in SENTIMENTS else "neutral"
    have = " ".join(word for slot, word in FACT_WORDS.items() if slot in facts) or "none"
    return (
        f"{campaign_type} {tone} {mood} | {context_words(categories)} | {context_words(history_categories)} | {have}\n"
        f"{COMPLETION_PREFIX}"
    )


def format_completion(*, subject: str, preheader: str, intro: str) -> str:
    """What the model should write after the prompt (a training target), without the end token."""
    return f" {subject}\nPreheader: {preheader}\nIntro: {intro}\n"


def parse_completion(text: str) -> dict[str, str] | None:
    """The three fields of a completion, or None when the format is broken."""
    lines = text.split("\n")
    if len(lines) < 3:
        return None
    subject = lines[0].strip()
    if not lines[1].startswith("Preheader:") or not lines[2].startswith("Intro:"):
        return None
    preheader = lines[1][len("Preheader:") :].strip()
    intro = lines[2][len("Intro:") :].strip()
    if any(line.strip() for line in lines[3:]):
        return None  # anything after the intro is a format break (a 4th field, a rambling tail)
    return {"subject": subject, "preheader": preheader, "intro": intro}
