"""The email HTML lint finds what it claims to find (so a clean result means something)."""

from __future__ import annotations

import pytest

from nudge.render.lint import lint_html, parse_html

GOOD = (
    '<html lang="en"><body><a href="https://x.example">x</a>'
    '<img src="https://x.example/a.png" alt="" width="1" height="1"></body></html>'
)


def test_good_html_is_clean():
    assert lint_html(GOOD) == []


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ("<html><body></body></html>", "no lang"),
        ('<html lang="en"><script>x</script></html>', "forbidden tag <script>"),
        ('<html lang="en"><a href="javascript:alert(1)">x</a></html>', "not an absolute"),
        ('<html lang="en"><td onclick="x">y</td></html>', "event handler"),
        ('<html lang="en"><img src="https://x.example/a.png" width="1" height="1"></html>', "without alt"),
        ('<html lang="en"><img src="https://x.example/a.png" alt="a"></html>', "without width"),
        ('<html lang="en"><table width="700"></table></html>', "width 700 > 600"),
        ('<html lang="en"><td style="background:url(https://x.example/t.gif)"></td></html>', "url()"),
        ('<html lang="en"><meta http-equiv="refresh" content="0;url=https://x.example"></html>', "meta refresh"),
    ],
)
def test_each_problem_is_found(html, problem):
    assert any(problem in found for found in lint_html(html)), lint_html(html)


def test_visible_text_skips_style_and_title():
    facts = parse_html("<html><head><title>T</title><style>.a{}</style></head><body><p>Hi <b>you</b></p></body></html>")
    assert facts.visible_text == "Hi you"
