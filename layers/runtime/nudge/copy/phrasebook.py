"""The phrasebook: every sentence the copywriter may send, written by people, grammatical by construction.

The model chooses and orders sentences; it does not invent sentence structure. `phrasebook.json`
holds, per campaign, subject lines, preheaders and intro sentences (roles `open`, `body`, `close`)
written as small templates with alternatives:

    "{first_name}, new {category} pieces [just landed|are in]"

`[a|b]` is a choice (nestable; an empty choice `[a|]` makes a part optional) and `<name>` is a
shared list from `lists`. Each template is expanded to every sentence it stands for, and each of
those was read when the template was written: alternatives are only ever synonyms that fit every
combination. Agreement is never left to chance: no verb agrees with a slot (a product name may
be plural: "Glass Beads"), so templates use past tense or constructions without agreement
("you left {cart_item} in your cart", never "{cart_item} is still in your cart").

The grammar gate (`Phrasebook.gate`) accepts a field only when every sentence of it, with slots
unfilled, is one the phrasebook can expand to (or reviewed fallback copy, `seed_copy.json`):
a spliced sentence such as "We kept your picks are safe for you" is not, whatever its n-grams.
The same gate runs offline on every training line and at run time on every candidate.

>>> book = Phrasebook.load()
>>> book.gate("subject", "{first_name}, new {category} pieces just landed")
[]
>>> book.gate("intro", "We kept your picks are safe for you.")
['ungrammatical']
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from nudge.copy.guardrails import FACT_SLOTS
from nudge.errors import ConfigError

ROLES = ("open", "body", "close")
# Facts a sentence may need beyond the campaign itself: the fact slots, `first_name` (a customer
# without a name gets sentences that do not need one), and "unhappy" (a recent unhappy review:
# only then may a sentence apologise for it), which an entry asks for with "needs".
CUSTOMER_FACTS = ("first_name", *FACT_SLOTS)
_SLOT_RE = re.compile(r"\{([a-z_]+)\}")
_SENTENCE_RE = re.compile(r"(?<=[.!?。！？])\s+")


def sentences(text: str) -> list[str]:
    """A field split into sentences at . ! or ? (or Chinese 。！？) followed by a space."""
    return [s for s in _SENTENCE_RE.split(" ".join(text.split())) if s]


def slots_in(text: str) -> frozenset[str]:
    return frozenset(_SLOT_RE.findall(text))


# Words an intro says once: two sentences that both end "... in mind" or both start "Everything ..."
# read clumsy even when each is fine (found reading sampled emails: the first 100; then "Your cart at X
# is saved. Your cart still holds Y"; then "we chose a few clearance pieces for you. We chose X ...", and
# "Look out for X. Take a look whenever you like.").
SAY_ONCE = ("in mind", "everything", "your taste", "whenever", "your cart", "we chose", "we picked", "thank you", "look")


def mentions(sentence: str, say_once: tuple[str, ...] = SAY_ONCE) -> set[str]:
    """What a sentence names that a later sentence of the same intro should not name again: its slots
    (but the name) and its say-once phrases (English's SAY_ONCE, or a copy pack's `say_once`)."""
    lower = sentence.lower()
    return (set(slots_in(sentence)) - {"first_name"}) | {phrase for phrase in say_once if phrase in lower}


def echoes(intro: str, say_once: tuple[str, ...] = SAY_ONCE) -> int:
    """How many things (slots, say-once phrases) two or more sentences of `intro` name.

    >>> echoes("We picked {product} with you in mind. Every piece was chosen with your taste in mind.")
    1
    >>> echoes("Hemos elegido {product} para ti. Hay novedades para ti.", ("para ti", "novedades"))
    1
    """
    named = [mentions(s, say_once) for s in sentences(intro)]
    return sum(sum(thing in found for found in named) > 1 for thing in set().union(*named)) if named else 0


def _bare(sentence: str) -> str:
    """A sentence without the name, punctuation and case: what a reader recognizes as the same words."""
    return " ".join(re.sub(r"[^a-z{}_ ]", " ", sentence.replace("{first_name}", "").lower()).split())


_CHOSEN_RE = re.compile(r"\bwe (?:chose|picked) (\{[a-z_]+\})")
_DESCRIBED_RE = re.compile(r"(\{[a-z_]+\}),? in \{(?:colour|material)\}")  # "{product} in {colour}": a product described
LONG_REPEAT_WORDS = 6  # a shared run this long is a sentence said again, not a turn of phrase
# Words a reader takes for the same word when two lines of one email repeat a phrase.
_SAME_WORD = {"chose": "picked", "chosen": "picked", "pick": "picked", "picks": "picked", "finds": "pieces",
              "ideas": "pieces", "sale": "clearance", "reduced": "clearance", "{colour}": "{material}"}


def _phrases(text: str, n: int = 4) -> set[tuple[str, ...]]:
    """The n-word phrases of a field, name, punctuation and case aside, near-synonyms as one word."""
    words = [_SAME_WORD.get(w, w) for w in _bare(text).replace("your taste", "you").split()]
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def repeated_across(fields: dict[str, str], *, n: int = 4) -> int:
    """How many times one field says again what another says (the inbox shows subject, preheader and the
    intro's first lines together): each pair of fields sharing an n-word phrase, near-synonyms counted as
    the same word ("Scented Candle in oak, chosen for you" over "Scented Candle in red, picked for you";
    "New Lighting ideas, whenever you are ready" over "A few Lighting ideas, whenever you are ready"), twice
    when they share a whole run of LONG_REPEAT_WORDS or more (a sentence said again word for word: "Our
    clearance is on at Northwind." as preheader and as the intro's first line); each product that two
    fields both say "we chose/picked" ("Since you bought X, we picked Y for you." over "We picked Y in
    cream with you in mind."); and each product two fields both describe by its colour or material
    ("Scented Candle in terracotta, picked for you." over "We picked Scented Candle in terracotta for you.").

    >>> repeated_across({"preheader": "Our clearance is on at {store_name}.",
    ...                  "intro": "Our clearance is on at {store_name}. We picked {product}."})
    2
    >>> repeated_across({"subject": "{product} in {material}, chosen for you, {first_name}",
    ...                  "preheader": "{first_name}, {product} in {colour}, picked for you.", "intro": "Hello."})
    3
    >>> repeated_across({"subject": "{first_name}, we chose {product} with you in mind",
    ...                  "preheader": "{first_name}, we picked {product} for you.", "intro": "Hello."})
    1
    >>> repeated_across({"subject": "{product}, picked with you in mind", "preheader": "Our clearance is on.",
    ...                  "intro": "Some pieces are marked down. We chose {product} with your taste in mind."})
    1
    >>> repeated_across({"subject": "Just checking in", "preheader": "{product} in {colour}, picked for you.",
    ...                  "intro": "We hope you are well. We picked {product} in {colour} for you."})
    1
    """
    names = ("subject", "preheader", "intro")
    phrases = [_phrases(fields.get(f, ""), n) for f in names]
    long_runs = [_phrases(fields.get(f, ""), LONG_REPEAT_WORDS) for f in names]
    shared = sum(bool(phrases[i] & phrases[j]) + bool(long_runs[i] & long_runs[j]) for i in range(3) for j in range(i + 1, 3))
    claims = [set(_CHOSEN_RE.findall(fields.get(f, "").lower())) for f in names]
    chosen_twice = sum(sum(slot in found for found in claims) > 1 for slot in set().union(*claims))
    described = [set(_DESCRIBED_RE.findall(fields.get(f, "").lower())) for f in names]
    described_twice = sum(sum(d in found for found in described) > 1 for d in set().union(*described))
    return shared + chosen_twice + described_twice


def _tidy(text: str) -> str:
    """Whitespace an empty choice leaves behind: double spaces, a space before , . ! ? :"""
    text = re.sub(r" ([,.!?:;])", r"\1", " ".join(text.split()))
    lead = len(text) - len(text.lstrip("¿¡"))  # Spanish opens a question or an exclamation: "¿Sigues ...?"
    return text[:lead] + text[lead:lead + 1].upper() + text[lead + 1:]  # a line may start with a lower-case list item


def expand(template: str, lists: dict[str, list[str]], _depth: int = 0) -> Iterator[str]:
    """Every sentence `template` stands for, in a stable order.

    >>> sorted(expand("[Hi|Hello] {first_name}[, welcome|]", {}))
    ['Hello {first_name}', 'Hello {first_name}, welcome', 'Hi {first_name}', 'Hi {first_name}, welcome']
    """
    if _depth > 8:
        raise ConfigError(f"phrasebook: lists nest deeper than 8 levels at {template!r}")
    parts = _split_top(template)
    yield from (_tidy(s) for s in _product(parts, lists, _depth))


def _split_top(template: str) -> list[tuple[str, Any]]:
    """('text', str) | ('choice', [alternatives]) | ('list', name), at the top level."""
    parts: list[tuple[str, Any]] = []
    i, buf = 0, []
    while i < len(template):
        ch = template[i]
        if ch == "[":
            if buf:
                parts.append(("text", "".join(buf)))
                buf = []
            depth, start = 1, i + 1
            alternatives, cut = [], start
            i += 1
            while i < len(template) and depth:
                if template[i] == "[":
                    depth += 1
                elif template[i] == "]":
                    depth -= 1
                elif template[i] == "|" and depth == 1:
                    alternatives.append(template[cut:i])
                    cut = i + 1
                i += 1
            if depth:
                raise ConfigError(f"phrasebook: unclosed '[' in {template!r}")
            alternatives.append(template[cut : i - 1])
            parts.append(("choice", alternatives))
            continue
        if ch == "<":
            end = template.find(">", i)
            if end < 0:
                raise ConfigError(f"phrasebook: unclosed '<' in {template!r}")
            if buf:
                parts.append(("text", "".join(buf)))
                buf = []
            parts.append(("list", template[i + 1 : end]))
            i = end + 1
            continue
        if ch in "]|>":
            raise ConfigError(f"phrasebook: stray {ch!r} in {template!r}")
        buf.append(ch)
        i += 1
    if buf:
        parts.append(("text", "".join(buf)))
    return parts


def _product(parts: list[tuple[str, Any]], lists: dict[str, list[str]], depth: int) -> Iterator[str]:
    if not parts:
        yield ""
        return
    (kind, value), rest = parts[0], parts[1:]
    if kind == "text":
        heads: list[str] = [value]
    elif kind == "choice":
        heads = [s for alternative in value for s in _product(_split_top(alternative), lists, depth + 1)]
    else:
        if value not in lists:
            raise ConfigError(f"phrasebook: unknown list <{value}>; known: {sorted(lists)}")
        heads = [s for item in lists[value] for s in _product(_split_top(item), lists, depth + 1)]
    tails = list(_product(rest, lists, depth))
    for head in heads:
        for tail in tails:
            yield head + tail


@dataclass(frozen=True, slots=True)
class Line:
    """One expanded sentence (or subject, or preheader) and when it may be used."""

    text: str
    campaign_type: str
    field: str  # "subject" | "preheader" | "intro"
    role: str  # "subject" | "preheader" | "open" | "body" | "close"
    tones: frozenset[str]  # empty: any tone
    facts: frozenset[str]  # CUSTOMER_FACTS this sentence fills, and what its entry "needs"
    plural: bool = False  # names several things a later sentence may call "them" (entry "plural": true)
    refers_back: bool = False  # says "them" of an earlier sentence: only after a plural one (entry "refers_back": true)

    def fits(self, tone: str, facts: frozenset[str] | set[str]) -> bool:
        return (not self.tones or tone in self.tones) and self.facts <= facts


class Phrasebook:
    """Expanded lines per campaign and role, and the set the grammar gate accepts per field."""

    def __init__(self, raw: dict[str, Any], reviewed: dict[str, set[str]] | None = None):
        if raw.get("schema_version") != 1:
            raise ConfigError(f"phrasebook.json: expected schema_version 1, got {raw.get('schema_version')!r}")
        lists = raw.get("lists", {})
        self.lines: list[Line] = []
        for campaign, by_role in raw["campaigns"].items():
            for role, entries in by_role.items():
                field = role if role in ("subject", "preheader") else "intro"
                if role not in ("subject", "preheader", *ROLES):
                    raise ConfigError(f"phrasebook: {campaign}: role must be subject, preheader or one of {ROLES}, got {role!r}")
                for entry in entries:
                    if isinstance(entry, str):
                        entry = {"text": entry}
                    tones, needs = frozenset(entry.get("tones", ())), frozenset(entry.get("needs", ()))
                    plural, refers_back = bool(entry.get("plural")), bool(entry.get("refers_back"))
                    if refers_back and role != "close":
                        raise ConfigError(f"phrasebook: {campaign}: only a close may refer back, got {role!r}: {entry['text']!r}")
                    for text in expand(entry["text"], lists):
                        facts = (slots_in(text) & frozenset(CUSTOMER_FACTS)) | needs
                        self.lines.append(Line(text, campaign, field, role, tones, facts, plural, refers_back))
        self.accepted: dict[str, set[str]] = {f: set() for f in ("subject", "preheader", "intro")}
        for line in self.lines:
            self.accepted[line.field].add(line.text)
        self.plural = {line.text for line in self.lines if line.plural}
        self.refers_back = {line.text for line in self.lines if line.refers_back}
        for field, texts in (reviewed or {}).items():
            self.accepted[field].update(texts)

    @classmethod
    @cache
    def load(cls, language: str = "en") -> Phrasebook:
        """The shipped phrasebook of `language` (English, or a copy pack: nudge.copy.languages), with its reviewed
        fallback copy accepted too."""
        from nudge.copy.languages import SOURCE_LANGUAGE, read_pack_file
        from nudge.copy.writer import SeedCopy

        if language == SOURCE_LANGUAGE:
            raw = json.loads(resources.files("nudge.copy").joinpath("phrasebook.json").read_text(encoding="utf-8"))
        else:
            raw = read_pack_file(language, "phrasebook.json")
        reviewed: dict[str, set[str]] = {"subject": set(), "preheader": set(), "intro": set()}
        for by_tone in SeedCopy.load(language).copy.values():
            for fields in by_tone.values():
                reviewed["subject"].update(fields["subject"])
                reviewed["preheader"].update(fields["preheader"])
                for intro in fields["intro"]:
                    reviewed["intro"].update(sentences(intro))
        return cls(raw, reviewed)

    def choices(self, campaign_type: str, role: str, tone: str, facts: frozenset[str] | set[str]) -> list[Line]:
        return [l for l in self.lines if l.campaign_type == campaign_type and l.role == role and l.fits(tone, facts)]

    def gate(self, field: str, text: str) -> list[str]:
        """[] when every sentence of `text` (unfilled) is in the phrasebook, else ['ungrammatical'].

        Subjects and preheaders are judged whole; an intro sentence by sentence, and a sentence that says
        "them" of an earlier one only after a sentence that names several things ("We picked {product}.
        We hope you enjoy them as much as we do." has no antecedent: found reading 100 emails).
        """
        accepted = self.accepted[field]
        units = sentences(text) if field == "intro" else [" ".join(text.split())]
        if not units or not all(u in accepted for u in units):
            return ["ungrammatical"]
        if field == "intro" and any(u in self.refers_back and not self.plural.intersection(units[:i]) for i, u in enumerate(units)):
            return ["ungrammatical"]
        return []

    def gate_fields(self, fields: dict[str, str]) -> list[str]:
        """`gate` over subject, preheader and intro; codes prefixed with the field, like check_fields."""
        return [f"{name}:{code}" for name in ("subject", "preheader", "intro") for code in self.gate(name, fields.get(name, ""))]


__all__ = ["CUSTOMER_FACTS", "Line", "Phrasebook", "ROLES", "SAY_ONCE", "echoes", "expand", "mentions", "sentences", "slots_in"]
