"""Safe slot filling: facts from data go into checked copy, once, cleaned and bounded.

Guardrails run on the UNFILLED text (the model's words). Slot values are facts from the store's
data, so a product name with digits ("Mug 2.0") is allowed here; what is never allowed is markup,
control characters (a newline in a subject is a header injection), braces that a later template
engine could read, or a value long enough to break a subject line.

>>> fill_slots("{first_name}, {product} is back", {"first_name": "Ada", "product": "<b>Mug 2.0</b>"})
'Ada, Mug 2.0 is back'
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping

from nudge.copy.guardrails import SLOTS
from nudge.errors import GuardrailViolation

# Longest filled value per slot, in characters; longer values are cut at a word boundary + "…".
SLOT_MAX_CHARS: dict[str, int] = {"first_name": 30, "product": 48, "category": 32, "store_name": 40,
                                  "last_bought": 48, "cart_item": 48, "occasion": 32, "tier": 20, "material": 32, "colour": 32}
# What a slot says when the data has nothing for it.
SLOT_DEFAULTS: dict[str, str] = {
    "first_name": "friend",  # reads in "Hi {first_name}," and at a sentence start ("Friend, ...")
    "product": "our latest picks",
    "category": "favourites",
    "store_name": "our shop",
    # the facts below are only allowed in copy when the brief has them (CopyBrief.allowed_slots);
    # these defaults keep a misuse readable rather than empty
    "last_bought": "your last order",
    "cart_item": "your picks",
    "occasion": "special day",
    "tier": "valued",
    "material": "natural materials",
    "colour": "new colours",
}

# A category before one of these nouns modifies it ("new {category} pieces"), and English wants the
# modifier singular: "new planter pieces", not "new planters pieces". Only the plurals below are
# changed (the category words the copywriter knows, nudge.copy.prompt.CONTEXT_WORDS, and the default):
# a closed table, so a word in another language or an unusual plural is never guessed at.
HEAD_NOUNS = frozenset({
    "pieces", "piece", "finds", "find", "ideas", "favourites", "picks", "arrivals", "treats", "options", "items", "suggestions",
    "gifts", "selection", "range", "collection", "essentials", "styles", "designs", "inspiration", "lovers", "edit",
})
SINGULAR = {
    "accessories": "accessory", "bags": "bag", "books": "book", "candles": "candle", "cards": "card", "ceramics": "ceramic",
    "clocks": "clock", "crafts": "craft", "cups": "cup", "cushions": "cushion", "favourites": "favourite", "frames": "frame",
    "games": "game", "gloves": "glove", "hats": "hat", "lamps": "lamp", "lights": "light", "mugs": "mug",
    "notebooks": "notebook", "pets": "pet", "planters": "planter", "plants": "plant", "prints": "print", "puzzles": "puzzle",
    "rugs": "rug", "scarves": "scarf", "shoes": "shoe", "slippers": "slipper", "socks": "sock", "teapots": "teapot",
    "textiles": "textile", "throws": "throw", "towels": "towel", "toys": "toy", "vases": "vase",
}
_NEXT_WORD_RE = re.compile(r"\s+([^\W\d_]+)")
_CATEGORY_PIECES_RE = re.compile(r"\{category\}\s+pieces\b")
_WORD_RE = re.compile(r"[^\W\d_]+")

_SLOT_RE = re.compile(r"\{([^{}]*)\}")
_SENTENCE_START_RE = re.compile(r"(^|[.!?]\s+)$")
_TAG_RE = re.compile(r"<[^>]*>?")
_SCRIPT_RE = re.compile(r"<(script|style)\b[^>]*>.*?(</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_NAME_WORD_RE = re.compile(r"^[^\W\d_]+(?:[.'’-][^\W\d_]*)*$")
# Categories dropped from values: controls, format chars (zero-width joiners, bidi overrides),
# line/paragraph separators, private use, surrogates, unassigned, and pictographic symbols (emoji).
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn", "So", "Sk"})
_VARIATION_SELECTORS = frozenset(chr(c) for c in range(0xFE00, 0xFE10))


def clean_value(value: str, *, max_chars: int = 48) -> str:
    """A data value made safe to stand in plain-text copy: no markup, no controls, bounded.

    >>> clean_value("  Big\\n\\tLamp  <script>x</script> ")
    'Big Lamp'
    """
    text = unicodedata.normalize("NFKC", str(value))
    text = html.unescape(html.unescape(text))  # "&amp;lt;b&amp;gt;" is markup too, twice encoded
    text = _SCRIPT_RE.sub(" ", text)  # a script's body is code, not a name
    text = _TAG_RE.sub(" ", text)
    text = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or (unicodedata.category(ch) not in _DROP_CATEGORIES and ch not in _VARIATION_SELECTORS)
    )
    text = text.replace("<", " ").replace(">", " ").replace("{", "(").replace("}", ")")
    text = " ".join(text.split())
    if len(text) > max_chars:
        cut = text[: max_chars - 1]
        if " " in cut[max_chars // 2 :]:
            cut = cut[: cut.rfind(" ")]
        text = cut.rstrip(" ,;:-–—") + "…"
    return text


def clean_name(value: str, *, max_chars: int = 30, max_words: int = 3) -> str:
    """A first name (or a short phrase): only words made of letters (and . ' -); anything else is dropped.

    >>> clean_name("Ada\\nBcc: eve@example.com 42"), clean_name("gold Bcc: eve@example.com", max_words=4)
    ('Ada', 'gold')
    """
    kept = [w.rstrip(",;") for w in clean_value(value, max_chars=200).split()]
    kept = [w for w in kept if w and _NAME_WORD_RE.match(w)]
    return clean_value(" ".join(kept[:max_words]), max_chars=max_chars)


# Slots whose value is a short plain phrase (a tier, an occasion, a material, a colour): only words of
# letters survive, like a first name's, so "50% off" or "gold\nBcc: eve@example.com" never reach copy
# even when the catalog's own check (nudge.store) was bypassed.
PHRASE_SLOTS = frozenset({"first_name", "occasion", "tier", "material", "colour"})


def clean_slot(name: str, value: str) -> str:
    """The value of slot `name` as it may stand in copy (bounded; phrases reduced to words of letters)."""
    if name in PHRASE_SLOTS:
        return clean_name(value, max_chars=SLOT_MAX_CHARS[name], max_words=3 if name == "first_name" else 4)
    return clean_value(value, max_chars=SLOT_MAX_CHARS[name])


def fits_whole(name: str, value: str) -> bool:
    """Whether `value` stands in slot `name` without being cut ("…"): a name is said whole or not at all,
    never "we picked Solstice Ink Blue Embroidered Cotton Floor… for you" (read in a demo email).

    >>> fits_whole("product", "Blue Mug"), fits_whole("product", "Solstice Ink Blue Embroidered Cotton Floor Cushion")
    (True, False)
    """
    return not clean_slot(name, value).endswith("…") or str(value).rstrip().endswith("…")


def slot_values(defaults: Mapping[str, str] | None = None, **raw: str) -> dict[str, str]:
    """Cleaned values for every slot, with defaults where the data is empty (`defaults`: a language's,
    nudge.copy.languages.slot_defaults; SLOT_DEFAULTS, English, when None).

    >>> slot_values(first_name="Ada", tier="gold")["tier"], slot_values()["product"]
    ('Gold', 'our latest picks')
    """
    defaults = SLOT_DEFAULTS if defaults is None else defaults
    unknown = set(raw) - set(SLOTS)
    if unknown:
        raise TypeError(f"slot_values() got unknown slots {sorted(unknown)}; expected some of {SLOTS}")
    raw = {name: raw.get(name, "") for name in SLOTS}
    raw["tier"] = raw["tier"].title()  # "gold" in the data, "Gold member" in a sentence
    return {name: clean_slot(name, raw[name]) or defaults[name] for name in SLOTS}


def as_modifier(category: str) -> str:
    """A category name as it reads before a noun: known plurals singular, everything else as it was.

    >>> as_modifier("Games & Puzzles"), as_modifier("Glassware"), as_modifier("Tassen")
    ('Game & Puzzle', 'Glassware', 'Tassen')
    """

    def singular(match: re.Match[str]) -> str:
        word = match.group(0)
        one = SINGULAR.get(word.lower())
        if one is None:
            return word
        if word.isupper():
            return one.upper()
        if word[:1].isupper():
            return one[:1].upper() + one[1:]
        return one

    return _WORD_RE.sub(singular, category)


# Occasions that belong to the reader ("your birthday"); a holiday does not ("your Hanukkah",
# "your Mother's Day" read wrong), so before a holiday's name "your" is dropped: "for Hanukkah".
OWNED_OCCASIONS = frozenset({"birthday", "special day"})
_YOUR_OCCASION_RE = re.compile(r"\b[Yy]our \{occasion\}")


def fill_slots(template: str, values: Mapping[str, str]) -> str:
    """`template` with each `{slot}` replaced by its cleaned value, in one pass.

    One pass means a value that itself looks like a slot ("{first_name}") is never expanded again.
    An unknown slot raises GuardrailViolation: guardrails should have rejected the text before.
    A category right before a head noun ("{category} pieces") reads as a modifier (`as_modifier`),
    and "your {occasion}" keeps "your" only for an occasion of the reader's own (OWNED_OCCASIONS).

    A category that is itself a plural of countable things stands for "pieces" instead of
    modifying it ("our mugs are ready", not "our mug pieces are ready"); "pieces" is plural, so the
    sentence's agreement is unchanged. Other categories keep "pieces" ("jewellery pieces").

    >>> fill_slots("New {category} ideas, and more {category}.", {"category": "Planters"})
    'New Planter ideas, and more Planters.'
    >>> fill_slots("Our {category} pieces are ready.", {"category": "photo frames"}), fill_slots("Our {category} pieces are ready.", {"category": "jewellery"})
    ('Our photo frames are ready.', 'Our jewellery pieces are ready.')
    >>> fill_slots("Your {occasion} picks, for your {occasion}", {"occasion": "Hanukkah"})
    'Hanukkah picks, for Hanukkah'
    """
    occasion = clean_slot("occasion", values.get("occasion", "")) or SLOT_DEFAULTS["occasion"]
    if occasion.lower() not in OWNED_OCCASIONS:
        template = _YOUR_OCCASION_RE.sub("{occasion}", template)
    category_words = _WORD_RE.findall(clean_slot("category", values.get("category", "")) or SLOT_DEFAULTS["category"])
    if category_words and category_words[-1].lower() in SINGULAR:  # a countable plural: "mugs", "photo frames"
        template = _CATEGORY_PIECES_RE.sub("{category}", template)

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in SLOTS:
            raise GuardrailViolation(f"unknown slot {{{name}}} in copy; expected one of {SLOTS}")
        value = clean_slot(name, values.get(name, "")) or SLOT_DEFAULTS[name]
        if name == "category":
            following = _NEXT_WORD_RE.match(template, match.end())
            if following and following.group(1).lower() in HEAD_NOUNS:
                value = as_modifier(value)
        if _SENTENCE_START_RE.search(template[: match.start()]):
            value = value[:1].upper() + value[1:]  # "friend, we hope ..." -> "Friend, we hope ..."
        return value

    return _SLOT_RE.sub(replace, template)
