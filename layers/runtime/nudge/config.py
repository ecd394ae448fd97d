"""Configuration, read in one place from environment variables.

Required settings fail at cold start with a message naming the variable; an explicit argument
beats the environment (`Settings.from_env(overrides={...})`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any, Mapping

from nudge.errors import ConfigError

# name -> (environment variable, required by, default, description). The README's configuration
# table is generated from this one source (`python -m nudge.config --markdown`).
VARIABLES: dict[str, tuple[str, str, Any, str]] = {
    "output_bucket": ("NUDGE_OUTPUT_BUCKET", "generate, send, endpoint, plan, cart, sweep, events", None, "S3 bucket that receives emails/ and events/ (and holds artifacts/)."),
    "profile_table": ("NUDGE_PROFILE_TABLE", "generate, plan, cart, sweep, send, endpoint", None, "DynamoDB table of profiles, sends and suppressions (pk/sk)."),
    "jobs_queue_url": ("NUDGE_JOBS_QUEUE_URL", "plan", None, "SQS queue URL that the plan function fills (batch campaigns)."),
    "triggers_queue_url": ("NUDGE_TRIGGERS_QUEUE_URL", "sweep", "", "SQS queue URL that the cart sweep fills (abandoned-cart reminders), read by the generate function beside the jobs queue so a reminder never waits behind a batch campaign; empty: NUDGE_JOBS_QUEUE_URL."),
    "artifacts_uri": ("NUDGE_ARTIFACTS_URI", "generate, endpoint", None, "Where the recommender artifacts and catalog live: s3://bucket/prefix/ or a local directory."),
    "model_dir": ("NUDGE_MODEL_DIR", "generate", "/opt/copywriter", "Directory of the ONNX copywriter; missing or empty means reviewed fallback copy only."),
    "store_name": ("NUDGE_STORE_NAME", "generate", "nudge demo store", "Store name shown in emails."),
    "store_address": ("NUDGE_STORE_ADDRESS", "generate", "1 Example Street, London EC1A 1AA, United Kingdom", "Postal address in every footer (bulk-sender rules)."),
    "store_locale": ("NUDGE_STORE_LOCALE", "generate, endpoint", "en_GB", "The store's own locale (ll_CC): a customer whose language has no message catalog (en, fr, de, es, it, nl, zh_Hans) gets the email's fixed wording in this one's language, and the link pages default to it."),
    "store_url": ("NUDGE_STORE_URL", "generate, endpoint", "https://shop.example.com", "Base URL of the shop: product links, and where the click endpoint sends a call to action."),
    "sender": ("NUDGE_SENDER", "generate", "nudge demo store <news@shop.example.com>", "From header."),
    "secret_arn": ("NUDGE_SECRET_ARN", "generate, plan, sweep, send, endpoint, cart", "", "Secrets Manager secret with pseudonym_key and link_key (JSON)."),
    "pseudonym_key": ("NUDGE_PSEUDONYM_KEY", "generate, plan, sweep, send, cart", "", "Key for pseudonymous ids (local runs; in AWS it comes from the secret)."),
    "link_key": ("NUDGE_LINK_KEY", "generate, endpoint", "", "Key for signed click and unsubscribe tokens (local runs; in AWS from the secret)."),
    "holdout_share": ("NUDGE_HOLDOUT_SHARE", "plan, sweep", "0.1", "Share of each campaign's audience kept as a holdout (recorded, not emailed)."),
    "frequency_cap_days": ("NUDGE_FREQUENCY_CAP_DAYS", "plan, sweep, generate", "7", "At most one marketing email per customer per this many days (planned around, and enforced when the generate function claims the email)."),
    "claim_lease_seconds": ("NUDGE_CLAIM_LEASE_SECONDS", "generate", "300", "Seconds a claim on a (campaign, customer) email lasts before a retry may take it over; must exceed the function's timeout."),
    "plan_page_size": ("NUDGE_PLAN_PAGE_SIZE", "plan", "1000", "Items one Scan page of a plan segment evaluates (10-1000; DynamoDB also ends a page at 1 MB): one checkpoint per page. The local runner uses 200, since moto spends milliseconds per returned item."),
    "record_retention_days": ("NUDGE_RECORD_RETENTION_DAYS", "generate, plan, sweep, send", "90", "Days the send, delivery and holdout records (with the email's audit record) are kept (DynamoDB TTL); at least 30, longer than a job can wait in the queues."),
    "ses_configuration_set": ("NUDGE_SES_CONFIGURATION_SET", "send", "", "SES configuration set named on every send (with the campaign and pseudonymous id as message tags), so delivery, bounce, complaint, open and click events come back; empty: none."),
    "cart_delay_minutes": ("NUDGE_CART_DELAY_MINUTES", "cart, sweep", "120", "Minutes a cart must stay untouched before its abandoned-cart reminder is due (1-4320)."),
    "link_base_url": ("NUDGE_LINK_BASE_URL", "generate", "", "https base URL of the link endpoint (its Function URL, or a domain in front of it): unsubscribe, preference and product links point at it; empty links to NUDGE_STORE_URL."),
    "link_click_ttl_days": ("NUDGE_LINK_CLICK_TTL_DAYS", "generate", "90", "Days after the send date that click (and open pixel) links keep working."),
    "link_unsubscribe_ttl_days": ("NUDGE_LINK_UNSUBSCRIBE_TTL_DAYS", "generate", "400", "Days after the send date that unsubscribe and preference links keep working."),
    "open_pixel": ("NUDGE_OPEN_PIXEL", "generate", "false", "true puts a 1x1 open pixel (the link endpoint's /open) in emails; its opens are flagged unreliable."),
}


@dataclass(frozen=True)
class Settings:
    output_bucket: str | None = None
    profile_table: str | None = None
    jobs_queue_url: str | None = None
    triggers_queue_url: str = ""
    artifacts_uri: str = ""
    model_dir: str = "/opt/copywriter"
    store_name: str = ""
    store_address: str = ""
    store_locale: str = "en_GB"
    store_url: str = ""
    sender: str = ""
    secret_arn: str = ""
    pseudonym_key: str = ""
    link_key: str = ""
    holdout_share: float = 0.1
    frequency_cap_days: int = 7
    claim_lease_seconds: int = 300
    record_retention_days: int = 90
    plan_page_size: int = 1000
    cart_delay_minutes: int | str = 120  # checked by nudge.triggers.delay_from
    ses_configuration_set: str = ""
    link_base_url: str = ""
    link_click_ttl_days: int = 90
    link_unsubscribe_ttl_days: int = 400
    open_pixel: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> "Settings":
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, (var, _, default, _) in VARIABLES.items():
            raw = env.get(var, default)
            values[name] = raw
        values.update(overrides or {})
        try:
            values["holdout_share"] = float(values["holdout_share"])
            values["frequency_cap_days"] = int(values["frequency_cap_days"])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"NUDGE_HOLDOUT_SHARE must be a number in [0, 1) and NUDGE_FREQUENCY_CAP_DAYS an integer: {exc}") from exc
        for name, low, high in (("claim_lease_seconds", 1, 3600), ("record_retention_days", 30, 3650), ("plan_page_size", 10, 1000)):
            raw = values[name]
            try:
                values[name] = int(raw)
            except (TypeError, ValueError):
                values[name] = 0
            if not low <= values[name] <= high:
                raise ConfigError(f"{VARIABLES[name][0]} must be a whole number in {low}..{high}, got {raw!r}")
        if not 0 <= values["holdout_share"] < 1:
            raise ConfigError(f"NUDGE_HOLDOUT_SHARE must be in [0, 1), got {values['holdout_share']}")
        for name in ("link_click_ttl_days", "link_unsubscribe_ttl_days"):
            raw = values[name]
            try:
                values[name] = int(raw)
            except (TypeError, ValueError):
                values[name] = 0
            if not 1 <= values[name] <= 3650:
                raise ConfigError(f"{VARIABLES[name][0]} must be a whole number of days in 1..3650, got {raw!r}")
        values["open_pixel"] = str(values["open_pixel"]).strip().lower() in ("1", "true", "yes", "on")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def require(self, *names: str) -> "Settings":
        """Fail at cold start, naming the environment variable, when a required setting is empty."""
        missing = [VARIABLES[n][0] for n in names if not getattr(self, n)]
        if missing:
            raise ConfigError(f"missing required environment variable(s): {', '.join(missing)}")
        return self


def markdown_table() -> str:
    rows = ["| variable | used by | default | meaning |", "|---|---|---|---|"]
    for var, used_by, default, text in VARIABLES.values():
        rows.append(f"| `{var}` | {used_by} | {'(required)' if default is None else f'`{default}`' if default else '(empty)'} | {text} |")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    print(markdown_table())
