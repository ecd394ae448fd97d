"""Guardrails for model-written copy: the validator of DESIGN.md principle 1.

The model writes prose with slots (`{first_name}`, `{product}`, `{category}`, `{store_name}`, and the
customer's facts `{last_bought}`, `{cart_item}`, `{occasion}`, `{tier}`, `{material}`, `{colour}`);
facts (names, prices, discounts, dates, codes, links) are filled in later from data. So the
UNFILLED text must carry no fact of its own: any digit, currency, percent, URL, email address,
unknown slot, banned phrase, markup or control character is a violation, and so is text outside
the length and repetition bounds of its field. A violation sends the email to reviewed copy.

Violations are short stable codes (``"digit"``, ``"banned_phrase:free"``), so they can be counted
in a metric and stored in `Copy.rejected_reasons`.

>>> check_copy("{first_name}, your picks are in", allowed_slots=SLOTS, field="subject")
[]
>>> check_copy("Save 20% today at www.shop.com", allowed_slots=SLOTS, field="subject")
['digit', 'percent', 'url', 'banned_phrase:save', 'banned_phrase:today']
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Every slot the copy may hold. The first four are always filled (a default stands in for missing
# data); the others are facts a customer may or may not have, and a brief allows only those it has
# (nudge.copy.writer.CopyBrief.allowed_slots): {last_bought} the product bought last, {cart_item} the
# item left in the cart, {occasion} "birthday" or the holiday's name, {tier} the loyalty tier, and
# {material} / {colour} of the featured product, from the catalog.
BASE_SLOTS: tuple[str, ...] = ("first_name", "product", "category", "store_name")
FACT_SLOTS: tuple[str, ...] = ("last_bought", "cart_item", "occasion", "tier", "material", "colour")
SLOTS: tuple[str, ...] = BASE_SLOTS + FACT_SLOTS


def allowed_slots(facts: frozenset[str] | set[str]) -> frozenset[str]:
    """Slots copy may hold for a customer with `facts`: the always-filled ones and the facts it has.

    >>> sorted(allowed_slots({"tier", "unhappy"}))
    ['category', 'first_name', 'product', 'store_name', 'tier']
    """
    return frozenset(BASE_SLOTS) | (frozenset(facts) & frozenset(SLOTS))
FIELDS: tuple[str, ...] = ("subject", "preheader", "intro")


@dataclass(frozen=True, slots=True)
class FieldLimit:
    min_words: int  # a slot counts as one word
    max_words: int
    max_chars: int  # of the unfilled text; slots are short, filled values are truncated by slots.py


# Subject lines past ~60 characters are cut by most inboxes; preheaders show ~90-110 characters.
FIELD_LIMITS: dict[str, FieldLimit] = {
    "subject": FieldLimit(min_words=2, max_words=12, max_chars=78),
    "preheader": FieldLimit(min_words=3, max_words=20, max_chars=120),
    "intro": FieldLimit(min_words=8, max_words=60, max_chars=420),
}

# Phrases that make a claim the data did not make (price, stock, deadline, delivery, ranking),
# that spam filters punish, or that pressure the reader. Matched case-insensitively on word
# boundaries, after folding curly quotes. Keep entries lower-case.
BANNED_PHRASES: tuple[str, ...] = (
    # money and offers: the renderer states real prices and discounts from the campaign
    "free", "discount", "coupon", "voucher", "promo", "code", "save", "savings", "cheap",
    "cheapest", "lowest price", "best price", "price match", "bargain", "deal of", "half price",
    "half off", "bogo", "buy one", "cash", "refund", "credit", "off everything",
    # guarantees and absolutes
    "guarantee", "guaranteed", "risk-free", "risk free", "no risk", "100%", "promise",
    # pressure and deadlines we cannot know
    "act now", "buy now", "order now", "shop now before", "limited time", "today only",
    "last chance", "final hours", "hours left", "days left", "expires", "expiring", "deadline",
    "ends tonight", "ends soon", "ends today", "tonight", "tomorrow", "today", "this weekend",
    "while supplies last", "selling fast", "almost gone", "sold out", "low stock", "only a few",
    "few left", "don't miss out", "urgent",
    # invented rankings and reviews
    "best-selling", "bestseller", "best seller", "award", "top-rated", "top rated",
    "most popular", "number one", "#1", "five-star", "five star", "rated",
    # scarcity and product attributes only the catalog may state
    "rare", "just in time", "exclusive", "one of a kind", "limited edition", "handmade", "hand-made",
    "organic", "sustainable", "eco-friendly", "vegan", "recycled", "locally made", "gift card",
    # delivery and returns are store policy, stated by the renderer if at all
    "shipping", "delivery", "next day", "next-day", "returns",
    # spam-filter triggers and dark patterns
    "click here", "click below", "winner", "you've won", "you have won", "congratulations",
    "prize", "once in a lifetime", "exclusive deal", "no obligation", "unsubscribe", "password",
    "account", "verify",
)

# Quantity words invent facts as surely as digits ("three days", "a dozen"). "one" stays legal
# ("the one you loved"); "half" and "double" appear in the money list above.
NUMBER_WORDS: tuple[str, ...] = (
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
    "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand",
    "million", "billion", "dozen", "first-ever", "once-a-year",
)

# Words true only for one campaign: a cart exists only for abandoned_cart, a sale only for
# clearance, a birthday only for birthday_holiday, membership only for loyalty.
CAMPAIGN_TERMS: dict[str, tuple[str, ...]] = {
    "abandoned_cart": ("cart", "basket", "checkout", "left behind"),
    "clearance": ("clearance", "sale", "reduced", "markdown", "marked down"),
    "birthday_holiday": ("birthday", "anniversary"),
    "loyalty": ("member", "members", "membership", "tier", "gold", "platinum", "silver", "vip"),
}

CURRENCY_CODES: tuple[str, ...] = (
    "usd", "eur", "gbp", "jpy", "cny", "inr", "aud", "cad", "chf", "sek", "nok", "dkk", "pln",
    "nzd", "mxn", "brl", "zar", "sgd", "hkd", "krw", "try", "rub",
)
CURRENCY_WORDS: tuple[str, ...] = (
    "dollar", "dollars", "euro", "euros", "pound", "pounds", "quid", "bucks", "pence", "cents",
    "yen", "rupee", "rupees",
)

# Punctuation a marketing sentence needs; anything else outside letters and spaces (emoji,
# symbols, math, arrows) is rejected so the model cannot decorate its way past the other rules.
ALLOWED_PUNCTUATION = frozenset(" .,!?'\"-:;()…–—’‘“”{}_")

_SLOT_RE = re.compile(r"\{([^{}]*)\}")
_URL_RE = re.compile(
    r"(https?:|ftp:|mailto:|www\.|\b[a-z0-9-]+\.(com|net|org|io|co|uk|shop|store|biz|info|app|ly)\b)",
    re.IGNORECASE,
)
_EMAIL_RE = re.compile(r"[^\s@]+@[^\s@]+|@")
_WORD_RE = re.compile(r"\{[^{}]*\}|[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)
_SHOUT_RE = re.compile(r"\b[A-Z]{3,}\b")


def _phrase_re(phrases: tuple[str, ...]) -> re.Pattern[str]:
    # (?<!\w) and (?!\w) instead of \b so entries like "#1" and "100%" still match.
    alternation = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])({alternation})(?![\w-])", re.IGNORECASE)


def _substring_re(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """For scripts written without spaces (Chinese): a phrase matches anywhere."""
    return re.compile("(" + "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True)) + ")", re.IGNORECASE)


# Characters of the CJK scripts: a field written in them is measured in characters, not words.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_CJK_UNIT_RE = re.compile(r"\{[^{}]*\}|[" + _CJK + r"]|[^\W_" + _CJK + r"]+(?:['’-][^\W_" + _CJK + r"]+)*", re.UNICODE)


@dataclass(frozen=True)
class LanguageRules:
    """One language's guardrails: its phrase lists as patterns, its punctuation and its length bounds.

    `script` "latin": phrases match on word boundaries and length is counted in words; "cjk": phrases
    match as substrings and length is counted in characters (a slot is one). English is `ENGLISH`;
    the others are loaded from their copy pack (nudge.copy.languages, `rules.json`).
    """

    language: str
    script: str
    banned: re.Pattern[str]
    number_words: re.Pattern[str]
    currency: re.Pattern[str]
    campaign_terms: dict[str, re.Pattern[str]]
    punctuation: frozenset[str]
    limits: dict[str, FieldLimit]
    intro_scale: float = 1.0  # a campaign's intro_max_words times this (a longer language, or characters)
    # phrases an intro says once (the scorer counts a second saying as a repeat: nudge.copy.phrasebook.echoes);
    # English's are nudge.copy.phrasebook.SAY_ONCE, given by the writer
    say_once: tuple[str, ...] = ()

    @classmethod
    def build(cls, *, language: str, script: str, banned: tuple[str, ...], number_words: tuple[str, ...],
              currency_words: tuple[str, ...], campaign_terms: dict[str, tuple[str, ...]], extra_punctuation: str = "",
              limits: dict[str, FieldLimit] | None = None, intro_scale: float = 1.0,
              say_once: tuple[str, ...] = ()) -> LanguageRules:
        if script not in ("latin", "cjk"):
            raise ValueError(f"{language}: script must be 'latin' or 'cjk', got {script!r}")
        pattern = _substring_re if script == "cjk" else _phrase_re
        return cls(
            language=language, script=script, banned=pattern(banned), number_words=pattern(number_words),
            currency=pattern(CURRENCY_CODES + tuple(currency_words)),
            campaign_terms={name: pattern(tuple(terms)) for name, terms in campaign_terms.items() if terms},
            punctuation=ALLOWED_PUNCTUATION | frozenset(extra_punctuation), limits=limits or FIELD_LIMITS,
            intro_scale=intro_scale, say_once=tuple(p.lower() for p in say_once),
        )

    def units(self, text: str) -> list[str]:
        """Words (latin) or characters (cjk; a run of Latin letters is one) of unfilled text, lower-cased; a slot is one."""
        if self.script == "cjk":
            return [u.lower() for u in _CJK_UNIT_RE.findall(_fold(text))]
        return words(text)


ENGLISH = LanguageRules.build(language="en", script="latin", banned=BANNED_PHRASES, number_words=NUMBER_WORDS,
                              currency_words=CURRENCY_WORDS, campaign_terms=CAMPAIGN_TERMS)
# A language written in characters: subject, preheader and intro bounds in characters (a slot counts as one).
CJK_LIMITS: dict[str, FieldLimit] = {
    "subject": FieldLimit(min_words=4, max_words=30, max_chars=48),
    "preheader": FieldLimit(min_words=6, max_words=48, max_chars=72),
    "intro": FieldLimit(min_words=15, max_words=150, max_chars=240),
}
# A Latin-script language other than English runs ~20% longer for the same message (French, German, Spanish).
LATIN_LIMITS: dict[str, FieldLimit] = {
    "subject": FieldLimit(min_words=2, max_words=14, max_chars=90),
    "preheader": FieldLimit(min_words=3, max_words=22, max_chars=140),
    "intro": FieldLimit(min_words=8, max_words=70, max_chars=500),
}


_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})


def _plain(ch: str, punctuation: frozenset[str] = ALLOWED_PUNCTUATION) -> bool:
    """Letters (any script), combining marks, and the punctuation a sentence needs (the language's)."""
    return ch.isalpha() or unicodedata.category(ch).startswith("M") or ch in punctuation


def _reported_elsewhere(ch: str) -> bool:
    """Characters another rule already names (digit, currency, percent, markup, url, control)."""
    category = unicodedata.category(ch)
    return ch.isdigit() or category in ("Sc", "No", "Nd", "Nl") or category in _CONTROL_CATEGORIES or ch in "%％<>&@"


def _fold(text: str) -> str:
    return text.replace("’", "'").replace("‘", "'")


def words(text: str) -> list[str]:
    """Words of unfilled copy, lower-cased; a `{slot}` is one word."""
    return [w.lower() for w in _WORD_RE.findall(_fold(text))]


def check_copy(
    text: str,
    *,
    allowed_slots: tuple[str, ...] | frozenset[str] = SLOTS,
    field: str = "intro",
    campaign_type: str | None = None,
    max_words: int | None = None,
    rules: LanguageRules | None = None,
) -> list[str]:
    """Every guardrail that unfilled `text` breaks, as stable codes; [] means the text is clean.

    `field` picks the length bounds (the language's limits, FIELD_LIMITS in English); `max_words` may
    tighten them (a campaign's `intro_max_words`, scaled by the language's `intro_scale`). With
    `campaign_type`, words true only of another campaign ("cart" in a clearance email) are violations
    too. `rules`: the language's guardrails (default English).

    >>> check_copy("Hi {name}", allowed_slots=SLOTS, field="subject")
    ['unknown_slot:name']
    """
    if field not in FIELD_LIMITS:
        raise ValueError(f"field must be one of {FIELDS}, got {field!r}")
    rules = rules or ENGLISH
    violations: list[str] = []

    def add(code: str) -> None:
        if code not in violations:
            violations.append(code)

    if not text or not text.strip():
        return ["empty"]
    folded = _fold(text)

    # Facts: numbers, money, links, addresses.
    if any(ch.isdigit() or unicodedata.category(ch) == "No" or unicodedata.numeric(ch, None) is not None
           for ch in text):
        add("digit")
    if rules.number_words.search(folded):
        add("number_word")
    if any(unicodedata.category(ch) == "Sc" for ch in text) or rules.currency.search(folded):
        add("currency")
    if "%" in text or "％" in text or re.search(r"\bper ?cent\b", folded, re.IGNORECASE):
        add("percent")
    if _URL_RE.search(text):
        add("url")
    if _EMAIL_RE.search(text):
        add("email")

    # Slots: only known names, and no stray braces.
    allowed = set(allowed_slots)
    for name in _SLOT_RE.findall(text):
        if name not in allowed:
            add(f"unknown_slot:{name}")
    if "{" in _SLOT_RE.sub("", text) or "}" in _SLOT_RE.sub("", text):
        add("stray_brace")

    # Markup and invisible characters.
    if any(ch in "<>&" for ch in text):
        add("markup")
    if any(unicodedata.category(ch) in _CONTROL_CATEGORIES for ch in text):
        add("control_char")
    if any(not _plain(ch, rules.punctuation) and not _reported_elsewhere(ch) for ch in text):
        add("symbol")

    # Phrases.
    for match in rules.banned.finditer(folded):
        add(f"banned_phrase:{match.group(1).lower()}")
    if campaign_type is not None:
        for other, pattern in rules.campaign_terms.items():
            if other != campaign_type and (match := pattern.search(folded)):
                add(f"off_campaign:{match.group(1).lower()}")
    if _SHOUT_RE.search(_SLOT_RE.sub("", text)):
        add("shouting")
    if text.count("!") + text.count("！") > (1 if field == "subject" else 2):
        add("exclamation")

    # Shape: length and repetition.
    limit = rules.limits[field]
    tokens = rules.units(text)
    most_words = min(limit.max_words, round(max_words * rules.intro_scale)) if max_words else limit.max_words
    if len(tokens) < limit.min_words:
        add("too_short")
    if len(tokens) > most_words or len(text) > limit.max_chars:
        add("too_long")
    if _repeats(tokens, n=4 if rules.script == "cjk" else 3, doubled=rules.script != "cjk"):
        add("repetition")
    return violations


def _repeats(tokens: list[str], n: int = 3, doubled: bool = True) -> bool:
    """True when a word is doubled ("the the"), a content word appears 3+ times, or an n-gram recurs.
    `doubled=False` for characters, which double in ordinary words (谢谢, 看看)."""
    if doubled and any(a == b for a, b in zip(tokens, tokens[1:])):
        return True
    content = [t for t in tokens if len(t) >= 5 and not t.startswith("{")]  # skips "your", "with", "have"
    if any(content.count(t) >= 3 for t in set(content)):
        return True
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return len(grams) != len(set(grams))


def check_fields(
    fields: dict[str, str],
    *,
    allowed_slots: tuple[str, ...] | frozenset[str] = SLOTS,
    campaign_type: str | None = None,
    intro_max_words: int | None = None,
    rules: LanguageRules | None = None,
) -> list[str]:
    """`check_copy` over subject, preheader and intro; codes are prefixed with the field name.

    >>> check_fields({"subject": "Hi {first_name}", "preheader": "", "intro": ""})[:2]
    ['preheader:empty', 'intro:empty']
    """
    out: list[str] = []
    for name in FIELDS:
        for code in check_copy(
            fields.get(name, ""),
            allowed_slots=allowed_slots,
            field=name,
            campaign_type=campaign_type,
            max_words=intro_max_words if name == "intro" else None,
            rules=rules,
        ):
            out.append(f"{name}:{code}")
    return out
