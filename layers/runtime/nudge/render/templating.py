"""Jinja2 environments for the email and the gallery, and the per-campaign themes.

Templates are written with `class="..."`; `InliningLoader` turns each class into the matching
declarations from `templates/inline.css` in a `style="..."` attribute when a template is loaded,
so the inlining costs nothing per email (Jinja caches the compiled template) and needs no CSS
inliner dependency. `templates/head.css` is kept in `<style>` for what cannot be inlined (dark
mode, small screens). A class that neither file defines is an error at load time, not a silently
unstyled email.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from nudge.errors import RenderError

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
THEMES_PATH = HERE / "themes.json"
HEAD_CSS_MARKER = "%%HEAD_CSS%%"
BASE_TEMPLATE = "base.html.j2"
TEXT_TEMPLATE = "email.txt.j2"

_RULE = re.compile(r"\.([A-Za-z][\w-]*)\s*\{((?:[^{}]|\{\{[^{}]*\}\})*)\}")  # bodies may hold {{ jinja }}
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CLASS_ATTR = re.compile(r'\sclass="([^"]*)"')
_CLASS_NAME = re.compile(r"\.([A-Za-z][\w-]*)")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
THEME_KEYS = (
    "accent",
    "accent_text",
    "banner",
    "greeting",
    "greeting_anonymous",
    "products_heading",
    "cta_label",
    "cta_path",
    "why",
)


def _compact(declarations: str) -> str:
    """'color: red;  font-size: 1px;' -> 'color:red;font-size:1px'"""
    out = []
    for declaration in declarations.split(";"):
        if ":" in declaration:
            name, value = declaration.split(":", 1)
            out.append(f"{name.strip()}:{' '.join(value.split())}")
    return ";".join(out)


def parse_inline_css(css: str) -> dict[str, str]:
    """Class name -> compact declarations, from a stylesheet of simple `.name { ... }` rules."""
    css = _COMMENT.sub("", css)
    rules: dict[str, str] = {}
    for name, body in _RULE.findall(css):
        rules[name] = ";".join(filter(None, [rules.get(name, ""), _compact(body)]))
    return rules


def inline_styles(source: str, *, rules: dict[str, str], known: set[str]) -> str:
    """Add `style="..."` after every `class="..."` in a template source, from `rules`."""

    def replace(match: re.Match[str]) -> str:
        names = match.group(1).split()
        unknown = [name for name in names if name not in rules and name not in known]
        if unknown:
            raise RenderError(f"template uses CSS classes {unknown} that neither inline.css nor head.css defines")
        style = ";".join(rules[name] for name in names if name in rules)
        return f'{match.group(0)} style="{style}"' if style else match.group(0)

    return _CLASS_ATTR.sub(replace, source)


class InliningLoader(FileSystemLoader):
    """A FileSystemLoader that inlines inline.css into HTML templates as they are loaded."""

    def __init__(self, searchpath: Path) -> None:
        super().__init__(str(searchpath))
        self.head_css = (searchpath / "head.css").read_text(encoding="utf-8")
        self.rules = parse_inline_css((searchpath / "inline.css").read_text(encoding="utf-8"))
        self.known = set(_CLASS_NAME.findall(_COMMENT.sub("", self.head_css)))

    def get_source(self, environment, template):  # noqa: ANN001 (Jinja's signature)
        source, filename, uptodate = super().get_source(environment, template)
        if template.endswith(".html.j2"):
            source = inline_styles(source, rules=self.rules, known=self.known)
            source = source.replace(HEAD_CSS_MARKER, _COMMENT.sub("", self.head_css).strip())
        return source, filename, uptodate


def _environment(loader: FileSystemLoader) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=loader,
        # HTML is escaped, text is not (it is text/plain); anything else defaults to escaped.
        autoescape=select_autoescape(enabled_extensions=("html.j2",), disabled_extensions=("txt.j2",), default=True),
        undefined=StrictUndefined,  # a missing variable is a bug, not an empty string
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the layer; never stat them per email
        # `_()` and `{% trans %}` call the `gettext` / `ngettext` of the render context
        # (nudge.i18n.gettext_functions), so one cached environment serves every language.
        extensions=["jinja2.ext.i18n"],
    )


@cache
def email_environment() -> SandboxedEnvironment:
    """The email environment, built once per container (lazily, not at import time)."""
    return _environment(InliningLoader(TEMPLATES_DIR))


@cache
def gallery_environment() -> SandboxedEnvironment:
    """The gallery environment: same sandbox and escaping, no inlining (it is a web page)."""
    return _environment(FileSystemLoader(str(TEMPLATES_DIR)))


def email_templates(campaign_type: str) -> tuple[Any, Any]:
    """(html, text) templates for a campaign: `campaigns/<type>.html.j2` when present, else the base."""
    env = email_environment()
    try:
        html = env.select_template([f"campaigns/{campaign_type}.html.j2", BASE_TEMPLATE])
        text = env.select_template([f"campaigns/{campaign_type}.txt.j2", TEXT_TEMPLATE])
    except TemplateNotFound as exc:
        raise RenderError(f"no email template found: {exc}") from exc
    return html, text


@cache
def load_themes() -> dict[str, dict[str, str]]:
    """Every theme in themes.json, each complete (default's keys filled in) and checked."""
    raw = json.loads(THEMES_PATH.read_text(encoding="utf-8"))
    default = raw["default"]
    themes = {}
    for name, spec in raw.items():
        if name.startswith("_") or name == "schema_version":
            continue
        theme = {key: str(spec.get(key, default.get(key, ""))) for key in THEME_KEYS}
        for key in ("accent", "accent_text"):
            if not _COLOUR.match(theme[key]):
                raise RenderError(f"theme {name!r}: {key} must be #rrggbb, got {theme[key]!r}")
        if not theme["cta_path"].startswith("/"):
            raise RenderError(f"theme {name!r}: cta_path must start with '/', got {theme['cta_path']!r}")
        themes[name] = theme
    return themes


def theme_for(campaign_type: str) -> dict[str, str]:
    themes = load_themes()
    return themes.get(campaign_type, themes["default"])
