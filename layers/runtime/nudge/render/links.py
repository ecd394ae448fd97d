"""Signed link tokens and tracked URLs.

A token is `base64url(payload) "." base64url(HMAC-SHA256(link_key, domain || payload))`, where
the payload is compact JSON holding the kind of link, the campaign id, the product id (clicks
only) and the customer's pseudonymous id: never an email address or a name. The kind is signed
with the rest, so a click token cannot be replayed as an unsubscribe token.

>>> key = b"k" * 32
>>> token = sign_click(campaign_id="c1", product_id="p9", pseudonymous_id="u7", link_key=key)
>>> verify(token, link_key=key, kind=CLICK).product_id
'p9'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from nudge.errors import NudgeError, RenderError

CLICK = "click"
UNSUBSCRIBE = "unsubscribe"
PREFERENCES = "preferences"
KINDS = (CLICK, UNSUBSCRIBE, PREFERENCES)

TOKEN_PARAM = "nt"  # query parameter that carries the token on every link
UTM_SOURCE = "nudge"
UTM_MEDIUM = "email"
MIN_KEY_BYTES = 16  # 128 bits; a 32-byte random key is recommended
MAX_TOKEN_CHARS = 1024  # refuse to even decode anything longer
_DOMAIN_SEPARATOR = b"nudge-link-v1."  # versions the format; a v2 can never verify as v1


class InvalidTokenError(NudgeError, ValueError):
    """A link token is malformed, was signed with another key, or was altered."""


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """What a link token vouches for."""

    kind: str  # one of KINDS
    campaign_id: str
    pseudonymous_id: str
    product_id: str = ""  # clicks on a product; "" for the call to action and account links


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not text or not text.isascii():
        raise InvalidTokenError("token part is empty or not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidTokenError(f"token part is not base64url: {exc}") from exc


def _check_key(link_key: bytes) -> None:
    if not isinstance(link_key, (bytes, bytearray)) or len(link_key) < MIN_KEY_BYTES:
        size = len(link_key) if isinstance(link_key, (bytes, bytearray)) else type(link_key).__name__
        raise RenderError(f"link_key must be at least {MIN_KEY_BYTES} bytes, got {size}")


def _mac(payload: str, link_key: bytes) -> bytes:
    return hmac.new(bytes(link_key), _DOMAIN_SEPARATOR + payload.encode("ascii"), hashlib.sha256).digest()


def sign(claim: LinkClaim, *, link_key: bytes) -> str:
    """The token for `claim`, signed with `link_key` (deterministic: same claim, same token)."""
    _check_key(link_key)
    if claim.kind not in KINDS:
        raise RenderError(f"link kind must be one of {KINDS}, got {claim.kind!r}")
    if not claim.campaign_id or not claim.pseudonymous_id:
        raise RenderError("a link token needs a campaign_id and a pseudonymous_id, got an empty one")
    body = {"k": claim.kind, "c": claim.campaign_id, "u": claim.pseudonymous_id}
    if claim.product_id:
        body["p"] = claim.product_id
    payload = _b64encode(json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode())
    return f"{payload}.{_b64encode(_mac(payload, link_key))}"


def verify(token: str, *, link_key: bytes, kind: str | None = None) -> LinkClaim:
    """The claim inside `token`, after checking its signature (and its kind when given).

    Raises InvalidTokenError when the token is malformed, altered, signed with another key or of
    another kind.
    """
    _check_key(link_key)
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise InvalidTokenError("token must be '<payload>.<signature>'")
    payload, signature = token.split(".")
    if not payload.isascii() or not signature.isascii():
        raise InvalidTokenError("token is not base64url")
    # Compare the canonical text, not decoded bytes: base64 decoding ignores the last
    # character's spare bits, which would let several strings pass for one signature.
    if not hmac.compare_digest(signature, _b64encode(_mac(payload, link_key))):
        raise InvalidTokenError("token signature does not match (altered, or another key)")
    try:
        body = json.loads(_b64decode(payload))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:  # only reachable with a leaked key
        raise InvalidTokenError(f"token payload is not JSON: {exc}") from exc
    if not isinstance(body, dict) or not all(isinstance(body.get(k, ""), str) for k in ("k", "c", "u", "p")):
        raise InvalidTokenError("token payload has the wrong shape")
    claim = LinkClaim(
        kind=body.get("k", ""),
        campaign_id=body.get("c", ""),
        pseudonymous_id=body.get("u", ""),
        product_id=body.get("p", ""),
    )
    if claim.kind not in KINDS:
        raise InvalidTokenError(f"token kind {claim.kind!r} is not one of {KINDS}")
    if kind is not None and claim.kind != kind:
        raise InvalidTokenError(f"expected a {kind} token, got a {claim.kind} token")
    return claim


def sign_click(*, campaign_id: str, product_id: str, pseudonymous_id: str, link_key: bytes) -> str:
    """Token for a product (or, with product_id="", call-to-action) link."""
    claim = LinkClaim(CLICK, campaign_id=campaign_id, pseudonymous_id=pseudonymous_id, product_id=product_id)
    return sign(claim, link_key=link_key)


def sign_unsubscribe(*, campaign_id: str, pseudonymous_id: str, link_key: bytes) -> str:
    """Token for the one-click unsubscribe URL and the mailto unsubscribe subject."""
    return sign(LinkClaim(UNSUBSCRIBE, campaign_id=campaign_id, pseudonymous_id=pseudonymous_id), link_key=link_key)


def sign_preferences(*, campaign_id: str, pseudonymous_id: str, link_key: bytes) -> str:
    """Token for the email preferences page."""
    return sign(LinkClaim(PREFERENCES, campaign_id=campaign_id, pseudonymous_id=pseudonymous_id), link_key=link_key)


def verify_click(token: str, *, link_key: bytes) -> LinkClaim:
    return verify(token, link_key=link_key, kind=CLICK)


def verify_unsubscribe(token: str, *, link_key: bytes) -> LinkClaim:
    return verify(token, link_key=link_key, kind=UNSUBSCRIBE)


def with_params(url: str, params: dict[str, str]) -> str:
    """`url` with `params` set in its query string (replacing any of the same name)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def tracked_url(url: str, *, campaign_id: str, token: str, content: str = "") -> str:
    """`url` with UTM parameters and the signed click token.

    >>> tracked_url("https://s.example/p/1?c=red", campaign_id="c1", token="t.s")
    'https://s.example/p/1?c=red&utm_source=nudge&utm_medium=email&utm_campaign=c1&nt=t.s'
    """
    params = {"utm_source": UTM_SOURCE, "utm_medium": UTM_MEDIUM, "utm_campaign": campaign_id}
    if content:
        params["utm_content"] = content
    params[TOKEN_PARAM] = token
    return with_params(url, params)
