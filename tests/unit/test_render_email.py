"""render_email: the .eml, the HTML and the text carry the same facts, deterministically."""

from __future__ import annotations

import email
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from email import policy
from urllib.parse import parse_qs, urlsplit

import pytest

from nudge.campaigns import load_campaigns
from nudge.errors import RenderError
from nudge.render import RenderedEmail, render_email
from nudge.render import links, samples
from nudge.render.lint import lint_html, parse_html

EXPECTED_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "feedback-id",
    "mime-version",
    "content-type",
}


def parse_eml(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def assert_well_formed(rendered: RenderedEmail) -> email.message.EmailMessage:
    """The checks every .eml must pass: parses, the expected headers once each, both parts."""
    msg = parse_eml(rendered.eml)
    names = [name.lower() for name in msg.keys()]
    assert set(names) == EXPECTED_HEADERS, names
    assert len(names) == len(set(names)), f"a header appears twice: {names}"
    assert not msg.defects, msg.defects
    assert msg.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Message-ID"] == rendered.message_id
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.findall(r"<([^<>]+)>", msg["List-Unsubscribe"])
    assert [uri.split(":", 1)[0] for uri in unsubscribe] == ["https", "mailto"]
    assert len(msg["To"].addresses) == 1 and len(msg["From"].addresses) == 1
    assert b"\r\n" in rendered.eml and b"\n" not in rendered.eml.replace(b"\r\n", b"")  # CRLF only
    assert all(len(line) <= 998 for line in rendered.eml.split(b"\r\n"))
    return msg


@pytest.mark.parametrize("campaign_type", sorted(load_campaigns()))
def test_every_campaign_renders_a_well_formed_eml(campaign_type):
    # GIVEN the sample facts for a campaign
    args = samples.email_args(campaign_type)
    # WHEN the email is rendered
    rendered = render_email(**args)
    # THEN the .eml parses with both unsubscribe headers, a text and an html part, a Message-ID
    msg = assert_well_formed(rendered)
    assert msg["To"].addresses[0].addr_spec == "ada@example.com"
    assert msg["Subject"] == rendered.subject == "Ada, a few things we think you'll love"
    # ... the decoded parts are exactly the rendered html and text
    text_part, html_part = msg.iter_parts()
    assert text_part.get_content().replace("\r\n", "\n") == rendered.text
    assert html_part.get_content().replace("\r\n", "\n") == rendered.html
    # ... and the HTML passes the email lint
    assert lint_html(rendered.html) == []


def test_same_input_gives_the_same_email_byte_for_byte():
    # GIVEN the same arguments twice
    # WHEN rendered twice
    first, second = render_email(**samples.email_args()), render_email(**samples.email_args())
    # THEN the bytes are identical (Message-ID and MIME boundary are derived, not random)
    assert first == second


def test_message_id_depends_on_campaign_customer_and_domain_only():
    # GIVEN a base email and variants
    base = render_email(**samples.email_args())
    other_customer = render_email(**samples.email_args(pseudonymous_id="u_other"))
    other_copy = render_email(**samples.email_args(copy=samples.copy(subject="Something else")))
    # THEN the Message-ID changes with the customer, not with the words, and names the domain
    assert base.message_id != other_customer.message_id
    assert base.message_id == other_copy.message_id
    assert re.fullmatch(r"<[0-9a-f]{32}\.nudge@shop\.example\.com>", base.message_id)


def test_html_has_lang_preheader_dark_mode_and_max_width():
    # GIVEN a German customer, and copy written in German
    rendered = render_email(**samples.email_args(customer=samples.customer(locale="de_DE"), copy=samples.copy(language="de")))
    facts = parse_html(rendered.html)
    # THEN the html declares the language, both colour schemes and a 600 px container
    assert facts.all("html")[0]["lang"] == "de-DE"
    assert facts.all("html")[0]["dir"] == "ltr"
    metas = {m.get("name"): m.get("content") for m in facts.all("meta")}
    assert metas["color-scheme"] == "light dark"
    assert "prefers-color-scheme: dark" in rendered.html
    assert any("max-width:600px" in t.get("style", "") for t in facts.all("table"))
    # ... the preheader is hidden text at the top of the body
    preheader = facts.all("div")[0]
    assert "display:none" in preheader["style"]
    assert rendered.html.index("Picked from what you liked last time") < rendered.html.index("Hallo ")  # German greeting
    # ... and CSS is inlined (the template's classes all gained a style attribute)
    assert all("style" in attrs for name, attrs in facts.tags if "class" in attrs and name != "span")


def test_right_to_left_locale_sets_dir_rtl():
    # GIVEN an Arabic-locale customer
    rendered = render_email(**samples.email_args(customer=samples.customer(locale="ar_EG")))
    facts = parse_html(rendered.html)
    # THEN the document is right-to-left, the image gap moves to the image's left side,
    # and each text block takes its direction from its own text (the chrome is English)
    assert facts.all("html")[0]["dir"] == "rtl"
    image_cells = [a for n, a in facts.tags if n == "td" and a.get("class") == "img-cell"]
    assert image_cells and all("padding:0 0 12px 16px" in a["style"] for a in image_cells)
    blocks = [
        a
        for n, a in facts.tags
        if (n == "p" and a["class"] in ("greeting", "copy", "footer-p")) or (n == "td" and a.get("class") == "details")
    ]
    assert len(blocks) == 1 + 2 + 3 + 4 and all(a.get("dir") == "auto" for a in blocks)


def test_unknown_locale_falls_back_to_english():
    rendered = render_email(**samples.email_args(customer=samples.customer(locale="xx_YY")))
    assert parse_html(rendered.html).all("html")[0]["lang"] == "en-GB"


def test_product_cards_show_name_price_reason_and_image_with_size():
    # GIVEN the sample items (a plain one, a clearance one, one without image)
    rendered = render_email(**samples.email_args())
    facts = parse_html(rendered.html)
    # THEN each image has alt = product name and explicit width/height
    images = facts.all("img")
    assert [img["alt"] for img in images] == [
        "Stoneware mug, sage",
        "Linen tea towel, set of two",
        "Hand-thrown porcelain pouring jug with a long and careful name",
    ]
    assert all(img["width"] == "120" and img["height"] == "120" for img in images)
    # ... prices and reasons appear in both parts
    for part in (facts.visible_text, rendered.text):
        assert "£14.00" in part and "Because you bought the oak serving board" in part


def test_clearance_shows_the_clearance_price_and_strikes_the_old_one():
    rendered = render_email(**samples.email_args("clearance"))
    facts = parse_html(rendered.html)
    assert "<s>£18.00</s>" in rendered.html
    assert "£12.60" in facts.visible_text and "−30%" in facts.visible_text  # 18.00 -> 12.60 is 30% off
    assert "£12.60 (was £18.00)" in rendered.text


def test_clearance_price_not_below_price_is_not_shown_as_a_saving():
    # GIVEN a product flagged clearance whose clearance price is not lower
    odd = samples.product("p-9", clearance=True, clearance_price=Decimal("20.00"), price=Decimal("14.00"))
    rendered = render_email(**samples.email_args("clearance", items=[(odd, samples.ranked("p-9"))]))
    # THEN only the real price shows, nothing struck through
    assert "<s>" not in rendered.html and "£14.00" in rendered.text and "was" not in rendered.text


def test_missing_image_becomes_a_placeholder_cell_with_the_name():
    # GIVEN a product without an image
    bare = samples.product("p-5", name="Oak serving board", image_url="")
    rendered = render_email(**samples.email_args(items=[(bare, samples.ranked("p-5"))]))
    facts = parse_html(rendered.html)
    # THEN there is no <img>, and a placeholder cell carries the product name
    assert facts.all("img") == []
    placeholders = [attrs for name, attrs in facts.tags if name == "td" and "placeholder" in attrs.get("class", "")]
    assert len(placeholders) == 1
    assert re.search(r'class="placeholder"[^>]*>Oak serving board</td>', rendered.html)


def test_an_unsafe_image_url_is_treated_as_missing():
    bad = samples.product("p-6", image_url="javascript:alert(1)")
    rendered = render_email(**samples.email_args(items=[(bad, samples.ranked("p-6"))]))
    assert "javascript:" not in rendered.html and parse_html(rendered.html).all("img") == []


def test_links_carry_utm_and_a_click_token_for_the_right_product():
    # GIVEN a rendered email
    args = samples.email_args()
    rendered = render_email(**args)
    hrefs = [a["href"] for a in parse_html(rendered.html).all("a")]
    product_links = [h for h in hrefs if "/products/" in h]
    assert len(product_links) == 3 * 4 - 1  # image, name and call to action per card; the placeholder card has no image link
    for href in product_links + [h for h in hrefs if "utm_content=cta" in h]:
        query = parse_qs(urlsplit(href).query)
        # THEN every tracked link has the UTM parameters ...
        assert query["utm_source"] == ["nudge"] and query["utm_medium"] == ["email"]
        assert query["utm_campaign"] == [args["campaign_id"]]
        # ... and a click token that verifies to this campaign, customer and product
        claim = links.verify_click(query["nt"][0], link_key=args["link_key"], now=args["now"])
        assert claim.campaign_id == args["campaign_id"] and claim.pseudonymous_id == args["pseudonymous_id"]
        assert claim.product_id == query["utm_content"][0] if claim.product_id else query["utm_content"] == ["cta"]
    # ... and nothing personal is in any link
    assert not any("ada" in h.lower() for h in hrefs)
    # AND the text part gives each product's link once, after its call to action
    text_links = [line.strip() for line in rendered.text.splitlines() if "/products/" in line]
    assert len(text_links) == 4 and len(set(text_links)) == 4
    assert all(line.startswith(("View item: ", "Complete your order: ", "Buy again: ")) for line in text_links)


def test_footer_has_address_reason_unsubscribe_and_preferences():
    args = samples.email_args()
    rendered = render_email(**args)
    facts = parse_html(rendered.html)
    for part in (facts.visible_text, rendered.text):
        assert "12 Market Street" in part and "Bristol BS1 4DJ" in part
        assert "You are receiving this email because" in part
    hrefs = [a["href"] for a in facts.all("a")]
    unsubscribe = next(h for h in hrefs if "/unsubscribe" in h)
    preferences = next(h for h in hrefs if "/preferences" in h)
    assert links.verify_unsubscribe(parse_qs(urlsplit(unsubscribe).query)["nt"][0], link_key=args["link_key"], now=args["now"])
    assert links.verify(parse_qs(urlsplit(preferences).query)["nt"][0], link_key=args["link_key"], kind="preferences", now=args["now"])
    # ... the header's https URI is the footer's unsubscribe link
    msg = parse_eml(rendered.eml)
    assert f"<{unsubscribe}>" in msg["List-Unsubscribe"]


def test_store_unsubscribe_settings_are_used_when_given():
    store = samples.store(
        unsubscribe_url="https://u.example.org/out", unsubscribe_mailto="mailto:leave@shop.example.com"
    )
    msg = parse_eml(render_email(**samples.email_args(store=store)).eml)
    assert "<https://u.example.org/out?nt=" in msg["List-Unsubscribe"]
    assert "<mailto:leave@shop.example.com?subject=unsubscribe%20" in msg["List-Unsubscribe"]


def test_text_part_has_the_same_content_as_the_html():
    rendered = render_email(**samples.email_args("loyalty"))
    visible = parse_html(rendered.html).visible_text
    for fact in (
        "Hi Ada,",
        "We have been busy in the workshop.",
        "Oak serving board",
        "£32.50",
        "Popular with customers like you",
        "See your member picks",
        "Hearth & Home",
    ):
        assert fact in visible and fact in rendered.text
    assert "Gold member" in visible


def test_non_ascii_subject_is_rfc2047_encoded():
    rendered = render_email(**samples.email_args(copy=samples.copy(subject="Zoë, nouveautés ✨")))
    raw_headers = rendered.eml.split(b"\r\n\r\n", 1)[0]
    assert raw_headers.isascii() and b"=?utf-8?" in raw_headers
    assert parse_eml(rendered.eml)["Subject"] == "Zoë, nouveautés ✨"


def test_empty_subject_falls_back_to_the_campaign_title():
    rendered = render_email(**samples.email_args("win_back", copy=samples.copy(subject=" \r\n ")))
    assert rendered.subject == "Win-back at Hearth & Home"


def test_no_items_is_a_render_error():
    with pytest.raises(RenderError, match="at least one product"):
        render_email(**samples.email_args(items=[]))


def test_naive_now_is_a_render_error():
    with pytest.raises(RenderError, match="timezone-aware"):
        render_email(**samples.email_args(now=datetime(2026, 11, 29, 9, 0)))


@pytest.mark.parametrize(
    "sender",
    ["", "Shop", "Shop <a@b@c>", "a@b.example, c@d.example", "Shop <news@shop.example.com>\r\nBcc: x@evil.test"],
)
def test_a_malformed_sender_is_a_render_error(sender):
    with pytest.raises(RenderError, match="store sender"):
        render_email(**samples.email_args(store=samples.store(sender=sender)))


@pytest.mark.parametrize(
    "address", ["ada@example.com\r\nBcc: x@evil.test", "ada example.com", "a@b", "a@b.com, c@d.com"]
)
def test_a_malformed_customer_email_is_a_render_error(address):
    with pytest.raises(RenderError, match="email"):
        render_email(**samples.email_args(customer=samples.customer(email=address)))


def test_a_non_https_base_url_is_a_render_error():
    with pytest.raises(RenderError, match="base_url"):
        render_email(**samples.email_args(store=samples.store(base_url="javascript:alert(1)")))


def test_a_short_link_key_is_a_render_error():
    with pytest.raises(RenderError, match="link_key"):
        render_email(**samples.email_args(link_key=b"short"))


def test_an_invalid_currency_is_a_render_error():
    bad = samples.product("p-7", currency="€")
    with pytest.raises(RenderError, match="ISO 4217"):
        render_email(**samples.email_args(items=[(bad, samples.ranked("p-7"))]))


def test_many_items_are_capped_and_the_html_stays_under_gmail_clipping():
    # GIVEN 30 products with the longest allowed names
    many = [(samples.product(f"p-{i}", name="N" * 500), samples.ranked(f"p-{i}", "R" * 500)) for i in range(30)]
    rendered = render_email(**samples.email_args(items=many))
    # THEN at most MAX_ITEMS cards are shown and the HTML stays far below Gmail's 102 KB clip
    assert rendered.html.count('class="card"') == 12
    assert len(rendered.html.encode()) < 102 * 1024


def test_idn_customer_domain_is_punycoded():
    msg = parse_eml(render_email(**samples.email_args(customer=samples.customer(email="ada@bücher.example"))).eml)
    assert msg["To"].addresses[0].domain == "xn--bcher-kva.example"


def test_rendered_email_is_frozen():
    rendered = render_email(**samples.email_args())
    with pytest.raises(AttributeError):
        rendered.subject = "changed"  # type: ignore[misc]
    assert replace(rendered, subject="x").subject == "x"


def test_float_prices_are_read_as_decimals():
    odd = samples.product("p-8", price=18.0, clearance=True, clearance_price=12.6)
    rendered = render_email(**samples.email_args("clearance", items=[(odd, samples.ranked("p-8"))]))
    assert "£12.60 (was £18.00)" in rendered.text and "&minus;30%" in rendered.html


@pytest.mark.parametrize("price", [Decimal("NaN"), Decimal("-1"), "twelve", float("inf")])
def test_a_price_that_is_not_a_finite_amount_is_a_render_error(price):
    odd = samples.product("p-8", price=price)
    with pytest.raises(RenderError, match="p-8"):
        render_email(**samples.email_args(items=[(odd, samples.ranked("p-8"))]))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://shop.example.com/mug?c=1", "https://shop.example.com/mug?c=1&"),
        ("/catalogue/mug", "https://shop.example.com/catalogue/mug?"),
        ("//evil.test/x", "https://shop.example.com/products/p-8?"),
        ("javascript:alert(1)", "https://shop.example.com/products/p-8?"),
        ("", "https://shop.example.com/products/p-8?"),
    ],
)
def test_product_links_use_the_product_url_when_safe(url, expected):
    product = samples.product("p-8", url=url)
    rendered = render_email(**samples.email_args(items=[(product, samples.ranked("p-8"))]))
    assert any(a["href"].startswith(expected) for a in parse_html(rendered.html).all("a"))


def test_a_plain_http_unsubscribe_url_is_a_render_error():
    # GIVEN a store whose unsubscribe endpoint would be plain http (RFC 8058 requires https)
    with pytest.raises(RenderError, match="https for one-click"):
        render_email(**samples.email_args(store=samples.store(base_url="http://shop.example.com")))
    # ... an explicit https endpoint is enough
    store = samples.store(base_url="http://shop.example.com", unsubscribe_url="https://shop.example.com/u")
    assert render_email(**samples.email_args(store=store)).eml


# ------------------------------------------------------------------------------------------------
# Links through the link endpoint (nudge.endpoints), expiry from the send date, the open pixel
# ------------------------------------------------------------------------------------------------
ENDPOINT = "https://links.example.net"


def endpoint_store(**overrides):
    return samples.store(unsubscribe_url=f"{ENDPOINT}/unsubscribe", preferences_url=f"{ENDPOINT}/preferences",
                         click_url=f"{ENDPOINT}/click", **overrides)


def test_with_a_click_endpoint_every_tracked_link_goes_through_it_carrying_only_the_token():
    # GIVEN a store whose links go through the link endpoint
    args = samples.email_args(store=endpoint_store())
    rendered = render_email(**args)
    hrefs = [a["href"] for a in parse_html(rendered.html).all("a")]
    clicks = [h for h in hrefs if h.startswith(f"{ENDPOINT}/click?")]
    # THEN product, call-to-action and header links all point at /click with one parameter: the token
    assert len(clicks) == 3 * 4 - 1 + 2  # image, name, call to action per card (no image on one); the main CTA; the header
    claims = []
    for href in clicks:
        query = parse_qs(urlsplit(href).query)
        assert list(query) == ["nt"]
        claims.append(links.verify_click(query["nt"][0], link_key=args["link_key"], now=args["now"]))
    # AND the products' tokens name their product; the call to action names its page on the store
    assert {c.product_id for c in claims} == {"", *(p.product_id for p, _ in args["items"][1:]), args["items"][0][0].product_id}
    assert {c.path for c in claims if not c.product_id} == {"/", "/new"}
    assert {c.campaign_type for c in claims} == {"new_arrivals"}
    # AND the List-Unsubscribe header and the footer name the endpoint
    msg = parse_eml(rendered.eml)
    assert f"<{ENDPOINT}/unsubscribe?nt=" in msg["List-Unsubscribe"]
    assert any(h.startswith(f"{ENDPOINT}/preferences?nt=") for h in hrefs)
    assert f"{ENDPOINT}/click?nt=" in rendered.text


def test_link_expiry_comes_from_the_send_date_so_a_rerender_mints_the_same_tokens():
    # GIVEN the same email rendered at two different wall-clock times for the same send date
    sent = datetime(2026, 11, 29, tzinfo=timezone.utc)
    first = render_email(**samples.email_args(store=endpoint_store(), links_issued_at=sent))
    later = render_email(**samples.email_args(store=endpoint_store(), links_issued_at=sent, now=samples.NOW + timedelta(hours=5)))
    # THEN every link is the same (only the Date header moved)
    assert first.html == later.html and first.text == later.text
    # AND click tokens live 90 days after the send date, unsubscribe tokens 400
    unsubscribe = re.search(r"unsubscribe\?nt=([^\"&\s]+)", first.html).group(1)
    claim = links.verify_unsubscribe(unsubscribe, link_key=samples.LINK_KEY, now=sent)
    assert claim.expires_at == int(sent.timestamp()) + 400 * 86_400
    click = re.search(r"click\?nt=([^\"&\s]+)", first.html).group(1)
    assert links.verify_click(click, link_key=samples.LINK_KEY, now=sent).expires_at == int(sent.timestamp()) + 90 * 86_400


def test_the_open_pixel_is_there_only_when_the_store_turns_it_on():
    # GIVEN the same email without and with an open pixel URL
    without = render_email(**samples.email_args(store=endpoint_store()))
    with_pixel = render_email(**samples.email_args(store=endpoint_store(open_url=f"{ENDPOINT}/open")))
    # THEN only the second has the 1x1 image, with a valid open token, and it still lints clean
    assert "/open?nt=" not in without.html
    [pixel] = [img for img in parse_html(with_pixel.html).all("img") if "/open?nt=" in img["src"]]
    assert (pixel["width"], pixel["height"], pixel["alt"]) == ("1", "1", "")
    token = parse_qs(urlsplit(pixel["src"]).query)["nt"][0]
    assert links.verify(token, link_key=samples.LINK_KEY, kind=links.OPEN, now=samples.NOW).campaign_id == "new_arrivals-2026-11-29"
    assert lint_html(with_pixel.html) == []
