"""Checks that rendered email HTML keeps to what email clients survive, and carries no markup
that data could have injected. Used by the tests and cheap enough (~1 ms) for a pipeline guard.

>>> lint_html('<html lang="en"><body><img src="https://x.example/a.png" alt="" width="1" height="1"></body></html>')
[]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "form", "input", "button", "link", "base", "meta-refresh"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "background", "poster"}
SAFE_SCHEMES = ("https://", "http://", "mailto:")


@dataclass
class HtmlFacts:
    """What the parser saw: tags by name, every attribute, link targets, visible text."""

    tags: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]

    @property
    def visible_text(self) -> str:
        return " ".join("".join(self.text).split())


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.facts = HtmlFacts()
        self._skip = 0  # depth inside <style>/<title>, whose text is not shown in the body

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.facts.tags.append((tag, {name: value or "" for name, value in attrs}))
        if tag in ("style", "title"):
            self._skip += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.facts.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.facts.text.append(data)


def parse_html(html: str) -> HtmlFacts:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.facts


def lint_html(html: str, *, max_width_px: int = 600) -> list[str]:
    """Problems found in an email's HTML; [] when it is fine."""
    facts = parse_html(html)
    problems = []
    html_tags = facts.all("html")
    if not html_tags or not html_tags[0].get("lang"):
        problems.append("<html> has no lang attribute")
    for name, attrs in facts.tags:
        if name in FORBIDDEN_TAGS:
            problems.append(f"forbidden tag <{name}>")
        if name == "meta" and attrs.get("http-equiv", "").lower() == "refresh":
            problems.append("meta refresh")
        for attr, value in attrs.items():
            if attr.startswith("on"):
                problems.append(f"event handler attribute {attr} on <{name}>")
            if attr in URL_ATTRIBUTES and not value.strip().lower().startswith(SAFE_SCHEMES):
                problems.append(f"<{name} {attr}> is not an absolute http(s)/mailto URL: {value[:60]!r}")
            if attr == "style" and ("expression(" in value.lower() or "url(" in value.lower()):
                problems.append(f"style with expression()/url() on <{name}>")
        if name == "img":
            for required in ("alt", "width", "height"):
                if required not in attrs:
                    problems.append(f"<img> without {required}: {attrs.get('src', '')[:60]!r}")
        if name in ("table", "td", "img") and attrs.get("width", "").isdigit() and int(attrs["width"]) > max_width_px:
            problems.append(f"<{name}> width {attrs['width']} > {max_width_px}")
    return problems
