"""Pseudonymous customer ids: a keyed hash, so S3 keys and logs never carry the store's id or
an email address, and nobody without the key can link them back.

>>> pseudonymize("c00042", key=b"k")
'p_...'  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import hmac

from nudge.errors import ConfigError


def pseudonymize(customer_id: str, *, key: bytes) -> str:
    """Keyed HMAC-SHA256 of the customer id, 96 bits in hex: stable per key, safe in paths."""
    if not key:
        raise ConfigError("a pseudonymization key is required (NUDGE_PSEUDONYM_KEY or the secret's pseudonym_key)")
    digest = hmac.new(key, customer_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return "p_" + digest[:24]


def holdout_bucket(customer_id: str, campaign_id: str, *, key: bytes) -> float:
    """A deterministic number in [0, 1) per (customer, campaign): below the holdout share → holdout."""
    digest = hmac.new(key, f"holdout|{campaign_id}|{customer_id}".encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
