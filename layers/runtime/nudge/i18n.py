"""Fixed wording in the customer's language: gettext catalogs (Babel) and the choice of language.

Every fixed string of an email (banner, greeting, section titles, button, product reasons, footer,
unsubscribe text, the subject fallback) and of the link endpoint's pages is an English msgid
marked in code (`N_` / `gettext` / `ngettext`), in the Jinja templates (`_()`, `{% trans %}`) or
in themes.json and campaigns/definitions.json; `scripts/i18n.py` (`make i18n`) extracts them with
Babel into `locales/nudge.pot`, merges them into `locales/<language>/LC_MESSAGES/nudge.po` and
compiles the `.mo` files that ship in the layer. Numbers, prices and dates are formatted by Babel
for the locale chosen here.

The customer's locale picks the language. A language without a catalog (say pt_BR) falls back to
the store's default locale, and `LanguageChoice.fallback` says so (the email's record keeps it). An
email is in one language: the wording follows the language the copy is written in (`written_in`).

>>> choice = choose_language("fr_FR", default_locale="en_GB")
>>> choice.language, choice.html_lang, choice.fallback
('fr', 'fr-FR', False)
>>> choose_language("pt_BR", default_locale="en_GB").language
'en'
>>> translations("de").gettext("Unsubscribe")
'Abmelden'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Iterator

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations

from nudge.errors import RenderError

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "nudge"
SOURCE_LANGUAGE = "en"  # msgids are English; the en catalog is filled with them
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "zh_Hans")  # one catalog each
DEFAULT_LOCALE = "en_GB"  # a store that names no default locale


def N_(message: str) -> str:
    """Marks a message for extraction without translating it (translated where it is shown)."""
    return message


@dataclass(frozen=True, slots=True)
class LanguageChoice:
    """The language an email (or page) is written in, and the locale its numbers are formatted in."""

    requested: str  # the customer's locale as given ("fr_FR", "pt-BR", "")
    language: str  # one of LANGUAGES
    locale: Locale  # for Babel's prices, numbers and plurals: the customer's, or the store's when unreadable
    fallback: bool  # True when the customer's language has no catalog
    text_locale: Locale  # the locale of the words: the customer's, or the store's on a fallback

    @property
    def html_lang(self) -> str:
        """BCP 47 tag for `lang=""`: the catalog's language with its locale's region ("fr-FR",
        "zh-Hans-CN"; the store's locale, "en-GB", on a fallback)."""
        region = self.text_locale.territory
        return self.language.replace("_", "-") + (f"-{region}" if region else "")

    @property
    def direction(self) -> str:
        """"ltr" or "rtl", from CLDR for the customer's locale (text blocks also carry dir="auto",
        so a fallback language's words still run their own way)."""
        return self.locale.text_direction

    def record(self) -> dict[str, Any]:
        """What the email's audit record says about its language."""
        return {"requested": self.requested, "used": self.language, "fallback": self.fallback}


def _parse(tag: str) -> Locale | None:
    try:
        return Locale.parse((tag or "").strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def catalog_language(locale: Locale) -> str | None:
    """The catalog for a parsed locale, or None. Chinese is Simplified unless the locale says
    Traditional (zh_Hant, or a zh_TW / zh_HK / zh_MO locale, which CLDR writes in Hant)."""
    if locale.language == "zh":
        script = locale.script or ("Hant" if locale.territory in ("TW", "HK", "MO") else "Hans")
        return "zh_Hans" if script == "Hans" else None
    return locale.language if locale.language in LANGUAGES else None


def choose_language(requested: str, *, default_locale: str = DEFAULT_LOCALE, written_in: str | None = None) -> LanguageChoice:
    """The catalog language for a customer's locale, else the store's default locale's (a fallback).

    `written_in`: the language the email's copy is written in (`Copy.language`). The fixed wording
    then follows it, whatever the locale asks for, so an email is never half one language: a French
    customer whose copy is English gets English wording, and the record says French was asked for.

    >>> choice = choose_language("fr_FR", default_locale="en_GB", written_in="en")
    >>> choice.language, choice.fallback, choice.html_lang
    ('en', True, 'en-GB')
    """
    locale = _parse(requested)
    language = catalog_language(locale) if locale is not None else None
    if written_in is not None and written_in not in LANGUAGES:
        raise RenderError(f"copy written in {written_in!r}, which has no catalog; expected one of {LANGUAGES}")
    if language is not None and written_in in (None, language):
        return LanguageChoice(requested=requested, language=language, locale=locale, fallback=False, text_locale=locale)
    default = _parse(default_locale) or Locale.parse(DEFAULT_LOCALE)
    if written_in is not None and catalog_language(default) != written_in:
        default = Locale.parse(written_in.replace("zh_Hans", "zh_Hans_CN")) if written_in != "en" else Locale.parse(DEFAULT_LOCALE)
    language = catalog_language(default)
    if language is None:
        raise RenderError(f"the store's default locale {default_locale!r} has no catalog; expected one of {LANGUAGES}")
    # prices keep the customer's own formatting (ja_JP: "￥1,200") when Babel knows the locale
    return LanguageChoice(requested=requested, language=language, locale=locale or default, fallback=True,
                          text_locale=default)


def negotiate(accept_language: str, *, default: str = SOURCE_LANGUAGE) -> str:
    """The best catalog language for an HTTP Accept-Language header ("fr-CH, fr;q=0.9, en;q=0.8")."""
    ranked = []
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip()))
    for quality, _, tag in sorted(ranked):
        locale = _parse(tag) if quality < 0 and tag != "*" else None
        language = catalog_language(locale) if locale is not None else None
        if language:
            return language
    return default


@cache
def translations(language: str) -> Translations | NullTranslations:
    """The compiled catalog of `language` (loaded once per container). English is the msgids
    themselves; any other language without its .mo is a packaging error, not a silent English email."""
    if language not in LANGUAGES:
        raise RenderError(f"no catalog for language {language!r}; expected one of {LANGUAGES}")
    found = Translations.load(str(LOCALES_DIR), [language], DOMAIN)
    if not isinstance(found, Translations) and language != SOURCE_LANGUAGE:
        raise RenderError(f"catalog {LOCALES_DIR}/{language}/LC_MESSAGES/{DOMAIN}.mo is missing (run `make i18n`)")
    return found


def gettext_functions(language: str) -> dict[str, Any]:
    """`gettext` and `ngettext` for a Jinja render context (the i18n extension resolves them there)."""
    catalog = translations(language)
    return {"gettext": catalog.gettext, "ngettext": catalog.ngettext}


# --- extraction (used by scripts/i18n.py through Babel's method map; never at run time) ----------
THEME_TEXT_KEYS = ("banner", "greeting", "greeting_anonymous", "products_heading", "cta_label", "why")


def extract_json_strings(fileobj: Any, keywords: Any, comment_tags: Any, options: dict[str, Any]) -> Iterator[tuple]:
    """A Babel extraction method for themes.json (the wording keys) and campaigns/definitions.json
    (campaign titles): yields (lineno, funcname, message, comments) as Babel expects."""
    import json

    text = fileobj.read().decode("utf-8")
    data = json.loads(text)
    lines = text.splitlines()

    def line_of(message: str) -> int:
        needle = json.dumps(message, ensure_ascii=False)
        return next((n for n, line in enumerate(lines, 1) if needle in line), 0)

    if "campaigns" in data:  # campaigns/definitions.json
        for key, spec in data["campaigns"].items():
            if isinstance(spec, dict) and spec.get("title"):
                yield line_of(spec["title"]), None, spec["title"], [f"campaign title ({key}), as customers read it"]
        return
    for name, spec in data.items():  # themes.json
        if not isinstance(spec, dict) or name.startswith("_"):
            continue
        for key in THEME_TEXT_KEYS:
            if spec.get(key):
                yield line_of(spec[key]), None, spec[key], [f"{name} email: {key}; keep {{store}} and {{first_name}} as they are"]
