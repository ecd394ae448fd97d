"""Templates and themes: CSS inlined at load time, per-campaign blocks, readable colours."""

from __future__ import annotations

import re

import pytest

from nudge.campaigns import load_campaigns
from nudge.errors import RenderError
from nudge.render import render_email, samples
from nudge.render.sanitize import clean_block, clean_line, safe_http_url, truncate
from nudge.render.templating import (
    TEMPLATES_DIR,
    email_templates,
    inline_styles,
    load_themes,
    parse_inline_css,
)

# Colours the stylesheets pair as text on background, light and dark (see inline.css, head.css).
LIGHT_PAIRS = [
    ("#18181b", "#ffffff"),
    ("#27272a", "#ffffff"),
    ("#52525b", "#ffffff"),
    ("#3f3f46", "#ffffff"),
    ("#3f3f46", "#e4e4e7"),
    ("#b91c1c", "#ffffff"),
    ("#52525b", "#f4f4f5"),
    ("#b45309", "#ffffff"),  # rating stars
    ("#18181b", "#f4f4f5"),  # the offer's code
]
DARK_PAIRS = [
    ("#f4f4f5", "#27272a"),
    ("#e4e4e7", "#27272a"),
    ("#d4d4d8", "#27272a"),
    ("#fca5a5", "#27272a"),
    ("#f4f4f5", "#3f3f46"),
    ("#d4d4d8", "#18181b"),
    ("#fbbf24", "#27272a"),  # rating stars
]


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_helper_knows_black_on_white():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)


@pytest.mark.parametrize(("foreground", "background"), LIGHT_PAIRS + DARK_PAIRS)
def test_text_colours_reach_wcag_aa_in_light_and_dark(foreground, background):
    assert contrast(foreground, background) >= 4.5


def test_every_colour_pair_in_the_stylesheets_is_checked():
    # GIVEN every #rrggbb used as a text colour in the stylesheets; THEN the pairs above cover it
    css = (TEMPLATES_DIR / "inline.css").read_text() + (TEMPLATES_DIR / "head.css").read_text()
    text_colours = set(re.findall(r"(?<![-\w])color:\s*(#[0-9a-f]{6})", css))
    assert text_colours <= {fg for fg, _ in LIGHT_PAIRS + DARK_PAIRS} | {"#f4f4f5"}  # preheader: hidden


@pytest.mark.parametrize("name", sorted(load_themes()))
def test_every_theme_accent_carries_its_text_at_wcag_aa(name):
    theme = load_themes()[name]
    assert contrast(theme["accent_text"], theme["accent"]) >= 4.5


def test_every_campaign_has_a_theme_and_templates():
    themes = load_themes()
    for campaign_type in load_campaigns():
        assert campaign_type in themes
        html, text = email_templates(campaign_type)
        assert html.name in (f"campaigns/{campaign_type}.html.j2", "base.html.j2")


def test_campaign_blocks_change_only_what_they_override():
    # GIVEN the clearance template (overrides the price block)
    clearance = render_email(**samples.email_args("clearance"))
    new_arrivals = render_email(**samples.email_args("new_arrivals"))
    # THEN only clearance shows the saving badge; both share the footer
    assert "&minus;30%" in clearance.html and "&minus;30%" not in new_arrivals.html
    assert "Email preferences" in clearance.html and "Email preferences" in new_arrivals.html


def test_inline_css_parser_reads_simple_rules_with_jinja_values():
    rules = parse_inline_css("/* c */ .a { color: red;  margin: 0 } .b{background:{{ theme.accent }};}")
    assert rules == {"a": "color:red;margin:0", "b": "background:{{ theme.accent }}"}


def test_inliner_adds_style_and_keeps_class_for_media_queries():
    out = inline_styles('<td class="a b">x</td>', rules={"a": "color:red", "b": "margin:0"}, known=set())
    assert out == '<td class="a b" style="color:red;margin:0">x</td>'


def test_inliner_refuses_an_unknown_class():
    with pytest.raises(RenderError, match="typo"):
        inline_styles('<td class="typo">', rules={}, known=set())


def test_the_email_has_no_class_left_without_inline_style():
    html = render_email(**samples.email_args()).html
    for tag in re.findall(r"<[a-z]+ [^>]*class=\"[^\"]*\"[^>]*>", html):
        assert "style=" in tag or 'class="name-span"' in tag, tag


def test_truncate_never_splits_an_emoji_sequence_or_a_flag():
    assert truncate("ab👩‍👩‍👧cd", max_chars=5) == "ab…"
    assert truncate("ab🇫🇷🇩🇪x", max_chars=6) == "ab🇫🇷…"  # the cut would leave half of 🇩🇪
    assert truncate("ab🇫🇷🇩🇪", max_chars=5) == "ab🇫🇷…"
    assert truncate("Zoe\u0301abc", max_chars=4) == "Zo…"


def test_clean_line_and_block():
    assert clean_line("  a\u202eb\tc\x00d  ") == "ab c d"
    assert clean_block("a\r\n\r\n\r\n\r\nb\u2028c") == "a\n\nb c"


@pytest.mark.parametrize("url", ["https://x.example/a?b=c", "http://x.example"])
def test_safe_http_url_accepts_http_urls(url):
    assert safe_http_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "javascript:alert(1)",
        "https://",
        "ftp://x.example",
        'https://x.example/"',
        "https://x.example/é",
        "/relative",
        "https://x.example/a b",
    ],
)
def test_safe_http_url_refuses_everything_else(url):
    assert safe_http_url(url) is None
