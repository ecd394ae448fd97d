"""The .eml: headers built from cleaned values, multipart/alternative (text, then HTML).

Deterministic by construction ("same input, same email"): the Message-ID and the MIME boundary
derive from (campaign_id, pseudonymous_id, sender domain), the Date from the caller's `now`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from nudge.errors import RenderError
from nudge.render.sanitize import clean_line, safe_domain

MAX_DISPLAY_NAME_CHARS = 64
MAX_HEADER_INPUT_CHARS = 400  # a sender longer than this is not a sender
SMTP_POLICY = policy.SMTP.clone(refold_source="none")  # CRLF; raw (pre-folded) headers kept as set
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_NAME_ADDR = re.compile(r"^(?P<name>[^<>]*)<(?P<addr>[^<>\s]+)>$")  # 'Name <addr>' and nothing after
_TOKENISH = re.compile(r"[^A-Za-z0-9_.-]+")


def parse_mailbox(value: str, *, what: str) -> Address:
    """An Address from 'Name <local@domain>' or 'local@domain', display name cleaned.

    Line breaks and controls in the value become spaces first, so a display name with CR/LF
    cannot start a header. What remains must be one mailbox: text after the closing '>' (an
    injected 'Bcc: ...' tail), a second address or a malformed address raise RenderError
    naming `what`; the address itself is never "fixed".

    >>> parse_mailbox('"Shop, Ltd" <news@shop.example>', what="sender").display_name
    'Shop, Ltd'
    """
    cleaned = clean_line(value, max_chars=MAX_HEADER_INPUT_CHARS)
    match = _NAME_ADDR.match(cleaned)
    if match:
        name = match.group("name").strip()
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        return mailbox(display_name=name, addr_spec=match.group("addr"), what=what)
    if "<" in cleaned or ">" in cleaned or "," in cleaned or " " in cleaned:
        raise RenderError(f"{what} must be one mailbox 'Name <local@domain>', got {value!r}")
    return mailbox(display_name="", addr_spec=cleaned, what=what)


def mailbox(*, display_name: str, addr_spec: str, what: str) -> Address:
    """An Address with a cleaned display name and a checked addr-spec (IDN domains encoded)."""
    local, at, domain = addr_spec.strip().rpartition("@")
    if not at or not _LOCAL_PART.match(local) or ".." in local or local.startswith(".") or local.endswith("."):
        raise RenderError(f"{what} must be an address local@domain with an ASCII local part, got {addr_spec!r}")
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError as exc:
        raise RenderError(f"{what} has a domain that is not a valid name: {domain!r}") from exc
    if not safe_domain(ascii_domain):
        raise RenderError(f"{what} has a domain that is not a valid name: {domain!r}")
    name = clean_line(display_name, max_chars=MAX_DISPLAY_NAME_CHARS)
    try:
        return Address(display_name=name, username=local, domain=ascii_domain.lower())
    except (ValueError, IndexError) as exc:
        raise RenderError(f"{what} is not a valid address: {addr_spec!r} ({exc})") from exc


def message_id(*, campaign_id: str, pseudonymous_id: str, domain: str) -> str:
    """`<digest@domain>`, the same for the same (campaign, customer, sending domain).

    >>> message_id(campaign_id="c1", pseudonymous_id="u1", domain="shop.example")
    '<418c6699ab41978ad724db2098538280.nudge@shop.example>'
    """
    digest = hashlib.sha256("\x00".join((campaign_id, pseudonymous_id, domain)).encode()).hexdigest()[:32]
    return f"<{digest}.nudge@{domain}>"


def build_eml(
    *,
    sender: Address,
    recipient: Address,
    subject: str,
    date: datetime,
    message_id: str,
    unsubscribe_url: str,
    unsubscribe_mailto: str,
    feedback_id: str,
    text: str,
    html: str,
) -> bytes:
    """The message as bytes with CRLF line ends (policy SMTP), ready for SES SendRawEmail."""
    if date.tzinfo is None or date.utcoffset() is None:
        raise RenderError(f"now must be timezone-aware, got {date!r}")
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject  # the policy encodes non-ASCII as RFC 2047 and folds long lines
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    # RFC 2369 wants the URIs as they are; the policy would turn a URI longer than a line into
    # RFC 2047 encoded-words, which clients do not decode here. So the header is folded by hand
    # between the two URIs and stored raw (refold_source="none" keeps it). Both URIs were
    # checked by the caller: no whitespace, no angle brackets, ASCII only.
    for uri in (unsubscribe_url, unsubscribe_mailto):
        if not uri.isascii() or any(char in uri for char in " \t\r\n<>"):
            raise RenderError(f"List-Unsubscribe URI must be ASCII without spaces or brackets, got {uri!r}")
    msg.set_raw("List-Unsubscribe", f"<{unsubscribe_url}>,\r\n <{unsubscribe_mailto}>")
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    msg["Feedback-ID"] = feedback_id
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    # Quoted-printable never contains "=_" (an "=" is always followed by hex or a line end), so a
    # boundary starting with "=_" cannot occur in either part; derived, not random.
    msg.set_boundary("=_nudge_" + message_id.strip("<>").split(".", 1)[0])
    try:
        return msg.as_bytes(policy=SMTP_POLICY)
    except (ValueError, UnicodeError) as exc:  # the policy refuses a header it cannot encode
        raise RenderError(f"the message could not be encoded: {exc}") from exc


def feedback_id(*, campaign_type: str, campaign_id: str) -> str:
    """Gmail's Feedback-ID (a:b:c:SenderId): lets spam complaints be traced to one campaign."""
    return ":".join(_TOKENISH.sub("-", part)[:64] or "none" for part in (campaign_id, campaign_type, "nudge"))
