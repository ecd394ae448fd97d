"""Reviewed seed copy: GIVEN seed_copy.json THEN it covers every campaign and tone, uses only
known slots and passes its own guardrails (the fallback must never be rejected)."""

import pytest

from nudge.campaigns import TONES, get_campaign, load_campaigns
from nudge.copy.guardrails import FIELDS, SLOTS, check_copy
from nudge.copy.writer import SeedCopy

SEED = SeedCopy.load()
LINES = [
    (campaign, tone, field, line)
    for campaign, by_tone in SEED.copy.items()
    for tone, by_field in by_tone.items()
    for field, lines in by_field.items()
    for line in lines
]


def test_every_campaign_and_tone_has_several_variants_per_field():
    for campaign in load_campaigns():
        for tone in TONES:
            for field in FIELDS:
                assert len(SEED.variants(campaign, tone, field)) >= 3, (campaign, tone, field)


@pytest.mark.parametrize(("campaign", "tone", "field", "line"), LINES, ids=[f"{c}-{t}-{f}-{i}" for i, (c, t, f, _) in enumerate(LINES)])
def test_every_seed_line_passes_the_guardrails(campaign, tone, field, line):
    intro_max = get_campaign(campaign).copy.intro_max_words if field == "intro" else None
    assert check_copy(line, allowed_slots=SLOTS, field=field, campaign_type=campaign, max_words=intro_max) == []


def test_seed_lines_are_unique_within_a_campaign_and_field():
    for campaign, by_tone in SEED.copy.items():
        for field in FIELDS:
            lines = [line for by_field in by_tone.values() for line in by_field[field]]
            assert len(lines) == len(set(lines)), (campaign, field)


def test_choice_is_deterministic_and_spreads_over_variants():
    picks = {SEED.choose("loyalty", "grateful", f"c-{i}")["intro"] for i in range(60)}
    assert SEED.choose("loyalty", "grateful", "c-1") == SEED.choose("loyalty", "grateful", "c-1")
    assert len(picks) == 3


def test_unknown_tone_falls_back_to_the_campaign_tone():
    assert SEED.variants("clearance", "sarcastic", "subject") == SEED.variants("clearance", "urgent", "subject")
