"""SES events → the event log; a permanent bounce or a complaint → the customer suppressed.

The send function names a configuration set and tags every message with its campaign and the
customer's pseudonymous id (`message_tags`; never an address). The configuration set publishes
Send, Reject, Bounce, Complaint, Delivery, Open and Click events to EventBridge; a rule puts them
on a queue that the events function reads. Each record is one SES event in SES's event publishing
format, as it arrives: inside an EventBridge event (`source` "aws.ses", `detail` the SES event),
inside an SNS notification (`Message` the SES event as a string), or bare.

Per event (`EventsService.handle`):
  - read eventType, mail.messageId, mail.timestamp, mail.tags and the type's own object
    (bounce.bounceType/bounceSubType, complaint.complaintFeedbackType, open/click userAgent and
    ipAddress, click.link and linkTags) into one nudge.eventlog.Event; addresses, agents, IPs and
    links are read and dropped (a link is kept as a 12-hex hash, to tell links apart);
  - idempotent by SES message id (+ event type, + bounce type for bounces, + timestamp for opens
    and clicks, + link hash for clicks): an event already in the log is "replayed" and changes nothing;
  - a Permanent bounce or a complaint suppresses the customer (pseudonymous id → customer id,
    recorded by the generate step), before the event is logged, so a retry after a failure
    between the two still suppresses; a transient or undetermined bounce only logs;
  - an event without nudge's tags, or whose pseudonymous id maps to no customer, is logged and
    counted ("unknown_message", "unknown_customer"), never dropped, and suppresses nobody;
  - a malformed record raises SesEventError: it fails alone and, after the queue's retries,
    waits in the DLQ.

Plain Python over the stores it is given (nudge.storage.EventLog and ProfileStore in Lambda).

>>> message_tags("win-back-2026-11-20", "p_0123456789abcdef01234567")
{'nudge-campaign': 'win-back-2026-11-20', 'nudge-pid': 'p__0123456789abcdef01234567'}
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping

from nudge.attribution import is_machine_open_agent
from nudge.errors import ValidationError
from nudge.eventlog import Event, EventError, iso, parse_time

TAG_CAMPAIGN = "nudge-campaign"
TAG_PID = "nudge-pid"
UNKNOWN_PID = "unknown"  # the pseudonymous id of an event without nudge's tags (logged, suppresses nobody)
# SES eventType → event log type. Others that SES can publish are not asked for by the
# configuration set; they are ignored and counted if they come anyway.
SES_TYPES = {"Send": "sent", "Delivery": "delivery", "Bounce": "bounce", "Complaint": "complaint",
             "Reject": "reject", "Open": "open", "Click": "click"}
IGNORED_TYPES = ("Rendering Failure", "RenderingFailure", "DeliveryDelay", "Subscription")
OUTCOMES = ("logged", "replayed", "ignored", "unknown_message", "unknown_customer", "suppressed")
_PSEUDONYM = re.compile(r"^p_[0-9a-f]{24}$")  # nudge.identity.pseudonymize
_PRODUCT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_DETAIL_UNSAFE = re.compile(r"[^A-Za-z0-9 _./=:-]")


class SesEventError(ValidationError):
    """An SES event record is not in SES's event publishing format (it fails alone, then the DLQ)."""


# ------------------------------------------------------------------------------------------------
# Message tags: SES allows only ASCII letters, digits, "_" and "-" in tag values, so the campaign id
# ("." allowed) is escaped reversibly: "_" → "__", "." → "_d".
# ------------------------------------------------------------------------------------------------
def tag_value(text: str) -> str:
    value = text.replace("_", "__").replace(".", "_d")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
        raise SesEventError(f"a message tag value needs ASCII letters, digits, '_', '-' or '.', got {text[:40]!r}")
    return value


def read_tag_value(value: str) -> str:
    return re.sub(r"_(_|d)", lambda m: "_" if m.group(1) == "_" else ".", value)


def message_tags(campaign_id: str, pseudonymous_id: str) -> dict[str, str]:
    """The SES message tags that bring a message's events back to its campaign and customer."""
    return {TAG_CAMPAIGN: tag_value(campaign_id), TAG_PID: tag_value(pseudonymous_id)}


# ------------------------------------------------------------------------------------------------
# Parsing
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SesEvent:
    event: Event
    known: bool  # the message carries nudge's tags
    suppress_reason: str = ""  # "bounce:<subtype>" or "complaint:<feedback type>" when the customer must be suppressed


def unwrap(payload: Any) -> Mapping[str, Any]:
    """The SES event inside an SQS body, an EventBridge event or an SNS notification."""
    if isinstance(payload, (str, bytes)):
        try:
            payload = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise SesEventError(f"an SES event record must be JSON: {exc}") from None
    if not isinstance(payload, Mapping):
        raise SesEventError(f"an SES event must be a JSON object, got {type(payload).__name__}")
    if "detail" in payload and "detail-type" in payload:  # EventBridge
        if payload.get("source") != "aws.ses":
            raise SesEventError(f"expected an EventBridge event from source 'aws.ses', got {str(payload.get('source'))[:40]!r}")
        return unwrap(payload["detail"])
    if payload.get("Type") == "Notification" and "Message" in payload:  # SNS
        return unwrap(payload["Message"])
    return payload


def parse_ses_event(payload: Any) -> SesEvent | None:
    """One SES event as an event log Event (None for a type nudge does not log); SesEventError
    says what was missing or malformed."""
    body = unwrap(payload)
    kind = body.get("eventType") or body.get("notificationType")
    if kind in IGNORED_TYPES:
        return None
    if kind not in SES_TYPES:
        raise SesEventError(f"eventType must be one of {sorted(SES_TYPES)} (or ignored {IGNORED_TYPES}), got {str(kind)[:40]!r}")
    mail = body.get("mail")
    if not isinstance(mail, Mapping) or not isinstance(mail.get("messageId"), str) or not mail["messageId"]:
        raise SesEventError(f"{kind} event has no mail.messageId")
    message_id = mail["messageId"]
    if not re.fullmatch(r"[A-Za-z0-9._\-]{1,128}", message_id):
        raise SesEventError(f"{kind} event's mail.messageId is not an SES message id: {message_id[:40]!r}")
    own = body.get(kind.lower(), {}) if kind != "Send" else {}
    if not isinstance(own, Mapping):
        raise SesEventError(f"{kind} event's {kind.lower()!r} must be an object")
    stamp = own.get("timestamp") or mail.get("timestamp")
    try:
        at = iso(parse_time(stamp))
    except EventError:
        raise SesEventError(f"{kind} event {message_id} has no ISO 8601 timestamp (got {str(stamp)[:40]!r})") from None

    campaign_id, pseudonymous_id = _tag(mail, TAG_CAMPAIGN), _tag(mail, TAG_PID)
    known = bool(campaign_id and pseudonymous_id and _PSEUDONYM.match(pseudonymous_id))
    if not known:
        campaign_id, pseudonymous_id = "", UNKNOWN_PID
    kind_log = SES_TYPES[kind]
    event_id, detail, flags, product_id, reason = f"{kind_log}:{message_id}", "", set(), "", ""
    if kind == "Bounce":
        bounce_type, subtype = str(own.get("bounceType") or "Undetermined"), str(own.get("bounceSubType") or "")
        detail = f"{bounce_type}/{subtype}" if subtype else bounce_type
        event_id = f"bounce:{message_id}:{bounce_type.lower()}"  # a soft bounce, then a hard one, are two events
        if bounce_type == "Permanent":
            flags.add("permanent")
            reason = f"bounce:{subtype or 'General'}"
        elif bounce_type == "Transient":
            flags.add("transient")
    elif kind == "Complaint":
        detail = str(own.get("complaintFeedbackType") or own.get("complaintSubType") or "unspecified")
        reason = f"complaint:{detail}"
    elif kind == "Reject":
        detail = str(own.get("reason") or "")
    elif kind == "Open":
        event_id = f"open:{message_id}:{stamp}"
        if is_machine_open_agent(own.get("userAgent"), own.get("ipAddress")):
            flags.add("machine_open")
    elif kind == "Click":
        link = str(own.get("link") or "")
        link_hash = hashlib.sha256(link.encode("utf-8")).hexdigest()[:12]
        event_id, detail = f"click:{message_id}:{stamp}:{link_hash}", f"link={link_hash}"
        tags = own.get("linkTags") if isinstance(own.get("linkTags"), Mapping) else {}
        product = (tags.get("product") or [""])[0] if isinstance(tags.get("product"), list) else ""
        product_id = product if isinstance(product, str) and _PRODUCT.match(product) else ""
    event = Event(event_id=event_id, type=kind_log, at=at, pseudonymous_id=pseudonymous_id, campaign_id=campaign_id,
                  message_id=message_id, product_id=product_id, flags=tuple(sorted(flags)),
                  detail=_DETAIL_UNSAFE.sub("", detail)[:80], source="ses")
    return SesEvent(event, known, reason if known else "")


def _tag(mail: Mapping[str, Any], name: str) -> str:
    tags = mail.get("tags")
    values = tags.get(name) if isinstance(tags, Mapping) else None
    if isinstance(values, list) and values and isinstance(values[0], str):
        return read_tag_value(values[0])
    return ""


# ------------------------------------------------------------------------------------------------
# Handling: log, suppress, count
# ------------------------------------------------------------------------------------------------
def handle_ses_event(payload: Any, *, log: Any, profiles: Any) -> str:
    """Log one SES event (and suppress on a permanent bounce or complaint). Returns an OUTCOMES entry."""
    parsed = parse_ses_event(payload)
    if parsed is None:
        return "ignored"
    if log.exists(parsed.event):
        return "replayed"  # already handled: changes nothing the second time
    outcome = "logged" if parsed.known else "unknown_message"
    if parsed.suppress_reason:
        customer_id = profiles.customer_for_pseudonym(parsed.event.pseudonymous_id)
        if customer_id is None:
            outcome = "unknown_customer"  # erased, or never mapped: logged, nobody suppressed
        else:
            profiles.set_suppressed(customer_id, parsed.suppress_reason)
            outcome = "suppressed"
    if not log.put(parsed.event):
        return "replayed"  # a concurrent delivery of the same event logged it first
    return outcome


@dataclass
class EventsService:
    """Built once per container (lazily) for the events function."""

    log: Any
    profiles: Any

    @classmethod
    def from_settings(cls, settings: Any) -> "EventsService":
        from nudge.storage import EventLog, ProfileStore

        settings.require("output_bucket", "profile_table")
        return cls(EventLog(settings.output_bucket), ProfileStore(settings.profile_table))

    def handle(self, payload: Any) -> str:
        return handle_ses_event(payload, log=self.log, profiles=self.profiles)


__all__ = ["EventsService", "SesEvent", "SesEventError", "handle_ses_event", "message_tags", "parse_ses_event",
           "read_tag_value", "tag_value", "unwrap"]
