"""Campaign copy: guardrails, reviewed seed copy, safe slot filling and the ONNX copywriter.

Facts come from data, words from the model (DESIGN.md principle 1): the model writes prose with
slots, `check_copy` rejects any fact-like text, `fill_slots` puts cleaned data into the slots, and
on any violation the email gets reviewed copy from `seed_copy.json`.

>>> from nudge.copy import Copywriter, CopyBrief
>>> writer = Copywriter.load(None)          # reviewed copy only; pass "layers/model/copywriter" for the model
"""

from nudge.copy.guardrails import SLOTS, check_copy, check_fields
from nudge.copy.slots import clean_value, fill_slots, slot_values
from nudge.copy.writer import Copywriter, CopyBrief, GenerationSettings, SeedCopy, stable_seed, tone_for

__all__ = [
    "SLOTS",
    "CopyBrief",
    "Copywriter",
    "GenerationSettings",
    "SeedCopy",
    "check_copy",
    "check_fields",
    "clean_value",
    "fill_slots",
    "slot_values",
    "stable_seed",
    "tone_for",
]
