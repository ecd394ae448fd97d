"""Optional sending: an email the generate function has finished → Amazon SES, once.

The trigger is the profile table's stream (keys only, so no personal data travels in it): when
the generate function completes its ``SEND#<campaign>`` item, the record's keys name the
customer and the campaign, which is what sending needs (the S3 key carries only a pseudonymous
id). Per record: the SEND# item must be done; the customer's consent and suppression are checked
*again*, at send time (an unsubscribe between writing and sending wins); a conditional
``SENT#<campaign>`` claim makes the send happen once per (campaign, customer) however often the
record is delivered; then the stored ``.eml`` goes to SES as it is.

Plain functions over the stores they are given (no boto3 here). See docs/TRIGGERS.md.

>>> keys_of({"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"S": "CUST#c001"}, "sk": {"S": "SEND#cart-2026-11-20"}}}})
('c001', 'cart-2026-11-20')
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from nudge.errors import BadJobError, ClaimBusyError
from nudge.identity import pseudonymize
from nudge.pipeline import email_keys

# Outcomes that send nothing, by design (counted; the record succeeds).
SKIPS = ("not_a_send", "not_written", "unknown_customer", "no_consent", "suppressed", "duplicate", "email_missing")


def keys_of(record: Mapping[str, Any]) -> tuple[str, str] | None:
    """(customer_id, campaign_id) of a stream record about a SEND# item; None for any other item.
    The event source's filter already passes only SEND# keys; this is the belt to its braces."""
    keys = (record.get("dynamodb") or {}).get("Keys") or {}
    pk, sk = (keys.get("pk") or {}).get("S", ""), (keys.get("sk") or {}).get("S", "")
    if record.get("eventName") not in ("INSERT", "MODIFY") or not pk.startswith("CUST#") or not sk.startswith("SEND#"):
        return None
    customer_id, campaign_id = pk[len("CUST#"):], sk[len("SEND#"):]
    if not customer_id or not campaign_id:
        raise BadJobError("stream record has an empty customer or campaign id in its keys")
    return customer_id, campaign_id


def deliver(
    customer_id: str, campaign_id: str, *, profiles: Any, emails: Any, sender: Any, pseudonym_key: bytes, now: datetime,
    token: str | None = None,
) -> str:
    """Send one written email once. Returns "sent" or a reason from SKIPS; raises ClaimBusyError
    when another attempt is sending it (the record is retried), or SES's error (claim released,
    record retried)."""
    if profiles.send_status(customer_id, campaign_id) != "done":
        return "not_written"  # an in-progress claim; its completion is another stream record
    profile = profiles.get_profile(customer_id)
    if profile is None:
        return "unknown_customer"  # erased since
    if not profile.customer.consent:
        return "no_consent"
    if profile.suppressed:
        return "suppressed"
    pseudo = pseudonymize(customer_id, key=pseudonym_key)
    claim = profiles.claim_delivery(customer_id, campaign_id, now=now, token=token or uuid.uuid4().hex)
    if claim == "done":
        return "duplicate"
    if claim == "busy":
        raise ClaimBusyError(f"{pseudo} in {campaign_id} is being sent by another attempt; retry later")
    try:
        eml = emails.get(email_keys(campaign_id, pseudo)["eml"])
        if eml is None:
            profiles.release_delivery(customer_id, campaign_id)
            return "email_missing"  # expired or erased: nothing to send
        message_id = sender.send(eml)
    except Exception:
        try:
            profiles.release_delivery(customer_id, campaign_id)
        except Exception:  # noqa: BLE001 - the lease expires anyway; the original error matters
            pass
        raise
    # A crash here (SES accepted, stamp not written) is the one window for a second send, after
    # the lease: the same window every at-least-once sender has, kept to one SES call.
    profiles.complete_delivery(customer_id, campaign_id, now=now, message_id=message_id)
    return "sent"


@dataclass
class SendService:
    """Built once per container (lazily) for the send function."""

    profiles: Any
    emails: Any
    sender: Any
    pseudonym_key: bytes

    @classmethod
    def from_settings(cls, settings: Any) -> "SendService":
        from nudge.service import pseudonym_key
        from nudge.storage import EmailStore, ProfileStore, RawEmailSender

        settings.require("profile_table", "output_bucket")
        key = pseudonym_key(settings, purpose="to find the email in S3")
        return cls(ProfileStore(settings.profile_table), EmailStore(settings.output_bucket), RawEmailSender(), key)

    def deliver_record(self, record: Mapping[str, Any], *, now: datetime | None = None) -> str:
        keys = keys_of(record)
        if keys is None:
            return "not_a_send"
        return deliver(*keys, profiles=self.profiles, emails=self.emails, sender=self.sender,
                       pseudonym_key=self.pseudonym_key, now=now or datetime.now(timezone.utc))
