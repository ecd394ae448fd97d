"""Message catalogs: extract every fixed string, merge it into each language, compile, check.

Inputs:  the runtime package's Python (`N_`, `gettext`, `ngettext`), the email templates
         (`_()`, `{% trans %}`, Jinja's Babel extractor), themes.json and campaigns/definitions.json
         (nudge.i18n.extract_json_strings).
Outputs: layers/runtime/nudge/locales/nudge.pot (the template), <language>/LC_MESSAGES/nudge.po
         (new messages added untranslated, unused ones dropped; English filled with the msgids)
         and nudge.mo (compiled; committed, so `sam build` and a fresh clone need no build step).

`make i18n` runs this and fails on any untranslated, fuzzy or unused message, a placeholder a
translation lost or invented, or a .mo older than its .po; `--check` only checks (writes nothing),
as tests/unit/test_i18n.py does.

    make i18n                                                # extract, merge, compile, check
    PYTHONPATH=layers/runtime python scripts/i18n.py --check  # check only
"""

from __future__ import annotations

import argparse
import copy
import io
import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from nudge.i18n import DOMAIN, LANGUAGES, SOURCE_LANGUAGE

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "layers" / "runtime" / "nudge"
# Fixed header dates: regenerating the catalogs changes nothing unless a message changed.
CATALOG_DATE = datetime(2026, 12, 1, tzinfo=timezone.utc)
HEADER = {"project": "nudge", "version": "1", "copyright_holder": "the nudge authors", "msgid_bugs_address": "",
          "last_translator": "the nudge authors", "language_team": "the nudge authors"}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")  # %(store)s, %(num)d, {first_name}


@dataclass
class I18nConfig:
    package: Path = PACKAGE  # the runtime package that holds the strings and locales/
    languages: tuple[str, ...] = LANGUAGES
    check_only: bool = False  # True: compare and report, write nothing
    # (pattern relative to `package`, Babel extraction method); first match wins, unmatched files are skipped
    method_map: list[tuple[str, str]] = field(default_factory=lambda: [
        ("locales/**", "ignore"),
        ("render/templates/**.html.j2", "jinja2.ext:babel_extract"),
        ("render/templates/**.txt.j2", "jinja2.ext:babel_extract"),
        ("render/themes.json", "nudge.i18n:extract_json_strings"),
        ("campaigns/definitions.json", "nudge.i18n:extract_json_strings"),
        ("**.py", "python"),
    ])

    @property
    def locales(self) -> Path:
        return self.package / "locales"


def extract(config: I18nConfig) -> Catalog:
    """The template catalog: every message the code, templates and theme data use."""
    template = Catalog(domain=DOMAIN, creation_date=CATALOG_DATE, revision_date=CATALOG_DATE,
                       fuzzy=False, charset="utf-8", **HEADER)
    jinja_options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
    options_map = {pattern: jinja_options for pattern, method in config.method_map if method.startswith("jinja2")}
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    for filename, lineno, message, comments, context in extract_from_dir(
        str(config.package), method_map=config.method_map, options_map=options_map, keywords=keywords,
        comment_tags=("Translators:",), strip_comment_tags=True,
    ):
        template.add(message, None, [(f"nudge/{filename}", lineno)], auto_comments=comments, context=context)
    return template


def po_path(config: I18nConfig, language: str) -> Path:
    return config.locales / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path, language: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def english_chrome(language: str, config: I18nConfig | None = None) -> list[str]:
    """The English catalog's strings that `language` translates differently, each cut at its
    placeholders into the fragments a reader would see ("Because you bought", not "%(product)s"):
    what must not appear in an email whose wording is in `language`."""
    config = config or I18nConfig()
    english = read_catalog(po_path(config, SOURCE_LANGUAGE), SOURCE_LANGUAGE)
    other = read_catalog(po_path(config, language), language)
    fragments = []
    for message in english:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        theirs = other.get(message.id if isinstance(message.id, str) else message.id[0]).string
        theirs = [theirs] if isinstance(theirs, str) else list(theirs)
        for text in ids:
            if text in theirs:
                continue  # the same word in both languages ("Bronze", "Gold")
            for piece in re.split(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}", text):
                piece = piece.strip(" ,.:!?()")
                if len(piece) >= 4 and " " in piece or len(piece) >= 6:  # a phrase, or a long word
                    fragments.append(piece)
    return fragments


def compiled(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text or ""))


def problems(template: Catalog, catalog: Catalog, language: str, *, mo_bytes: bytes | None) -> list[str]:
    """Everything wrong with one language's catalog against the template (empty: complete)."""
    found = []
    wanted = {message.id if isinstance(message.id, str) else message.id[0] for message in template if message.id}
    have = {message.id if isinstance(message.id, str) else message.id[0]: message for message in catalog if message.id}
    for msgid in sorted(wanted - have.keys()):
        found.append(f"{language}: missing message {msgid!r} (run `make i18n`, then translate it)")
    for msgid in sorted(have.keys() - wanted):
        found.append(f"{language}: unused message {msgid!r} (no code or template uses it any more)")
    for msgid in sorted(wanted & have.keys()):
        message = have[msgid]
        strings = list(message.string) if isinstance(message.string, (tuple, list)) else [message.string]
        if message.fuzzy:
            found.append(f"{language}: fuzzy message {msgid!r}")
        if not all(strings):
            found.append(f"{language}: untranslated message {msgid!r}")
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        expected = set().union(*(_placeholders(text) for text in ids))
        for text in strings:
            got = _placeholders(text)
            # a plural form may leave the count out ("one item" for 1; Chinese has one form)
            if got - expected or (expected - got) - ({"%(num)s"} if len(ids) > 1 else set()):
                found.append(f"{language}: {msgid!r} -> {text!r} has placeholders {sorted(got)}, expected {sorted(expected)}")
    if mo_bytes is not None and mo_bytes != compiled(catalog):
        found.append(f"{language}: {DOMAIN}.mo is older than {DOMAIN}.po (run `make i18n`)")
    return found


def merge(template: Catalog, language: str, existing: Catalog | None) -> Catalog:
    """`existing` updated to the template: new messages untranslated, unused ones dropped; English
    is the msgids themselves."""
    catalog = existing or Catalog(locale=language, domain=DOMAIN, fuzzy=False, charset="utf-8", **HEADER)
    # a copy: update() shares the template's Message objects, and English fills them in below
    catalog.update(copy.deepcopy(template), no_fuzzy_matching=True, update_header_comment=False)
    catalog.obsolete.clear()
    catalog.creation_date = catalog.revision_date = CATALOG_DATE
    catalog.fuzzy = False
    if language == SOURCE_LANGUAGE:
        for message in catalog:
            if message.id:
                message.string = message.id if isinstance(message.id, str) else tuple(message.id)
    return catalog


def main(config: I18nConfig) -> list[str]:
    """Extract, merge and compile (unless check_only), then check every language; the problems found."""
    template = extract(config)
    found: list[str] = []
    if not config.check_only:
        config.locales.mkdir(parents=True, exist_ok=True)
        with (config.locales / f"{DOMAIN}.pot").open("wb") as handle:
            write_po(handle, template, width=100, sort_output=True, omit_header=False)
    for language in config.languages:
        path = po_path(config, language)
        existing = read_catalog(path, language) if path.exists() else None
        if config.check_only:
            if existing is None:
                found.append(f"{language}: no catalog at {path}")
                continue
            mo = path.with_suffix(".mo")
            found += problems(template, existing, language, mo_bytes=mo.read_bytes() if mo.exists() else b"")
            continue
        catalog = merge(template, language, existing)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, sort_output=True, no_location=True, ignore_obsolete=True)
        catalog = read_catalog(path, language)  # what was written, exactly as the check reads it
        path.with_suffix(".mo").write_bytes(compiled(catalog))
        found += problems(template, catalog, language, mo_bytes=None)
    return found


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="check the catalogs against the code; write nothing")
    args = parser.parse_args()
    issues = main(I18nConfig(check_only=args.check))
    for issue in issues:
        print(issue, file=sys.stderr)
    print(f"i18n: {len(LANGUAGES)} catalogs, {len(issues)} problems", file=sys.stderr)
    sys.exit(1 if issues else 0)
