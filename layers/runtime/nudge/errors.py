"""The small error hierarchy of nudge. Messages say what was expected and what came."""


class NudgeError(Exception):
    """Base class for every error nudge raises on purpose."""


class ConfigError(NudgeError, ValueError):
    """A required setting is missing or malformed (raised at cold start, names the variable)."""


class ValidationError(NudgeError, ValueError):
    """An input record (store row, SQS body) does not match its schema."""


class BadJobError(ValidationError):
    """An SQS job message cannot be parsed; the record fails alone and goes to the DLQ."""


class UnknownCustomerError(NudgeError, LookupError):
    """A job names a customer that the profile store does not hold."""


class ArtifactMismatchError(NudgeError, RuntimeError):
    """An artifact's meta.json does not match what this runtime expects."""


class ExportParityError(NudgeError, RuntimeError):
    """An exported model disagrees with its reference beyond the tolerance."""


class GuardrailViolation(NudgeError, ValueError):
    """Generated copy broke a guardrail (digits, currency, URL, unknown slot, banned phrase...)."""


class RenderError(NudgeError, ValueError):
    """An email could not be rendered from the given facts."""


class ClaimBusyError(NudgeError, RuntimeError):
    """Another attempt holds the (campaign, customer) claim; the record fails and is retried later."""


class OfferError(ValidationError):
    """A store offer (offers.json) breaks a rule; the message names the offer, the field, what was
    expected and what came. A store with a bad offer does not load: an email must never go out with
    an offer silently dropped or changed."""
