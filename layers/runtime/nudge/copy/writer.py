"""The copywriter: briefs in, checked and filled `Copy` out.

With a model, each brief gets `candidates` samples (seeded from the brief's `seed_key` and the
model version, so the same input gives the same email); each candidate's UNFILLED text goes
through the guardrails and the grammar gate (every sentence must be one the phrasebook can write,
nudge.copy.phrasebook; sampling is constrained to such sentences, nudge.copy.constraint); the clean
candidate that holds the most of the customer wins (`personal_score`). When no candidate is clean, or there is no model, the
email gets reviewed copy from `seed_copy.json` (variant chosen from `seed_key`), with
`source="fallback"` and the violations in `Copy.rejected_reasons`.

>>> writer = Copywriter.load(None)
>>> brief = CopyBrief(campaign_type="loyalty", tone="grateful", first_name="Ada",
...                   product_names=("Blue Mug",), categories=("Mugs",), store_name="Kiln",
...                   seed_key="spring-loyalty:c-42")
>>> copy = writer.write_batch([brief])[0]
>>> copy.source, "{" in copy.intro
('fallback', False)
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from nudge.campaigns import TONES, get_campaign
from nudge.copy.guardrails import FACT_SLOTS, FIELDS, allowed_slots, check_fields
from nudge.copy.languages import LANGUAGE_PACKS, SOURCE_LANGUAGE, present, rules_for, slot_defaults
from nudge.copy.phrasebook import SAY_ONCE, Phrasebook, echoes, repeated_across, sentences, slots_in
from nudge.copy.prompt import build_prompt, parse_completion
from nudge.copy.slots import clean_slot, fill_slots, slot_values
from nudge.loyalty import TIER_LABELS
from nudge.errors import ConfigError
from nudge.types import Copy

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CopyBrief:
    """What the copywriter may know of one email. Facts here fill slots; they never reach the prompt
    except as category words and the names of the facts that exist (see nudge.copy.prompt)."""

    campaign_type: str
    tone: str
    first_name: str
    product_names: tuple[str, ...]
    categories: tuple[str, ...]
    store_name: str
    seed_key: str  # stable per (campaign, customer), e.g. "spring-2026:c-42"; the model version is mixed in
    history_categories: tuple[str, ...] = ()
    sentiment: str = "neutral"  # "positive" | "neutral" | "negative" (recent review)
    # Facts the copy may mention, each from data ("" when the customer has none): the product bought
    # last, the item left in the cart, the occasion ("birthday" or a holiday's name), the loyalty
    # tier, and the featured product's material and colour from the catalog.
    last_bought: str = ""
    cart_item: str = ""
    occasion: str = ""
    tier: str = ""
    material: str = ""
    colour: str = ""
    language: str = "en"  # the language to write in (nudge.copy.languages.COPY_LANGUAGES; Engine: copy_language)

    @property
    def facts(self) -> frozenset[str]:
        """What this brief can say (nudge.copy.phrasebook.CUSTOMER_FACTS), "unhappy" after a bad review, and with an
        occasion whether it is a "birthday" or a "holiday"."""
        have = {name for name in ("first_name", *FACT_SLOTS) if clean_slot(name, getattr(self, name))}
        if self.sentiment == "negative":
            have.add("unhappy")
        if "occasion" in have:  # which occasion, for languages whose lines cannot name it (nudge.copy.languages)
            have.add("birthday" if self.occasion == "birthday" else "holiday")
        return frozenset(have)

    @property
    def allowed_slots(self) -> frozenset[str]:
        """Slots the copy of this brief may hold: the always-filled ones and the facts it has."""
        return allowed_slots(self.facts)

    def slot_values(self) -> dict[str, str]:
        values = self._slot_values()
        if self.language != SOURCE_LANGUAGE and self.tier.strip().lower() in TIER_LABELS:
            # a standard tier reads in the copy's language, as the renderer's loyalty box shows it ("membre Argent", "银卡会员")
            from nudge.i18n import translations

            values["tier"] = translations(self.language).gettext(TIER_LABELS[self.tier.strip().lower()])
        return values

    def _slot_values(self) -> dict[str, str]:
        return slot_values(
            slot_defaults(self.language),
            first_name=self.first_name,
            product=self.product_names[0] if self.product_names else "",
            category=self.categories[0] if self.categories else "",
            store_name=self.store_name,
            **{name: getattr(self, name) for name in FACT_SLOTS},
        )


class Draft(NamedTuple):
    """Unfilled copy for one brief: the three fields with slots, where they came from, and why not the model."""

    fields: dict[str, str]
    source: str  # "model" | "fallback"
    rejected_reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GenerationSettings:
    candidates: int = 3  # samples per brief; the scorer keeps the best clean one
    max_new_tokens: int = 96
    temperature: float = 0.85
    top_k: int = 40
    top_p: float = 0.95
    personal_weight: float = 1.0  # score = weight * personal_score(fields); ties go to the earlier candidate

    @classmethod
    def from_meta(cls, meta: dict[str, Any], **overrides: Any) -> GenerationSettings:
        known = {k: v for k, v in meta.get("generation", {}).items() if k in cls.__dataclass_fields__}
        known.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**known)


def tone_for(campaign_type: str, sentiment: str = "neutral") -> str:
    """The campaign's tone, or "caring" after an unhappy review (DESIGN.md: care, not a hard sell).

    >>> tone_for("clearance", "negative")
    'caring'
    """
    return "caring" if sentiment == "negative" else get_campaign(campaign_type).copy.tone


# A sentence with no slot at all ("Have a lovely day!") reads the same for every customer: each one in an
# intro costs this much of a candidate's score, so such lines do not crowd a campaign (measured on the
# demo before: one closing line in 45% of the birthday emails, 49% of loyalty's; on 600 eval briefs the
# most repeated line fell from 56% to 41% of birthday emails, 43% to 31% of clearance's, 32% to 22% of
# loyalty's at 0.5; 1.0 gained little more and pushed new arrivals up).
GENERIC_WEIGHT = 0.5
# What one repetition costs (an intro sentence naming again what another named, one field saying again what
# another said): more than one more fact gains, so a candidate that reads once wins over a more personal one
# that repeats itself (at 1.0, reading 100 sampled emails still found subjects and preheaders repeating each
# other where the repeating candidate held one more fact).
REPEAT_WEIGHT = 2.0
# Slots that say something of this customer in a subject line (a recommended {product} or the store do not).
CUSTOMER_SLOTS = frozenset({"first_name", "category", "last_bought", "cart_item", "tier", "occasion"})


def personal_score(fields: dict[str, str], say_once: tuple[str, ...] = SAY_ONCE) -> float:
    """How much of the customer the copy holds, and how well it reads: distinct facts mentioned anywhere
    (last purchase, cart item, occasion, tier, material, colour), plus one when the subject holds
    something of the customer, minus REPEAT_WEIGHT for each slot (but the name) or SAY_ONCE phrase that two
    intro sentences repeat ("We picked {product} ... We think {product} ..." reads clumsy; see
    nudge.copy.phrasebook.echoes) and for each thing one field says again after another (a preheader
    phrase another field said, a product two fields both say "we chose": nudge.copy.phrasebook.repeated_across),
    minus GENERIC_WEIGHT for each intro sentence, and a preheader, without any slot.

    The choice between clean candidates is this, not their log-probability: every candidate is already
    phrasebook English (the constraint and the gate), and picking the likeliest one was measured to
    collapse variety (the same closing line in 85% of the demo's birthday emails).

    >>> personal_score({"subject": "Happy {occasion}!", "preheader": "", "intro": "We picked {product} in {colour}."})
    3.0
    >>> personal_score({"subject": "Hi", "preheader": "", "intro": "We picked {product}. {product} caught our eye."})
    -2.0
    >>> personal_score({"subject": "Hi {first_name}", "preheader": "", "intro": "We picked {product}. Have a lovely day!"})
    0.5
    """
    mentioned = set().union(*(slots_in(text) for text in fields.values()))
    personal_subject = bool(slots_in(fields.get("subject", "")) & CUSTOMER_SLOTS)
    # the same for every customer: each intro sentence without a slot, and a preheader without one (measured on
    # the demo: slot-free preheaders were 4 of the 6 commonest in clearance, whose preheader variety missed its bar)
    intro, preheader = fields.get("intro", ""), fields.get("preheader", "")
    generic = sum(not slots_in(s) for s in sentences(intro)) + bool(preheader and not slots_in(preheader))
    repeats = echoes(intro, say_once) + repeated_across(fields)
    return len(mentioned & set(FACT_SLOTS)) + personal_subject - REPEAT_WEIGHT * repeats - GENERIC_WEIGHT * generic


def stable_seed(*parts: str) -> int:
    """A 63-bit seed from strings, the same on every machine and Python (no `hash()`)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class SeedCopy:
    """Reviewed copy per campaign type, tone and field; several variants each."""

    def __init__(self, raw: dict[str, Any]):
        if raw.get("schema_version") != 1:
            raise ConfigError(f"seed_copy.json: expected schema_version 1, got {raw.get('schema_version')!r}")
        self.copy: dict[str, dict[str, dict[str, list[str]]]] = raw["copy"]

    @classmethod
    @cache
    def load(cls, language: str = "en") -> SeedCopy:
        """The reviewed copy of `language` (English, or a copy pack's: nudge.copy.languages)."""
        from nudge.copy.languages import SOURCE_LANGUAGE, read_pack_file

        if language != SOURCE_LANGUAGE:
            return cls(read_pack_file(language, "seed_copy.json"))
        text = resources.files("nudge.copy").joinpath("seed_copy.json").read_text(encoding="utf-8")
        return cls(json.loads(text))

    def variants(self, campaign_type: str, tone: str, field_name: str) -> list[str]:
        if campaign_type not in self.copy:
            raise ConfigError(f"no reviewed copy for campaign {campaign_type!r}; expected one of {sorted(self.copy)}")
        by_tone = self.copy[campaign_type]
        if tone not in by_tone:
            tone = get_campaign(campaign_type).copy.tone  # an unknown tone gets the campaign's own
        return by_tone[tone][field_name]

    def choose(self, campaign_type: str, tone: str, seed_key: str) -> dict[str, str]:
        """One variant per field, picked from `seed_key` (fields independently, for variety)."""
        out = {}
        for name in FIELDS:
            options = self.variants(campaign_type, tone, name)
            out[name] = options[stable_seed(seed_key, campaign_type, tone, name) % len(options)]
        return out


@dataclass
class Copywriter:
    """Writes `Copy` for a batch of briefs; `Copywriter.load(model_dir)` builds one.

    One copywriter writes one language (`language`); the one `load` returns writes English and hands each
    brief in another language (`CopyBrief.language`) to that language's copywriter, built on first use
    from `<model_dir>/languages/<language>/` (its own student and tokenizer, nudge.copy.languages), or with
    that language's reviewed copy only when no model was trained for it.
    """

    seed_copy: SeedCopy
    model: Any = None  # an OnnxLanguageModel, or None for reviewed copy only
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    counters: Counter = field(default_factory=Counter)  # "model", "fallback", "rejected", "violation:<code>"
    constrained: bool = True  # sample only phrasebook lines (nudge.copy.constraint); False: free sampling, gated after
    language: str = SOURCE_LANGUAGE
    model_root: Path | None = None  # where `languages/<language>/` models are looked for
    threads: int = 1
    _constraints: Any = field(default=None, repr=False)
    _writers: dict[str, Copywriter] = field(default_factory=dict, repr=False)  # other languages, built on first use
    _versions: dict[str, str] | None = field(default=None, repr=False)

    @classmethod
    def load(
        cls, model_dir: str | Path | None = None, *, threads: int = 1, candidates: int | None = None,
        language: str = SOURCE_LANGUAGE,
    ) -> Copywriter:
        """A copywriter over the model in `model_dir`; reviewed copy only when it is None or has no model.onnx.

        A model folder whose meta.json does not match this runtime raises ArtifactMismatchError.
        """
        seed_copy = SeedCopy.load(language)
        root = Path(model_dir) if model_dir is not None and language == SOURCE_LANGUAGE else None
        if model_dir is None or not (Path(model_dir) / "model.onnx").is_file():
            if model_dir is not None and language == SOURCE_LANGUAGE:
                logger.warning("no copywriter model at %s; every email gets reviewed copy", model_dir)
            return cls(seed_copy=seed_copy, language=language, model_root=root, threads=threads)
        from nudge.copy.generator import OnnxLanguageModel

        model = OnnxLanguageModel.load(model_dir, threads=threads)
        language_of_model = model.meta.get("language", SOURCE_LANGUAGE)
        if language_of_model != language:
            from nudge.errors import ArtifactMismatchError

            raise ArtifactMismatchError(f"copywriter model at {model_dir} writes {language_of_model!r}, expected {language!r}")
        return cls(seed_copy=seed_copy, model=model, settings=GenerationSettings.from_meta(model.meta, candidates=candidates),
                   language=language, model_root=root, threads=threads)

    @property
    def model_version(self) -> str:
        return self.model.model_version if self.model is not None else "reviewed"

    def writer_for(self, language: str) -> Copywriter:
        """The copywriter of `language` (this one for its own); the others share this one's counters."""
        if language == self.language:
            return self
        if language not in LANGUAGE_PACKS or self.language != SOURCE_LANGUAGE:
            raise ConfigError(f"no copywriter for language {language!r}; expected one of {(SOURCE_LANGUAGE, *LANGUAGE_PACKS)}")
        if language not in self._writers:
            folder = self.model_root / "languages" / language if self.model_root is not None else None
            writer = Copywriter.load(folder if folder is not None and (folder / "model.onnx").is_file() else None,
                                     threads=self.threads, language=language)
            writer.counters = self.counters
            self._writers[language] = writer
        return self._writers[language]

    def model_versions(self) -> dict[str, str]:
        """The model version of each language: this one's, and each other language's student on disk (read once)."""
        if self._versions is None:
            self._versions = {self.language: self.model_version}
            for language in LANGUAGE_PACKS if self.language == SOURCE_LANGUAGE else ():
                meta = self.model_root / "languages" / language / "meta.json" if self.model_root is not None else None
                if meta is not None and meta.is_file():
                    self._versions[language] = str(json.loads(meta.read_text(encoding="utf-8"))["model_version"])
        return dict(self._versions)

    def draft_batch(self, briefs: list[CopyBrief]) -> list[Draft]:
        """The UNFILLED copy chosen for each brief (what the guardrails saw), with its source."""
        if not briefs:
            return []
        if self.model is None:
            return [Draft(self.seed_copy.choose(b.campaign_type, b.tone, b.seed_key), "fallback", ()) for b in briefs]
        return self._generate(briefs)

    def write_batch(self, briefs: list[CopyBrief]) -> list[Copy]:
        """One `Copy` per brief, in order, each in its brief's language; slots filled from the brief's facts."""
        out: list[Copy | None] = [None] * len(briefs)
        by_language: dict[str, list[int]] = {}
        for i, brief in enumerate(briefs):
            by_language.setdefault(brief.language, []).append(i)
        for language, indices in by_language.items():
            writer = self.writer_for(language)
            for i, copy in zip(indices, writer._write_own([briefs[i] for i in indices])):
                out[i] = copy
        return out  # type: ignore[return-value]

    def _write_own(self, briefs: list[CopyBrief]) -> list[Copy]:
        out = []
        for brief, (fields, source, reasons) in zip(briefs, self.draft_batch(briefs)):
            values = brief.slot_values()
            if source == "fallback" and brief.campaign_type == "abandoned_cart" and brief.cart_item:
                # reviewed cart copy says {product} "is still in your cart" (English, French): there it is the cart item,
                # never the recommendation the pipeline features beside it, whatever the language's copy says of it
                values["product"] = values["cart_item"]
            self.counters[source] += 1
            out.append(
                Copy(
                    subject=fill_slots(fields["subject"], values),
                    preheader=fill_slots(fields["preheader"], values),
                    intro=present(self.language, fill_slots(fields["intro"], values)),
                    source=source,
                    tone=brief.tone,
                    model_version=self.model_version,
                    rejected_reasons=reasons,
                    language=self.language,
                )
            )
        return out

    def prompt_for(self, brief: CopyBrief) -> str:
        return build_prompt(
            campaign_type=brief.campaign_type,
            tone=brief.tone,
            sentiment=brief.sentiment,
            categories=self._known(brief.categories),
            history_categories=self._known(brief.history_categories),
            facts=brief.facts,
        )

    def _known(self, categories: tuple[str, ...]) -> tuple[str, ...]:
        """Only context words the model saw in training (meta.json `context_words`): an unseen
        category word in the prompt pushes a small student off its format (measured: 10 of 12
        briefs fell back with the store's own categories, 0 of 12 with known or no words)."""
        known = self.model.meta.get("context_words") if self.model is not None else None
        if not known:
            return categories
        vocabulary = {w.lower() for w in known}
        return tuple(c for c in categories if c.lower() in vocabulary)

    def constraint_for(self, brief: CopyBrief) -> Any:
        """The phrasebook lines this brief may be written with, as a token constraint (nudge.copy.constraint):
        its campaign's, in its tone, needing only facts the customer has. Built once per combination."""
        if self._constraints is None:
            from nudge.copy.constraint import ConstraintCache

            self._constraints = ConstraintCache(self.model.encode, Phrasebook.load(self.language))
        return self._constraints.get(brief.campaign_type, brief.tone, brief.facts)

    def candidates_for(self, briefs: list[CopyBrief]) -> list[list[tuple[dict[str, str] | None, list[str], float]]]:
        """Every sampled candidate per brief: (fields or None when unparsable, violations, score)."""
        seeds = [
            [stable_seed(b.seed_key, self.model_version, str(i)) for i in range(self.settings.candidates)] for b in briefs
        ]
        samples = self.model.generate(
            [self.prompt_for(b) for b in briefs],
            seeds=seeds,
            max_new_tokens=self.settings.max_new_tokens,
            temperature=self.settings.temperature,
            top_k=self.settings.top_k,
            top_p=self.settings.top_p,
            constraints=[self.constraint_for(b) for b in briefs] if self.constrained else None,
        )
        phrasebook = Phrasebook.load(self.language)
        rules = rules_for(self.language)
        say_once = SAY_ONCE if self.language == SOURCE_LANGUAGE else rules.say_once
        out = []
        for brief, brief_samples in zip(briefs, samples):
            intro_max = get_campaign(brief.campaign_type).copy.intro_max_words
            scored = []
            for sample in brief_samples:
                fields = parse_completion(sample.text)
                if fields is None:
                    scored.append((None, ["format"], sample.mean_logprob))
                    continue
                violations = check_fields(
                    fields, allowed_slots=brief.allowed_slots, campaign_type=brief.campaign_type, intro_max_words=intro_max,
                    rules=rules,
                )
                violations += phrasebook.gate_fields(fields)  # a sentence outside the phrasebook: "<field>:ungrammatical"
                score = self.settings.personal_weight * personal_score(fields, say_once)
                scored.append((fields, violations, score))
            out.append(scored)
        return out

    def _generate(self, briefs: list[CopyBrief]) -> list[Draft]:
        return self.drafts_from(briefs, self.candidates_for(briefs))

    def drafts_from(self, briefs: list[CopyBrief], candidates: list[list[tuple[dict[str, str] | None, list[str], float]]]) -> list[Draft]:
        """The chosen draft per brief from `candidates_for` output: best clean candidate, else reviewed copy."""
        results = []
        for brief, scored in zip(briefs, candidates):
            clean = [(score, fields) for fields, violations, score in scored if fields is not None and not violations]
            if clean:  # max() keeps the first of equal scores: the candidates are already in a seeded random order
                results.append(Draft(max(clean, key=lambda pair: pair[0])[1], "model", ()))
                continue
            reasons: list[str] = []
            for _fields, violations, _score in scored:
                reasons.extend(v for v in violations if v not in reasons)
            self.counters["rejected"] += 1
            self.counters.update(f"violation:{v}" for v in reasons)
            results.append(Draft(self.seed_copy.choose(brief.campaign_type, brief.tone, brief.seed_key), "fallback", tuple(reasons)))
        return results


__all__ = ["CopyBrief", "Copywriter", "Draft", "GenerationSettings", "SeedCopy", "TONES", "stable_seed", "tone_for"]
