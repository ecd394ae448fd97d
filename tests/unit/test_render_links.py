"""Signed link tokens: round trip, tamper detection, kind separation, no personal data."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nudge.errors import RenderError
from nudge.render import links

KEY = b"0123456789abcdef0123456789abcdef"
OTHER_KEY = b"fedcba9876543210fedcba9876543210"


def click_token(**overrides) -> str:
    args = {"campaign_id": "new_arrivals-2026-11-29", "product_id": "p-1", "pseudonymous_id": "u_3f9a1c"} | overrides
    return links.sign_click(link_key=KEY, **args)


def test_click_token_round_trips():
    # GIVEN a click token
    token = click_token()
    # WHEN it is verified with the same key
    claim = links.verify_click(token, link_key=KEY)
    # THEN the claim is what was signed
    assert claim == links.LinkClaim(links.CLICK, "new_arrivals-2026-11-29", "u_3f9a1c", "p-1")


def test_unsubscribe_token_round_trips():
    token = links.sign_unsubscribe(campaign_id="c1", pseudonymous_id="u1", link_key=KEY)
    assert links.verify_unsubscribe(token, link_key=KEY) == links.LinkClaim(links.UNSUBSCRIBE, "c1", "u1")


def test_tokens_are_deterministic_and_url_safe():
    assert click_token() == click_token()
    assert set(click_token()) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_token_holds_no_email_or_name():
    # GIVEN a token; WHEN its payload is decoded (it is signed, not encrypted)
    payload = click_token().split(".")[0]
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    # THEN it holds only kind, campaign, product and pseudonymous id
    assert set(body) == {"k", "c", "p", "u"}


def test_a_changed_payload_is_rejected():
    # GIVEN a token whose payload names another product (attacker re-encodes it)
    payload, signature = click_token().split(".")
    forged = base64.urlsafe_b64encode(b'{"c":"new_arrivals-2026-11-29","k":"click","p":"p-2","u":"u_3f9a1c"}')
    # THEN verification fails
    with pytest.raises(links.InvalidTokenError, match="signature"):
        links.verify_click(forged.decode().rstrip("=") + "." + signature, link_key=KEY)


@pytest.mark.parametrize("position", [0, 10, -1, -10])
def test_a_flipped_character_is_rejected(position):
    token = list(click_token())
    token[position] = "A" if token[position] != "A" else "B"
    with pytest.raises(links.InvalidTokenError):
        links.verify_click("".join(token), link_key=KEY)


def test_another_key_is_rejected():
    with pytest.raises(links.InvalidTokenError, match="signature"):
        links.verify_click(click_token(), link_key=OTHER_KEY)


def test_a_click_token_cannot_unsubscribe():
    with pytest.raises(links.InvalidTokenError, match="expected a unsubscribe token"):
        links.verify_unsubscribe(click_token(), link_key=KEY)


@pytest.mark.parametrize("garbage", ["", ".", "a.b.c", "no-dot", "é.é", "a" * 5000, "====.===="])
def test_garbage_is_rejected_without_crashing(garbage):
    with pytest.raises(links.InvalidTokenError):
        links.verify(garbage, link_key=KEY)


def test_a_short_key_is_refused():
    with pytest.raises(RenderError, match="at least 16 bytes"):
        links.sign_click(campaign_id="c", product_id="p", pseudonymous_id="u", link_key=b"short")


def test_an_empty_identity_is_refused():
    with pytest.raises(RenderError, match="campaign_id and a pseudonymous_id"):
        links.sign_click(campaign_id="", product_id="p", pseudonymous_id="u", link_key=KEY)


def test_tracked_url_keeps_the_query_and_fragment_and_replaces_old_utm():
    url = links.tracked_url(
        "https://s.example/p/1?colour=red&utm_source=old#reviews", campaign_id="c1", token="t.s", content="p-1"
    )
    parts = urlsplit(url)
    assert parts.fragment == "reviews"
    assert parse_qsl(parts.query) == [
        ("colour", "red"),
        ("utm_source", "nudge"),
        ("utm_medium", "email"),
        ("utm_campaign", "c1"),
        ("utm_content", "p-1"),
        ("nt", "t.s"),
    ]


@settings(max_examples=60, deadline=None)
@given(
    campaign_id=st.text(min_size=1, max_size=40),
    product_id=st.text(max_size=40),
    pseudonymous_id=st.text(min_size=1, max_size=40),
)
def test_any_claim_round_trips(campaign_id, product_id, pseudonymous_id):
    # GIVEN any unicode ids; WHEN signed and verified; THEN the claim comes back unchanged
    token = links.sign_click(
        campaign_id=campaign_id, product_id=product_id, pseudonymous_id=pseudonymous_id, link_key=KEY
    )
    claim = links.verify_click(token, link_key=KEY)
    assert (claim.campaign_id, claim.product_id, claim.pseudonymous_id) == (campaign_id, product_id, pseudonymous_id)


def test_a_non_canonical_signature_is_rejected():
    # GIVEN a token whose last character differs only in base64's unused low bits
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    token = click_token()
    twin = token[:-1] + alphabet[alphabet.index(token[-1]) ^ 1]
    assert base64.urlsafe_b64decode(twin.split(".")[1] + "=") == base64.urlsafe_b64decode(token.split(".")[1] + "=")
    # THEN only the canonical spelling verifies
    with pytest.raises(links.InvalidTokenError):
        links.verify_click(twin, link_key=KEY)
