"""Fixed wording in the customer's language (nudge.i18n, scripts/i18n.py, issue #15 item 1):
GIVEN a customer's locale WHEN an email or a link page is rendered THEN its chrome comes from that
language's catalog, or from the store's default language, and says which."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from nudge.endpoints import Endpoints, Request
from nudge.errors import RenderError
from nudge.i18n import LANGUAGES, choose_language, negotiate, translations
from nudge.recommend.reasons import explain
from nudge.render import links, render_email, samples
from nudge.types import RankedItem
from scripts.i18n import I18nConfig, english_chrome, main as check_catalogs

CAMPAIGNS = ("new_arrivals", "abandoned_cart", "birthday_holiday", "loyalty", "clearance", "win_back")
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=timezone.utc)


def french_email(campaign_type: str, *, locale: str = "fr_FR", cart_items: int = 1, written_in: str = "fr"):
    """A French customer's email: reasons with keys, a loyalty tier, a clearance saving, and copy
    that is itself French (the copywriter's part is not the catalogs' business)."""
    products = [samples.product(f"p-{n}", name=f"Bol {n}", clearance=True, clearance_price=samples.product().price / 2)
                for n in range(1, 5)]
    keys = ["in_cart"] * cart_items + ["bought", "new_in_liked", "popular"]
    ranked = [RankedItem(p.product_id, 0.9, *explain(key, **({"product": "Bol 9"} if key == "bought" else {"category": "Cuisine"}
                                                             if key != "in_cart" else {})))
              for p, key in zip(products, keys)]
    copy = samples.copy(subject="Ada, quelques idées", preheader="Choisies pour vous", intro="Nous avons pensé à vous.",
                        language=written_in)
    customer = replace(samples.customer(locale=locale), loyalty_tier="gold")
    return render_email(**samples.email_args(campaign_type, customer=customer, items=list(zip(products, ranked)), copy=copy))


def test_the_catalogs_are_complete_and_compiled():
    # GIVEN the messages extracted from the code, the templates and the theme data (Babel)
    # WHEN each language's catalog is compared with them
    problems = check_catalogs(I18nConfig(check_only=True))
    # THEN none is missing, untranslated, fuzzy, unused, has lost a placeholder or has a stale .mo
    assert problems == []
    assert set(LANGUAGES) == {"en", "fr", "de", "es", "it", "nl", "zh_Hans"}


@pytest.mark.parametrize("campaign_type", CAMPAIGNS)
def test_a_french_customer_reads_no_english_chrome(campaign_type):
    # GIVEN a fr_FR customer
    # WHEN their email is rendered
    email = french_email(campaign_type)
    # THEN neither the text part nor the HTML holds a string of the English catalog
    html_text = unescape(re.sub(r"<[^>]+>", " ", email.html))
    for fragment in english_chrome("fr"):
        assert fragment not in email.text, f"English chrome {fragment!r} in the text part"
        assert fragment not in html_text, f"English chrome {fragment!r} in the HTML"
    # ... and the document says it is French, left to right
    html_tag = re.search(r"<html [^>]*>", email.html).group(0)
    assert 'lang="fr-FR"' in html_tag and 'dir="ltr"' in html_tag
    assert email.language.record() == {"requested": "fr_FR", "used": "fr", "fallback": False}


def test_french_chrome_words_prices_and_plurals():
    # GIVEN a French customer with one item, then two, left in the cart
    one, two = french_email("abandoned_cart", cart_items=1), french_email("abandoned_cart", cart_items=2)
    # THEN the wording is the French catalog's, counted with French plural rules
    assert "1 article vous attend encore dans votre panier" in one.text
    assert "2 articles vous attendent encore dans votre panier" in two.text
    assert "Se désabonner\u00a0: https://" in one.text and "Retourner à votre panier" in one.html
    assert "Parce que vous avez acheté Bol 9" in one.text and "Toujours dans votre panier" in one.text
    # ... and prices, the saving and the tier follow the locale (Babel)
    assert "7,00\u00a0£GB" in one.text and "(au lieu de 14,00\u00a0£GB)" in one.text
    clearance = french_email("clearance")
    assert "&minus;50\u00a0%" in clearance.html
    assert "Membre Or" in french_email("loyalty").html


@pytest.mark.parametrize(
    "locale, language, lang_attribute",
    [("de_DE", "de", "de-DE"), ("es-ES", "es", "es-ES"), ("it_IT", "it", "it-IT"), ("nl_NL", "nl", "nl-NL"),
     ("zh_CN", "zh_Hans", "zh-Hans-CN"), ("zh_Hans_SG", "zh_Hans", "zh-Hans-SG"), ("en_US", "en", "en-US")],
)
def test_each_supported_locale_gets_its_catalog(locale, language, lang_attribute):
    # GIVEN a customer in a locale with a catalog, and copy written in its language
    email = french_email("win_back", locale=locale, written_in=language)
    # THEN the email is written in it and says so
    assert email.language.language == language and not email.language.fallback
    assert f'lang="{lang_attribute}"' in email.html
    assert translations(language).gettext("Unsubscribe") in email.html


@pytest.mark.parametrize("locale", ["pt_BR", "zh_TW", "xx_YY", ""])
def test_an_unsupported_locale_falls_back_to_the_store_language_and_says_so(locale):
    # GIVEN a store whose default locale is German, a customer whose language has no catalog, and copy the
    # copywriter wrote in the store's language
    store = replace(samples.store(), default_locale="de_DE")
    customer = samples.customer(locale=locale)
    # WHEN the email is rendered
    email = render_email(**samples.email_args("new_arrivals", customer=customer, store=store, copy=samples.copy(language="de")))
    # THEN the chrome is the store's language, the HTML says so, and so does the record
    assert "Abmelden" in email.html and "Abmelden: https://" in email.text
    assert re.search(r'<html lang="de-DE"', email.html)
    assert email.language.record() == {"requested": locale, "used": "de", "fallback": True}


def test_language_choice_and_negotiation():
    assert choose_language("fr_CA").language == "fr"
    assert choose_language("zh_HK").fallback  # Traditional script: no catalog yet
    assert choose_language("pt_BR", default_locale="nl_NL").language == "nl"
    assert negotiate("pt-BR, de;q=0.8, fr;q=0.9") == "fr"
    assert negotiate("da, *;q=0.5", default="es") == "es"
    assert negotiate("zh-CN,zh;q=0.9") == "zh_Hans"


class _Profiles:
    def customer_for_pseudonym(self, pseudonymous_id):
        return "c1" if pseudonymous_id == "u_3f9a1c" else None


def _page(url: str, *, headers=None) -> tuple[int, str, dict]:
    endpoints = Endpoints(link_key=samples.LINK_KEY, store_url="https://shop.example.com", profiles=_Profiles(),
                          events=None, product_url=lambda pid: None, store_name="Hearth & Home")
    parts = urlsplit(url)
    response = endpoints.handle(Request(method="GET", path=parts.path, query=parts.query, headers=headers or {}, now=NOW))
    return response.status, response.body.decode("utf-8"), response.headers


@pytest.mark.parametrize("route", ["unsubscribe", "preferences"])
def test_the_link_pages_render_in_the_emails_language(route):
    # GIVEN a French customer's email
    email = french_email("clearance")
    url = next(u for u in re.findall(r'href="([^"]+)"', unescape(email.html)) if f"/{route}?" in u)
    # WHEN its unsubscribe or preferences link is opened (the token names the language, signed)
    assert links.verify(parse_qs(urlsplit(url).query)["nt"][0], link_key=samples.LINK_KEY, now=NOW).language == "fr"
    status, body, headers = _page(url)
    # THEN the page is French
    assert status == 200 and '<html lang="fr" dir="ltr">' in body and headers["Content-Language"] == "fr"
    if route == "unsubscribe":
        assert "Ne plus recevoir aucun e-mail marketing de Hearth &amp; Home\u00a0?" in body and ">Se désabonner</button>" in body
    else:
        assert "Quels e-mails ne souhaitez-vous plus recevoir\u00a0?" in body
        assert "Ne plus recevoir les e-mails «\u00a0Déstockage\u00a0»" in body
    for fragment in ("Stop all marketing", "Which emails", "Unsubscribe<", "Email preferences"):
        assert fragment not in body


def test_an_error_before_the_token_is_read_follows_the_browser_language():
    # GIVEN a link with a forged token, opened by a German browser
    status, body, _ = _page("https://shop.example.com/unsubscribe?nt=forged.token", headers={"accept-language": "de-DE,de;q=0.9"})
    # THEN the short message is German
    assert status == 403 and body.strip() == "Dieser Link ist nicht gültig."


@pytest.mark.parametrize("locale", ["fr_FR", "de_DE", "zh_CN"])
def test_an_email_is_in_one_language_the_one_its_copy_is_written_in(locale):
    # GIVEN a customer whose locale has a catalog, and copy written in English (a store whose copy falls back to English)
    customer = samples.customer(locale=locale)
    # WHEN the email is rendered
    email = render_email(**samples.email_args("new_arrivals", customer=customer, copy=samples.copy()))
    # THEN its fixed wording is English too, never half one language, and the record says what was asked for
    assert "Unsubscribe" in email.html and 'lang="en-' in email.html
    assert email.language.record() == {"requested": locale, "used": "en", "fallback": True}


def test_copy_in_a_language_without_a_catalog_is_refused():
    # GIVEN copy claiming a language nudge has no catalog for THEN rendering refuses it rather than mixing languages
    with pytest.raises(RenderError, match="no catalog"):
        render_email(**samples.email_args("new_arrivals", copy=samples.copy(language="pt")))
