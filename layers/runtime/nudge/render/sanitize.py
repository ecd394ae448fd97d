"""Make data-supplied text safe to place in an email: one line or a block, bounded length.

Escaping for HTML is Jinja's autoescape; this module does what escaping cannot: it removes
characters that break headers (CR, LF, NUL and other controls), characters that reorder text
(bidirectional overrides, a known phishing trick), and cuts text to a length an email can hold
without splitting an emoji or a letter from its accent.

>>> clean_line("Ann\\r\\nBcc: x@evil.test")
'Ann Bcc: x@evil.test'
>>> truncate("abcdef", max_chars=4)
'abc…'
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

ELLIPSIS = "…"

# Format characters kept: zero-width non-joiner/joiner (Persian, emoji sequences) and the tag
# characters that spell subdivision flags (England, Scotland). Every other Cf character goes,
# among them the bidi embeddings/overrides/isolates U+202A..U+202E and U+2066..U+2069, U+FEFF.
_KEPT_FORMAT = {"\u200c", "\u200d"}
_TAGS = range(0xE0020, 0xE0080)
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f"}  # a cut must not end on or just before these
_SPACES = re.compile(r"[^\S\n]+")  # whitespace runs, newlines excepted
_BLANK_LINES = re.compile(r"\n{3,}")
_URL_FORBIDDEN = re.compile(r"[\s<>\"'`\\\x00-\x1f\x7f]")
MAX_URL_CHARS = 2048


def _keep(char: str) -> bool:
    category = unicodedata.category(char)
    if category == "Cf":
        return char in _KEPT_FORMAT or ord(char) in _TAGS
    return category != "Cs"  # lone surrogates cannot be encoded as UTF-8


def _normalize(text: str, *, keep_newlines: bool) -> str:
    text = unicodedata.normalize("NFC", str(text))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for char in text:
        if char == "\n" and keep_newlines:
            out.append(char)
        elif unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            out.append(" ")  # controls, U+2028 and U+2029 become a space, never a line break
        elif _keep(char):
            out.append(char)
    return "".join(out)


def truncate(text: str, *, max_chars: int) -> str:
    """Cut `text` to at most `max_chars` code points, ending with an ellipsis when cut.

    The cut never separates a base letter from its combining marks, never ends inside an emoji
    ZWJ sequence or a flag (a pair of regional indicators).

    >>> truncate("Zoë", max_chars=10)
    'Zoë'
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    if len(text) <= max_chars:
        return text
    cut = max_chars - 1  # room for the ellipsis
    while cut > 0 and (
        unicodedata.combining(text[cut])
        or text[cut] in _JOINERS
        or text[cut - 1] == "\u200d"
        or ord(text[cut]) in _TAGS
        or 0x1F3FB <= ord(text[cut]) <= 0x1F3FF  # skin tone modifier belongs to the previous emoji
    ):
        cut -= 1
    head = text[:cut]
    indicators = 0
    for char in reversed(head):
        if 0x1F1E6 <= ord(char) <= 0x1F1FF:
            indicators += 1
        else:
            break
    if indicators % 2:
        head = head[:-1]  # an odd count means the last flag was cut in half
    return head.rstrip() + ELLIPSIS


def clean_line(text: str | None, *, max_chars: int = 200) -> str:
    """One line of display text: no controls or line breaks, spaces collapsed, at most `max_chars`.

    Safe for an email header once the caller has also escaped it for its context.
    """
    if not text:
        return ""
    line = _SPACES.sub(" ", _normalize(text, keep_newlines=False)).strip()
    return truncate(line, max_chars=max_chars)


def clean_block(text: str | None, *, max_chars: int = 2000) -> str:
    """A block of display text: like `clean_line`, but newlines kept (at most one blank line)."""
    if not text:
        return ""
    block = _normalize(text, keep_newlines=True)
    lines = [_SPACES.sub(" ", line).strip() for line in block.split("\n")]
    block = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return truncate(block, max_chars=max_chars)


def paragraphs(text: str) -> list[str]:
    """Split a cleaned block into paragraphs on blank lines; single newlines become spaces."""
    return [" ".join(part.split("\n")) for part in text.split("\n\n") if part.strip()]


def safe_http_url(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) URL fit for an attribute, a header and plain text.

    Anything else (javascript:, data:, relative, spaces, quotes, angle brackets) gives None, and
    the caller falls back to a safe default.

    >>> safe_http_url("javascript:alert(1)") is None
    True
    """
    if not url or len(url) > MAX_URL_CHARS or _URL_FORBIDDEN.search(url):
        return None
    if not url.isascii():
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


_DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


def safe_domain(domain: str | None) -> str | None:
    """A lower-case DNS name with at least one dot, or None."""
    if not domain:
        return None
    domain = domain.strip().rstrip(".").lower()
    return domain if _DOMAIN.match(domain) else None
