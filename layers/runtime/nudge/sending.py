"""Optional sending: an email the generate function has finished → Amazon SES, once.

The trigger is the profile table's stream (keys only, so no personal data travels in it): when
the generate function completes its ``SEND#<campaign>`` item, the record's keys name the
customer and the campaign, which is what sending needs (the S3 key carries only a pseudonymous
id). Per record: the SEND# item must be done; the customer's consent, suppression and opt-outs
are checked *again*, at send time (an unsubscribe between writing and sending wins); a conditional
``SENT#<campaign>`` claim makes the send happen once per (campaign, customer) however often the
record is delivered; then the stored ``.eml`` goes to SES as it is.

Plain functions over the stores they are given (no boto3 here). See docs/TRIGGERS.md.

>>> keys_of({"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"S": "CUST#c001"}, "sk": {"S": "SEND#cart-2026-11-20"}}}})
('c001', 'cart-2026-11-20')
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from nudge.errors import BadJobError, ClaimBusyError
from nudge.eventlog import sent_event
from nudge.identity import pseudonymize
from nudge.pipeline import email_keys
from nudge.ses_events import message_tags

log = logging.getLogger("nudge.sending")

# Outcomes that send nothing, by design (counted; the record succeeds).
SKIPS = ("not_a_send", "not_written", "unknown_customer", "no_consent", "suppressed", "opted_out", "duplicate", "email_missing",
         "email_mismatch")


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
    token: str | None = None, events: Any = None,
) -> str:
    """Send one written email once. Returns "sent" or a reason from SKIPS; raises ClaimBusyError
    when another attempt is sending it (the record is retried), or SES's error (claim released,
    record retried). The message carries the campaign and pseudonymous id as SES message tags
    (nudge.ses_events.message_tags), and a "sent" event with SES's message id goes to `events`
    (a nudge.storage.EventLog; None: not logged)."""
    record = profiles.send_record(customer_id, campaign_id) or {}
    if record.get("status") != "done":
        return "not_written"  # an in-progress claim; its completion is another stream record
    profile = profiles.get_profile(customer_id)
    if profile is None:
        return "unknown_customer"  # erased since
    if not profile.customer.consent:
        return "no_consent"
    if profile.suppressed:
        return "suppressed"
    # SEND# items written before campaign types were recorded carry none: only "all" applies to them
    if profile.opted_out_of(str(record.get("campaign_type", ""))):
        return "opted_out"
    pseudo = pseudonymize(customer_id, key=pseudonym_key)
    token = token or uuid.uuid4().hex
    claim = profiles.claim_delivery(customer_id, campaign_id, now=now, token=token)
    if claim == "done":
        return "duplicate"
    if claim == "busy":
        raise ClaimBusyError(f"{pseudo} in {campaign_id} is being sent by another attempt; retry later")
    try:
        # The very version the completed SEND# record describes (not merely the key's latest).
        eml = emails.get(email_keys(campaign_id, pseudo)["eml"], version_id=str(record.get("eml_version", "")))
        if eml is None:
            profiles.release_delivery(customer_id, campaign_id, token=token)
            return "email_missing"  # expired or erased: nothing to send
        if record.get("eml_sha256") and hashlib.sha256(eml).hexdigest() != record["eml_sha256"]:
            profiles.release_delivery(customer_id, campaign_id, token=token)
            return "email_mismatch"  # not the message its record describes: never sent
        message_id = sender.send(eml, tags=message_tags(campaign_id, pseudo))
    except Exception:
        try:
            profiles.release_delivery(customer_id, campaign_id, token=token)
        except Exception:  # noqa: BLE001 - the lease expires anyway; the original error matters
            pass
        raise
    # A crash here (SES accepted, stamp not written) is the one window for a second send, after
    # the lease: the same window every at-least-once sender has, kept to one SES call.
    if not profiles.complete_delivery(customer_id, campaign_id, now=now, message_id=message_id, token=token):
        log.warning("stale delivery: the SENT# claim passed to a newer attempt", extra={"campaign_id": campaign_id})
    if events is not None:
        events.put(sent_event(message_id, campaign_id=campaign_id, pseudonymous_id=pseudo, at=now))
    return "sent"


@dataclass
class SendService:
    """Built once per container (lazily) for the send function."""

    profiles: Any
    emails: Any
    sender: Any
    pseudonym_key: bytes
    events: Any = None  # nudge.storage.EventLog for "sent" events

    @classmethod
    def from_settings(cls, settings: Any) -> "SendService":
        from nudge.service import pseudonym_key
        from nudge.storage import EmailStore, EventLog, ProfileStore, RawEmailSender

        settings.require("profile_table", "output_bucket")
        key = pseudonym_key(settings, purpose="to find the email in S3")
        return cls(ProfileStore(settings.profile_table, record_days=settings.record_retention_days), EmailStore(settings.output_bucket),
                   RawEmailSender(configuration_set=settings.ses_configuration_set), key, EventLog(settings.output_bucket))

    def deliver_record(self, record: Mapping[str, Any], *, now: datetime | None = None) -> str:
        keys = keys_of(record)
        if keys is None:
            return "not_a_send"
        return deliver(*keys, profiles=self.profiles, emails=self.emails, sender=self.sender,
                       pseudonym_key=self.pseudonym_key, now=now or datetime.now(timezone.utc), events=self.events)
