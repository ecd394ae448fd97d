"""Signed link tokens: round trip, tamper detection, kind separation, expiry, no personal data."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nudge.errors import RenderError
from nudge.render import links

KEY = b"0123456789abcdef0123456789abcdef"
OTHER_KEY = b"fedcba9876543210fedcba9876543210"
SENT = datetime(2026, 11, 29, tzinfo=timezone.utc)  # the campaign's planned send date
EXPIRES = links.LinkTtl().expires_at(links.CLICK, issued=SENT)  # 90 days later
NOW = SENT + timedelta(days=2)


def click_token(**overrides) -> str:
    args = {"campaign_id": "new_arrivals-2026-11-29", "product_id": "p-1", "pseudonymous_id": "u_3f9a1c",
            "expires_at": EXPIRES} | overrides
    return links.sign_click(link_key=KEY, **args)


def test_click_token_round_trips():
    # GIVEN a click token
    token = click_token()
    # WHEN it is verified with the same key
    claim = links.verify_click(token, link_key=KEY, now=NOW)
    # THEN the claim is what was signed
    assert claim == links.LinkClaim(links.CLICK, "new_arrivals-2026-11-29", "u_3f9a1c", "p-1", expires_at=EXPIRES)


def test_unsubscribe_token_round_trips():
    token = links.sign_unsubscribe(campaign_id="c1", pseudonymous_id="u1", link_key=KEY, expires_at=EXPIRES, campaign_type="loyalty")
    assert links.verify_unsubscribe(token, link_key=KEY, now=NOW) == links.LinkClaim(
        links.UNSUBSCRIBE, "c1", "u1", expires_at=EXPIRES, campaign_type="loyalty")


def test_tokens_are_deterministic_and_url_safe():
    assert click_token() == click_token()
    assert set(click_token()) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_token_holds_no_email_or_name():
    # GIVEN a token; WHEN its payload is decoded (it is signed, not encrypted)
    payload = click_token().split(".")[0]
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    # THEN it holds only kind, campaign, product, pseudonymous id and expiry
    assert set(body) == {"k", "c", "p", "u", "e"}


def test_a_changed_payload_is_rejected():
    # GIVEN a token whose payload names another product (attacker re-encodes it)
    payload, signature = click_token().split(".")
    forged = base64.urlsafe_b64encode(b'{"c":"new_arrivals-2026-11-29","e":%d,"k":"click","p":"p-2","u":"u_3f9a1c"}' % EXPIRES)
    # THEN verification fails
    with pytest.raises(links.InvalidTokenError, match="signature"):
        links.verify_click(forged.decode().rstrip("=") + "." + signature, link_key=KEY, now=NOW)


@pytest.mark.parametrize("position", [0, 10, -1, -10])
def test_a_flipped_character_is_rejected(position):
    token = list(click_token())
    token[position] = "A" if token[position] != "A" else "B"
    with pytest.raises(links.InvalidTokenError):
        links.verify_click("".join(token), link_key=KEY, now=NOW)


def test_another_key_is_rejected():
    with pytest.raises(links.InvalidTokenError, match="signature"):
        links.verify_click(click_token(), link_key=OTHER_KEY, now=NOW)


def test_a_click_token_cannot_unsubscribe():
    with pytest.raises(links.WrongKindError, match="expected a unsubscribe token"):
        links.verify_unsubscribe(click_token(), link_key=KEY, now=NOW)


@pytest.mark.parametrize("garbage", ["", ".", "a.b.c", "no-dot", "é.é", "a" * 5000, "====.===="])
def test_garbage_is_rejected_without_crashing(garbage):
    with pytest.raises(links.InvalidTokenError):
        links.verify(garbage, link_key=KEY, now=NOW)


def test_a_short_key_is_refused():
    with pytest.raises(RenderError, match="at least 16 bytes"):
        links.sign_click(campaign_id="c", product_id="p", pseudonymous_id="u", link_key=b"short", expires_at=EXPIRES)


def test_an_empty_identity_is_refused():
    with pytest.raises(RenderError, match="campaign_id and a pseudonymous_id"):
        links.sign_click(campaign_id="", product_id="p", pseudonymous_id="u", link_key=KEY, expires_at=EXPIRES)


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
        campaign_id=campaign_id, product_id=product_id, pseudonymous_id=pseudonymous_id, link_key=KEY, expires_at=EXPIRES
    )
    claim = links.verify_click(token, link_key=KEY, now=NOW)
    assert (claim.campaign_id, claim.product_id, claim.pseudonymous_id) == (campaign_id, product_id, pseudonymous_id)


def test_a_non_canonical_signature_is_rejected():
    # GIVEN a token whose last character differs only in base64's unused low bits
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    token = click_token()
    twin = token[:-1] + alphabet[alphabet.index(token[-1]) ^ 1]
    assert base64.urlsafe_b64decode(twin.split(".")[1] + "=") == base64.urlsafe_b64decode(token.split(".")[1] + "=")
    # THEN only the canonical spelling verifies
    with pytest.raises(links.InvalidTokenError):
        links.verify_click(twin, link_key=KEY, now=NOW)


# ------------------------------------------------------------------------------------------------
# Expiry
# ------------------------------------------------------------------------------------------------
def test_a_token_verifies_until_its_expiry_and_not_a_second_after():
    # GIVEN a click token that expires at EXPIRES
    token = click_token()
    # WHEN it is verified a second before, and at, its expiry
    assert links.verify_click(token, link_key=KEY, now=EXPIRES - 1).product_id == "p-1"
    # THEN the second one is refused as expired (an InvalidTokenError, so every caller refuses it)
    with pytest.raises(links.ExpiredTokenError, match="expired"):
        links.verify_click(token, link_key=KEY, now=EXPIRES)
    assert issubclass(links.ExpiredTokenError, links.InvalidTokenError)


def test_verify_takes_an_aware_datetime_or_unix_seconds_as_now():
    token = click_token()
    assert links.verify_click(token, link_key=KEY, now=NOW) == links.verify_click(token, link_key=KEY, now=NOW.timestamp())
    with pytest.raises(links.ExpiredTokenError):
        links.verify_click(token, link_key=KEY, now=SENT + timedelta(days=90))


def test_an_expiry_cannot_be_pushed_back():
    # GIVEN an expired token whose payload an attacker re-encodes with a later expiry
    payload, signature = click_token(expires_at=int(SENT.timestamp())).split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["e"] = EXPIRES
    longer = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":"), sort_keys=True).encode()).decode().rstrip("=")
    # THEN the signature no longer matches
    with pytest.raises(links.InvalidTokenError, match="signature"):
        links.verify_click(longer + "." + signature, link_key=KEY, now=NOW)


def test_a_token_without_an_expiry_is_refused_even_when_signed():
    # GIVEN a payload without "e", signed with the right key (a token from before expiries)
    payload = base64.urlsafe_b64encode(b'{"c":"c1","k":"click","u":"u1"}').decode().rstrip("=")
    signature = base64.urlsafe_b64encode(links._mac(payload, KEY)).decode().rstrip("=")
    # THEN it does not verify: every token must carry an expiry
    with pytest.raises(links.InvalidTokenError, match="no expiry"):
        links.verify(payload + "." + signature, link_key=KEY, now=NOW)


@pytest.mark.parametrize("expires_at", [0, -1, True, 1.5, "2000000000"])
def test_signing_refuses_a_missing_or_odd_expiry(expires_at):
    with pytest.raises(RenderError, match="expires_at"):
        click_token(expires_at=expires_at)


def test_link_lifetimes_follow_the_send_date_not_the_clock():
    # GIVEN the default lifetimes and a send date
    ttl = links.LinkTtl()
    # THEN clicks (and the open pixel) live 90 days, unsubscribe and preferences links 400
    assert ttl.expires_at(links.CLICK, issued=SENT) == int(SENT.timestamp()) + 90 * 86_400
    assert ttl.expires_at(links.OPEN, issued=SENT) == int(SENT.timestamp()) + 90 * 86_400
    for kind in (links.UNSUBSCRIBE, links.PREFERENCES):
        assert ttl.expires_at(kind, issued=SENT) == int(SENT.timestamp()) + 400 * 86_400
    # AND a naive issue time or an odd lifetime is refused
    with pytest.raises(RenderError, match="timezone-aware"):
        ttl.expires_at(links.CLICK, issued=datetime(2026, 11, 29))
    with pytest.raises(RenderError, match="click_days"):
        links.LinkTtl(click_days=0)
