"""The store's facts as an artifact (nudge.store.facts) and the Engine's choice of offer per email.
GIVEN offers and loyalty tiers WHEN written beside the artifacts and read back THEN they are the same,
and an email gets an offer only when it is valid on the send date, not expired by the time it is
composed, and meant for its audience."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from nudge.errors import ArtifactMismatchError
from nudge.jobs import Job, JobContext
from nudge.offers import Offer
from nudge.pipeline import Engine
from nudge.store.facts import FACTS_DIR, StoreFacts, load_store_facts, save_store_facts

TIERS = (("bronze", 0), ("silver", 500), ("gold", 1500))


def offer(offer_id="bday", **overrides):
    base = dict(offer_id=offer_id, title="Birthday treat", kind="percent", value=Decimal("15"), currency="GBP", code="BDAY15",
                valid_from=date(2026, 12, 1), valid_until=date(2026, 12, 31), campaign_types=("birthday_holiday",),
                audience="birthday")
    return Offer(**(base | overrides))


def job(kind="birthday_holiday", send_date=date(2026, 12, 10), holiday=None):
    return Job(campaign_id=f"{kind.replace('_', '-')}-x", campaign_type=kind, customer_id="c-1", send_date=send_date,
               context=JobContext(holiday=holiday))


def engine(*offers):
    return Engine(None, None, None, None, b"k" * 32, b"l" * 32, facts=StoreFacts(offers=list(offers), tiers=TIERS))


def test_store_facts_round_trip_through_the_artifact_folder(tmp_path):
    clearance = offer("clear", code="CLEAR-10", campaign_types=("clearance",), audience="all")
    save_store_facts(tmp_path, offers=[offer(), clearance], currency="GBP", points_name="points", tiers=TIERS)
    facts = load_store_facts(tmp_path)
    assert facts.offers == [offer(), clearance] and facts.tiers == TIERS and facts.points_name == "points"


def test_no_store_folder_means_no_offers_and_no_tiers(tmp_path):
    assert load_store_facts(tmp_path) == StoreFacts()


def test_a_loyalty_file_of_another_schema_is_refused(tmp_path):
    (tmp_path / FACTS_DIR).mkdir()
    (tmp_path / FACTS_DIR / "loyalty.json").write_text(json.dumps({"schema_version": 9, "tiers": []}))
    with pytest.raises(ArtifactMismatchError, match="schema_version 1"):
        load_store_facts(tmp_path)


NOW = datetime(2026, 12, 10, 8, tzinfo=timezone.utc)


def test_a_birthday_email_gets_the_birthday_offer_a_holiday_greeting_does_not():
    assert engine(offer()).offer_for(job(), now=NOW).code == "BDAY15"
    assert engine(offer()).offer_for(job(holiday="Hanukkah"), now=NOW) is None


def test_an_offer_outside_its_dates_or_expired_by_the_time_of_composing_is_not_sent():
    assert engine(offer()).offer_for(job(send_date=date(2027, 1, 2)), now=NOW) is None  # after valid_until
    assert engine(offer()).offer_for(job(send_date=date(2026, 11, 30)), now=NOW) is None  # before valid_from
    late = datetime(2027, 1, 1, 9, tzinfo=timezone.utc)  # a retry a day after the offer ended
    assert engine(offer()).offer_for(job(send_date=date(2026, 12, 31)), now=late) is None


def test_an_offer_goes_only_to_its_campaign_types():
    assert engine(offer()).offer_for(job("win_back"), now=NOW) is None


def test_a_run_that_names_an_offer_gets_that_offer_or_none_never_another():
    # GIVEN the campaign's birthday offer and a second one a run may name
    vip = offer("vip", code="VIP20", audience="all", valid_from=date(2026, 12, 5), valid_until=date(2026, 12, 20))
    named = Job(campaign_id="bday-x", campaign_type="birthday_holiday", customer_id="c-1", send_date=date(2026, 12, 10),
                context=JobContext(offer_id="vip"))
    assert engine(offer(), vip).offer_for(named, now=NOW).code == "VIP20"
    # a named offer that cannot go out is not replaced by the campaign's
    gone = named.model_copy(update={"context": JobContext(offer_id="nope")})
    assert engine(offer(), vip).offer_for(gone, now=NOW) is None
