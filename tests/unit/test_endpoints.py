"""The link endpoint (nudge.endpoints) against moto: GIVEN a token and a request WHEN it is handled
THEN the right opt-out and event are written once, or a 4xx is answered and nothing is written."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from nudge.endpoints import CONTENT_SECURITY_POLICY, PIXEL, Endpoints, Request
from nudge.render import links
from tests.factories import profile

KEY = b"endpoint-test-link-key-0123456789ab"
OTHER_KEY = b"another-link-key-0123456789abcdefgh"
SENT = datetime(2026, 11, 20, tzinfo=timezone.utc)  # the campaign's send date: tokens expire from it
NOW = SENT + timedelta(days=1, hours=10, minutes=3, seconds=7)
STORE = "https://shop.example.com"
CAMPAIGN = "clearance-2026-11-20"
MUG = "https://shop.example.com/products/sage-mug?colour=sage"


@pytest.fixture
def world(aws):
    """A table with two customers (and their pseudonym items), the event log, a one-product catalog."""
    from nudge.storage import EventLog, ProfileStore
    from nudge_local.stack import create_stack

    stack = create_stack()
    profiles = ProfileStore(stack.table)
    profiles.put_profiles([profile("c1"), profile("c2")])
    for customer_id in ("c1", "c2"):
        profiles.put_pseudonym(f"u_{customer_id}", customer_id)
    events = EventLog(stack.bucket)
    endpoints = Endpoints(link_key=KEY, store_url=STORE, profiles=profiles, events=events,
                          product_url={"p-mug": MUG}.get, store_name="Hearth & <Thread>")
    return SimpleNamespace(endpoints=endpoints, profiles=profiles, events=events, bucket=stack.bucket)


def token(kind: str = links.UNSUBSCRIBE, *, pseudonymous_id: str = "u_c1", campaign_type: str = "clearance",
          product_id: str = "", path: str = "", expires_at: int | None = None, key: bytes = KEY) -> str:
    expires = expires_at or links.LinkTtl().expires_at(kind, issued=SENT)
    claim = links.LinkClaim(kind, CAMPAIGN, pseudonymous_id, product_id=product_id, expires_at=expires,
                            campaign_type=campaign_type, path=path)
    return links.sign(claim, link_key=key)


def request(method: str, route: str, nt: str | None = None, *, query: str | None = None, body: bytes = b"",
            content_type: str = "application/x-www-form-urlencoded", now: datetime = NOW) -> Request:
    if query is None:
        query = "" if nt is None else f"nt={quote(nt, safe='')}"
    return Request(method=method, path=f"/{route}", query=query, headers={"content-type": content_type}, body=body, now=now)


ONE_CLICK = b"List-Unsubscribe=One-Click"


def logged(world, kind: str | None = None) -> list[dict]:
    """Every event object under events/ (of one type), parsed."""
    prefix = f"events/type={kind}/" if kind else "events/"
    s3 = world.events.s3
    return [json.loads(s3.get_object(Bucket=world.bucket, Key=k)["Body"].read()) for k in world.events.keys(prefix)]


def opted(world, customer_id: str = "c1") -> tuple[bool, list[str]]:
    p = world.profiles.get_profile(customer_id)
    return p.opted_out, p.opted_out_campaigns


# ------------------------------------------------------------------------------------------------
# One-click unsubscribe (RFC 8058)
# ------------------------------------------------------------------------------------------------
def test_one_click_post_opts_out_of_everything_and_logs_one_unsubscribe(world):
    # GIVEN c1's unsubscribe token WHEN a mailbox provider POSTs the RFC 8058 body
    response = world.endpoints.handle(request("POST", "unsubscribe", token(), body=ONE_CLICK))
    # THEN a small page says so, the profile is opted out of every campaign, and one event is logged
    assert (response.status, response.outcome) == (200, "unsubscribed")
    assert b"no more marketing emails" in response.body
    assert opted(world) == (True, [])
    assert world.profiles.get_profile("c1").opted_out_of("new_arrivals")
    [event] = logged(world)
    assert (event["type"], event["pseudonymous_id"], event["campaign_id"], event["detail"], event["source"]) == (
        "unsubscribe", "u_c1", CAMPAIGN, "all", "endpoint")
    assert event["at"] == "2026-11-21T10:03:07Z"
    # AND c2 is untouched
    assert opted(world, "c2") == (False, [])


def test_a_replayed_unsubscribe_writes_one_event_and_one_opt_out_even_days_later(world):
    # GIVEN c1 unsubscribed once
    first = world.endpoints.handle(request("POST", "unsubscribe", token(), body=ONE_CLICK))
    # WHEN the same POST arrives again at once, and again two days later (provider retries, a second click)
    again = world.endpoints.handle(request("POST", "unsubscribe", token(), body=ONE_CLICK))
    later = world.endpoints.handle(request("POST", "unsubscribe", token(), body=ONE_CLICK, now=NOW + timedelta(days=2)))
    # THEN all three succeed, only the first is new, and the log holds one event at the first time
    assert [r.status for r in (first, again, later)] == [200, 200, 200]
    assert [r.outcome for r in (first, again, later)] == ["unsubscribed", "unsubscribe_replayed", "unsubscribe_replayed"]
    assert [e["at"] for e in logged(world)] == ["2026-11-21T10:03:07Z"]
    assert opted(world) == (True, [])


def test_the_one_click_body_may_come_as_multipart_form_data(world):
    # GIVEN RFC 8058's preferred encoding, multipart/form-data
    body = (b"--b0undary\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n"
            b"--b0undary--\r\n")
    response = world.endpoints.handle(request("POST", "unsubscribe", token(), body=body,
                                              content_type="multipart/form-data; boundary=b0undary"))
    # THEN it unsubscribes just the same
    assert (response.status, response.outcome) == (200, "unsubscribed")
    assert opted(world) == (True, [])


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_get_and_head_never_unsubscribe_they_show_a_form_that_posts(world, method):
    # GIVEN a link scanner (or the customer) fetching the unsubscribe URL
    response = world.endpoints.handle(request(method, "unsubscribe", token()))
    # THEN the answer is a page whose button POSTs the one-click body back to the same token ...
    assert (response.status, response.outcome) == (200, "unsubscribe_page")
    if method == "GET":
        page = response.body.decode()
        assert '<form method="post" action="?nt=' in page and 'name="List-Unsubscribe" value="One-Click"' in page
    else:
        assert response.body == b""
    # ... and nothing was written
    assert opted(world) == (False, []) and logged(world) == []


def test_a_post_without_the_one_click_body_changes_nothing(world):
    for body in (b"", b"List-Unsubscribe=Yes", b"\xff\xfe", b"a=1&" * 30):
        response = world.endpoints.handle(request("POST", "unsubscribe", token(), body=body))
        assert (response.status, response.outcome) == (400, "bad_request")
    assert opted(world) == (False, []) and logged(world) == []


# ------------------------------------------------------------------------------------------------
# Hostile and broken tokens: a 4xx, nothing written, an outcome to count
# ------------------------------------------------------------------------------------------------
def _flip(text: str, position: int) -> str:
    chars = list(text)
    chars[position] = "A" if chars[position] != "A" else "B"
    return "".join(chars)


HOSTILE = {
    "forged with another key": (lambda: token(key=OTHER_KEY), 403, "invalid_token"),
    "payload altered": (lambda: _flip(token(), 5), 403, "invalid_token"),
    "signature altered": (lambda: _flip(token(), -3), 403, "invalid_token"),
    "expired": (lambda: token(expires_at=int((NOW - timedelta(seconds=1)).timestamp())), 410, "expired_token"),
    "a click token at /unsubscribe": (lambda: token(links.CLICK, product_id="p-mug"), 403, "wrong_kind_token"),
    "a preferences token at /unsubscribe": (lambda: token(links.PREFERENCES), 403, "wrong_kind_token"),
    "oversize": (lambda: "A" * 5000 + "." + "B" * 43, 400, "token_too_long"),
    "garbage": (lambda: "not-a-token", 403, "invalid_token"),
    "two dots": (lambda: token() + ".x", 403, "invalid_token"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_hostile_token_gets_a_4xx_and_writes_nothing(world, case, method):
    make, status, outcome = HOSTILE[case]
    # WHEN the token is sent to the unsubscribe endpoint, with the one-click body
    response = world.endpoints.handle(request(method, "unsubscribe", make(), body=ONE_CLICK))
    # THEN a short plain 4xx comes back, counted, and nothing is written
    assert (response.status, response.outcome) == (status, outcome)
    assert response.rejected and response.headers["Content-Type"].startswith("text/plain")
    assert len(response.body) < 120
    assert opted(world) == (False, []) and logged(world) == []


@pytest.mark.parametrize("query, outcome", [
    ("", "missing_token"),
    ("nt=", "missing_token"),
    ("other=1", "missing_token"),
    ("nt=a.b&nt=c.d", "missing_token"),
    ("x=" + "y" * 5000, "token_too_long"),
    ("&".join(f"f{i}=1" for i in range(40)), "missing_token"),
])
def test_a_missing_ambiguous_or_oversize_query_is_a_400(world, query, outcome):
    response = world.endpoints.handle(request("POST", "unsubscribe", query=query, body=ONE_CLICK))
    assert (response.status, response.outcome) == (400, outcome)
    assert opted(world) == (False, []) and logged(world) == []


def test_an_unknown_pseudonymous_id_is_a_404_and_writes_nothing(world):
    # GIVEN a genuine token for a pseudonymous id with no mapping (never written, or erased)
    response = world.endpoints.handle(request("POST", "unsubscribe", token(pseudonymous_id="u_nobody"), body=ONE_CLICK))
    assert (response.status, response.outcome) == (404, "unknown_customer")
    assert logged(world) == []


def test_an_erased_customer_is_never_recreated_by_an_unsubscribe(world):
    # GIVEN c2 erased while its pseudonym item lingers (erasure deletes both; this is the race)
    world.profiles.delete_customer("c2")
    response = world.endpoints.handle(request("POST", "unsubscribe", token(pseudonymous_id="u_c2"), body=ONE_CLICK))
    # THEN nothing is re-created and nothing is logged
    assert (response.status, response.outcome) == (404, "unknown_customer")
    assert world.profiles.get_profile("c2") is None and logged(world) == []


def test_wrong_methods_routes_and_bodies_are_refused(world):
    cases = [
        (request("DELETE", "unsubscribe", token()), 405, "method_not_allowed"),
        (request("POST", "click", token(links.CLICK, product_id="p-mug")), 405, "method_not_allowed"),
        (request("GET", "admin", token()), 404, "not_found"),
        (request("POST", "unsubscribe", token(), body=b"x" * 10_000), 413, "body_too_large"),
    ]
    for req, status, outcome in cases:
        response = world.endpoints.handle(req)
        assert (response.status, response.outcome) == (status, outcome), req
    assert world.endpoints.handle(request("DELETE", "unsubscribe", token())).headers["Allow"] == "GET, HEAD, POST"
    assert opted(world) == (False, []) and logged(world) == []


# ------------------------------------------------------------------------------------------------
# Preferences
# ------------------------------------------------------------------------------------------------
def test_the_preferences_page_offers_this_campaign_type_or_everything(world):
    response = world.endpoints.handle(request("GET", "preferences", token(links.PREFERENCES)))
    page = response.body.decode()
    assert (response.status, response.outcome) == (200, "preferences_page")
    assert "Stop Clearance emails" in page and 'value="campaign"' in page and 'value="all"' in page
    assert opted(world) == (False, []) and logged(world) == []


def test_stopping_one_campaign_type_excludes_only_that_type(world):
    # WHEN c1 stops clearance emails (twice: a double submit)
    for _ in range(2):
        response = world.endpoints.handle(request("POST", "preferences", token(links.PREFERENCES), body=b"choice=campaign"))
    # THEN the profile holds clearance only, and one preferences event says so
    assert (response.status, response.outcome) == (200, "preferences_replayed")
    assert opted(world) == (False, ["clearance"])
    profile_now = world.profiles.get_profile("c1")
    assert profile_now.opted_out_of("clearance") and not profile_now.opted_out_of("new_arrivals")
    [event] = logged(world, "preferences")
    assert (event["detail"], event["campaign_id"]) == ("clearance", CAMPAIGN)


def test_the_campaign_type_comes_from_the_signed_token_never_from_the_form(world):
    # GIVEN a form that also names another campaign type
    body = b"choice=campaign&campaign_type=loyalty&t=loyalty"
    world.endpoints.handle(request("POST", "preferences", token(links.PREFERENCES), body=body))
    # THEN only the token's type is stopped
    assert opted(world) == (False, ["clearance"])


def test_stopping_everything_from_the_preferences_page(world):
    response = world.endpoints.handle(request("POST", "preferences", token(links.PREFERENCES), body=b"choice=all"))
    assert (response.status, response.outcome) == (200, "preferences_saved")
    assert opted(world) == (True, [])
    assert [e["detail"] for e in logged(world, "preferences")] == ["all"]


def test_a_bad_choice_or_a_token_without_a_campaign_type_changes_nothing(world):
    for req in (request("POST", "preferences", token(links.PREFERENCES), body=b"choice=everything-and-more"),
                request("POST", "preferences", token(links.PREFERENCES, campaign_type=""), body=b"choice=campaign")):
        response = world.endpoints.handle(req)
        assert (response.status, response.outcome) == (400, "bad_request")
    assert opted(world) == (False, []) and logged(world) == []
    # AND an unsubscribe token cannot drive the preferences page
    assert world.endpoints.handle(request("POST", "preferences", token(), body=b"choice=all")).status == 403


# ------------------------------------------------------------------------------------------------
# Click redirect: recorded, then to the catalog's URL; never an open redirect
# ------------------------------------------------------------------------------------------------
def location(response) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(response.headers["Location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)


def test_a_click_is_logged_and_redirected_to_the_catalog_url_with_utm(world):
    response = world.endpoints.handle(request("GET", "click", token(links.CLICK, product_id="p-mug")))
    assert (response.status, response.outcome) == (302, "clicked")
    target, query = location(response)
    assert target == "https://shop.example.com/products/sage-mug"
    assert query == {"colour": ["sage"], "utm_source": ["nudge"], "utm_medium": ["email"],
                     "utm_campaign": [CAMPAIGN], "utm_content": ["p-mug"]}
    assert "nt" not in query  # the token goes no further
    [event] = logged(world, "click")
    assert (event["product_id"], event["pseudonymous_id"], event["at"]) == ("p-mug", "u_c1", "2026-11-21T10:03:07Z")


@pytest.mark.parametrize("attack", [
    "url=https://evil.example/phish",
    "next=//evil.example",
    "redirect=https%3A%2F%2Fevil.example",
    "url=javascript:alert(1)",
])
def test_the_destination_never_comes_from_the_query(world, attack):
    nt = quote(token(links.CLICK, product_id="p-mug"), safe="")
    for query in (f"nt={nt}&{attack}", f"{attack}&nt={nt}"):
        response = world.endpoints.handle(request("GET", "click", query=query))
        assert response.status == 302
        assert location(response)[0] == "https://shop.example.com/products/sage-mug"
        assert "evil" not in response.headers["Location"] and "javascript" not in response.headers["Location"]


@pytest.mark.parametrize("path, expected", [
    ("/new", "https://shop.example.com/new"),
    ("", "https://shop.example.com/"),
    ("//evil.example/x", "https://shop.example.com/"),  # even a signed path cannot leave the store
    ("https://evil.example", "https://shop.example.com/"),
    ("/\\evil.example", "https://shop.example.com/"),
])
def test_a_call_to_action_lands_on_the_store_page_its_token_names(world, path, expected):
    response = world.endpoints.handle(request("GET", "click", token(links.CLICK, path=path)))
    assert response.status == 302 and location(response)[0] == expected
    assert location(response)[1]["utm_content"] == ["cta"]


def test_a_product_gone_from_the_catalog_lands_on_the_store(world):
    response = world.endpoints.handle(request("GET", "click", token(links.CLICK, product_id="p-gone")))
    assert response.status == 302 and location(response)[0] == "https://shop.example.com/"


def test_an_erased_customers_click_still_lands_but_logs_nothing(world):
    # GIVEN a genuine click token whose pseudonymous id maps to nobody any more
    response = world.endpoints.handle(request("GET", "click", token(links.CLICK, pseudonymous_id="u_gone", product_id="p-mug")))
    # THEN the link still works (it is ours, and the destination is the catalog's), and nothing is logged
    assert (response.status, response.outcome) == (302, "click_unknown_customer")
    assert logged(world) == []


def test_a_head_on_a_click_link_is_answered_and_not_logged(world):
    response = world.endpoints.handle(request("HEAD", "click", token(links.CLICK, product_id="p-mug")))
    assert (response.status, response.outcome, response.body) == (302, "click_head", b"")
    assert logged(world) == []


@pytest.mark.parametrize("hostile, status", [
    (lambda: token(links.CLICK, product_id="p-mug", expires_at=int(NOW.timestamp())), 410),
    (lambda: token(links.CLICK, product_id="p-mug", key=OTHER_KEY), 403),
    (lambda: token(links.UNSUBSCRIBE), 403),  # an unsubscribe token is no click token
])
def test_hostile_click_tokens_redirect_nowhere(world, hostile, status):
    response = world.endpoints.handle(request("GET", "click", hostile()))
    assert response.status == status and "Location" not in response.headers
    assert logged(world) == []


# ------------------------------------------------------------------------------------------------
# Open pixel
# ------------------------------------------------------------------------------------------------
def test_the_open_pixel_is_a_gif_and_logs_an_unreliable_open_once_per_second(world):
    for _ in range(2):  # a proxy fetching twice in the same second
        response = world.endpoints.handle(request("GET", "open", token(links.OPEN)))
    assert (response.status, response.body, response.headers["Content-Type"]) == (200, PIXEL, "image/gif")
    assert response.headers["Cache-Control"] == "no-store"
    [event] = logged(world, "open")
    assert event["flags"] == ["unreliable"]


# ------------------------------------------------------------------------------------------------
# Pages: escaped, strict CSP, nothing external
# ------------------------------------------------------------------------------------------------
def test_pages_escape_everything_and_load_nothing_from_anywhere(world):
    pages = [world.endpoints.handle(request("GET", "unsubscribe", token())),
             world.endpoints.handle(request("GET", "preferences", token(links.PREFERENCES))),
             world.endpoints.handle(request("POST", "unsubscribe", token(pseudonymous_id="u_c2"), body=ONE_CLICK))]
    for response in pages:
        page = response.body.decode()
        # THEN the store name "Hearth & <Thread>" is escaped, and no script, image, frame or link loads
        assert "Hearth &amp; &lt;Thread&gt;" in page and "<Thread>" not in page
        for tag in ("<script", "<img", "<iframe", "<link", "src=", "http://", "https://"):
            assert tag not in page
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "default-src 'none'" in CONTENT_SECURITY_POLICY and "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
