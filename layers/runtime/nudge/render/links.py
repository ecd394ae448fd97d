"""Signed link tokens and tracked URLs.

A token is `base64url(payload) "." base64url(HMAC-SHA256(link_key, domain || payload))`, where
the payload is compact JSON holding the kind of link, the campaign id (and type), the product id
(clicks only), the customer's pseudonymous id (never an email address or a name) and an expiry in
unix seconds. Everything is signed together, so a click token cannot be replayed as an
unsubscribe token, and an expiry cannot be pushed back.

The expiry is derived from the campaign's planned send date, never from the wall clock, so the
same (campaign, customer, model) renders the same email ("same input, same email"); see
`LinkTtl`. Unsubscribe and preference links live much longer than clicks (docs/LOOP.md).

>>> key = b"k" * 32
>>> token = sign_click(campaign_id="c1", product_id="p9", pseudonymous_id="u7", link_key=key, expires_at=2_000_000_000)
>>> verify(token, link_key=key, kind=CLICK, now=1_900_000_000).product_id
'p9'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from nudge.errors import NudgeError, RenderError

CLICK = "click"
UNSUBSCRIBE = "unsubscribe"
PREFERENCES = "preferences"
OPEN = "open"  # the optional open pixel
KINDS = (CLICK, UNSUBSCRIBE, PREFERENCES, OPEN)
DAY_SECONDS = 86_400

TOKEN_PARAM = "nt"  # query parameter that carries the token on every link
UTM_SOURCE = "nudge"
UTM_MEDIUM = "email"
MIN_KEY_BYTES = 16  # 128 bits; a 32-byte random key is recommended
MAX_TOKEN_CHARS = 1024  # refuse to even decode anything longer
_DOMAIN_SEPARATOR = b"nudge-link-v1."  # versions the format; a v2 can never verify as v1


class InvalidTokenError(NudgeError, ValueError):
    """A link token is malformed, was signed with another key, or was altered."""


class WrongKindError(InvalidTokenError):
    """A genuine token of another kind (a click token sent to the unsubscribe endpoint)."""


class ExpiredTokenError(InvalidTokenError):
    """A genuine token past its expiry."""


@dataclass(frozen=True, slots=True)
class LinkTtl:
    """How long links live, in days after the campaign's planned send date.

    Clicks: 90 days, long past any attribution window. Unsubscribe and preferences: 400 days, so
    an old email in an archive still unsubscribes (mailbox providers expect one-click unsubscribe
    links to keep working; RFC 8058 leaves the lifetime to the sender).

    >>> LinkTtl(click_days=1).expires_at(CLICK, issued=datetime.fromisoformat("2026-11-20T00:00:00+00:00"))
    1795219200
    """

    click_days: int = 90
    account_days: int = 400  # unsubscribe and preferences links

    def __post_init__(self) -> None:
        for name in ("click_days", "account_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
                raise RenderError(f"LinkTtl.{name} must be a whole number of days in 1..3650, got {value!r}")

    def expires_at(self, kind: str, *, issued: datetime) -> int:
        """Unix seconds at which a `kind` link issued at `issued` (timezone-aware) expires."""
        if issued.tzinfo is None or issued.utcoffset() is None:
            raise RenderError(f"link issue time must be timezone-aware, got {issued!r}")
        days = self.account_days if kind in (UNSUBSCRIBE, PREFERENCES) else self.click_days
        return int(issued.timestamp()) + days * DAY_SECONDS


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """What a link token vouches for."""

    kind: str  # one of KINDS
    campaign_id: str
    pseudonymous_id: str
    product_id: str = ""  # clicks on a product; "" for the call to action and account links
    expires_at: int = 0  # unix seconds; every token carries one (signing refuses 0)
    campaign_type: str = ""  # one of nudge.types.CAMPAIGN_TYPES when known (the preferences page needs it)
    path: str = ""  # a click without a product: the page on the store's site to land on ("" = home)
    language: str = ""  # unsubscribe and preferences: the email's catalog language, for the page ("" = store's)


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
    if isinstance(claim.expires_at, bool) or not isinstance(claim.expires_at, int) or claim.expires_at <= 0:
        raise RenderError(f"a link token needs expires_at in unix seconds (> 0), got {claim.expires_at!r}")
    body: dict[str, str | int] = {"k": claim.kind, "c": claim.campaign_id, "u": claim.pseudonymous_id, "e": claim.expires_at}
    for key, value in (("p", claim.product_id), ("t", claim.campaign_type), ("d", claim.path), ("l", claim.language)):
        if value:
            body[key] = value
    payload = _b64encode(json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode())
    return f"{payload}.{_b64encode(_mac(payload, link_key))}"


def _unix(now: datetime | float | int | None) -> float:
    if now is None:
        return time.time()
    if isinstance(now, datetime):
        if now.tzinfo is None or now.utcoffset() is None:
            raise InvalidTokenError(f"now must be timezone-aware, got {now!r}")
        return now.timestamp()
    return float(now)


def verify(token: str, *, link_key: bytes, kind: str | None = None, now: datetime | float | int | None = None) -> LinkClaim:
    """The claim inside `token`, after checking its signature, its kind (when given) and its expiry
    against `now` (a timezone-aware datetime or unix seconds; default the wall clock).

    Raises InvalidTokenError when the token is malformed, altered, signed with another key or has
    no expiry; its subclass WrongKindError when it is of another kind, ExpiredTokenError when it
    has expired.
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
    if not isinstance(body, dict) or not all(isinstance(body.get(k, ""), str) for k in ("k", "c", "u", "p", "t", "d", "l")):
        raise InvalidTokenError("token payload has the wrong shape")
    expires_at = body.get("e")
    if isinstance(expires_at, bool) or not isinstance(expires_at, int) or expires_at <= 0:
        raise InvalidTokenError("token has no expiry (signed before expiries, or malformed)")
    claim = LinkClaim(
        kind=body.get("k", ""),
        campaign_id=body.get("c", ""),
        pseudonymous_id=body.get("u", ""),
        product_id=body.get("p", ""),
        expires_at=expires_at,
        campaign_type=body.get("t", ""),
        path=body.get("d", ""),
        language=body.get("l", ""),
    )
    if claim.kind not in KINDS:
        raise InvalidTokenError(f"token kind {claim.kind!r} is not one of {KINDS}")
    if kind is not None and claim.kind != kind:
        raise WrongKindError(f"expected a {kind} token, got a {claim.kind} token")
    if _unix(now) >= claim.expires_at:
        raise ExpiredTokenError(f"the {claim.kind} token expired at {claim.expires_at} (unix seconds)")
    return claim


def sign_click(
    *, campaign_id: str, product_id: str, pseudonymous_id: str, link_key: bytes, expires_at: int,
    campaign_type: str = "", path: str = "",
) -> str:
    """Token for a product link (or, with product_id="", a link to `path` on the store's site)."""
    claim = LinkClaim(CLICK, campaign_id=campaign_id, pseudonymous_id=pseudonymous_id, product_id=product_id,
                      expires_at=expires_at, campaign_type=campaign_type, path=path)
    return sign(claim, link_key=link_key)


def sign_unsubscribe(*, campaign_id: str, pseudonymous_id: str, link_key: bytes, expires_at: int, campaign_type: str = "",
                     language: str = "") -> str:
    """Token for the one-click unsubscribe URL and the mailto unsubscribe subject (`language`: the page's)."""
    claim = LinkClaim(UNSUBSCRIBE, campaign_id=campaign_id, pseudonymous_id=pseudonymous_id,
                      expires_at=expires_at, campaign_type=campaign_type, language=language)
    return sign(claim, link_key=link_key)


def sign_preferences(*, campaign_id: str, pseudonymous_id: str, link_key: bytes, expires_at: int, campaign_type: str = "",
                     language: str = "") -> str:
    """Token for the email preferences page (campaign_type lets it offer "stop these emails"; `language`: the page's)."""
    claim = LinkClaim(PREFERENCES, campaign_id=campaign_id, pseudonymous_id=pseudonymous_id,
                      expires_at=expires_at, campaign_type=campaign_type, language=language)
    return sign(claim, link_key=link_key)


def sign_open(*, campaign_id: str, pseudonymous_id: str, link_key: bytes, expires_at: int, campaign_type: str = "") -> str:
    """Token for the optional open pixel."""
    claim = LinkClaim(OPEN, campaign_id=campaign_id, pseudonymous_id=pseudonymous_id,
                      expires_at=expires_at, campaign_type=campaign_type)
    return sign(claim, link_key=link_key)


def verify_click(token: str, *, link_key: bytes, now: datetime | float | int | None = None) -> LinkClaim:
    return verify(token, link_key=link_key, kind=CLICK, now=now)


def verify_unsubscribe(token: str, *, link_key: bytes, now: datetime | float | int | None = None) -> LinkClaim:
    return verify(token, link_key=link_key, kind=UNSUBSCRIBE, now=now)


def with_params(url: str, params: dict[str, str]) -> str:
    """`url` with `params` set in its query string (replacing any of the same name)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def utm_params(*, campaign_id: str, content: str = "") -> dict[str, str]:
    """The UTM parameters of a link in a nudge email (what the store's analytics sees)."""
    params = {"utm_source": UTM_SOURCE, "utm_medium": UTM_MEDIUM, "utm_campaign": campaign_id}
    if content:
        params["utm_content"] = content
    return params


def tracked_url(url: str, *, campaign_id: str, token: str, content: str = "") -> str:
    """`url` with UTM parameters and the signed click token.

    >>> tracked_url("https://s.example/p/1?c=red", campaign_id="c1", token="t.s")
    'https://s.example/p/1?c=red&utm_source=nudge&utm_medium=email&utm_campaign=c1&nt=t.s'
    """
    return with_params(url, {**utm_params(campaign_id=campaign_id, content=content), TOKEN_PARAM: token})
