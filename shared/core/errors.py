"""A small error hierarchy: only transient errors make the platform retry."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class MediaError(Exception):
    """Base for pipeline errors."""


class PermanentError(MediaError):
    """Retrying cannot help: the request ends in a terminal state and is acked."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


class InvalidRequest(PermanentError):
    """A message that breaks docs/interface.md section 1."""

    def __init__(
        self, message: str, campaign_id: str | None = None, request_id: str | None = None
    ) -> None:
        super().__init__("invalid", message)
        self.campaign_id = campaign_id
        self.request_id = request_id


class SafetyBlocked(PermanentError):
    """The model refused the prompt; not billed."""


class TransientError(MediaError):
    """Quota, 5xx, timeout or contention: raise so the delivery is retried."""


class Busy(TransientError):
    """Another delivery holds the work right now; try again later."""


class RetriesSpent(TransientError):
    """The SDK already retried this call (HttpRetryOptions): retrying it again
    in-process would multiply the attempts, so it goes to the platform's
    redelivery (with its own backoff) instead."""


class StartUncertain(MediaError):
    """A Veo start failed in a way that may still have created a paid
    operation (timeout, 5xx, a dropped connection after the request was sent).
    Neither transient (a blind retry could pay twice) nor permanent (a clip
    may be on its way): see docs/decisions/0011-veo-start-retries.md."""


class QuotaExceeded(TransientError):
    """429 RESOURCE_EXHAUSTED: normal traffic under a per-minute quota, and
    known to have created nothing, so waiting and asking again is safe."""


# pydantic prefixes the text of a ValueError or an assert raised in a validator.
_PYDANTIC_PREFIX = re.compile(r"^(Value error|Assertion failed), ")
_MAX_ITEMS = 5


def validation_message(error: ValidationError) -> str:
    """What was wrong, in words, on one line: each field with its problem,
    never the input (it may be long or private) nor pydantic's own wording
    (`Value error, ...`, its errors URL, its model names). Every place that
    shows a ValidationError to a person (a rejected asset's `error`, an API
    400, a CLI message, the SDK's ValueError) goes through here."""
    items = []
    found = error.errors(include_input=False, include_url=False, include_context=False)
    for item in found[:_MAX_ITEMS]:
        field = ".".join(str(part) for part in item["loc"])
        text = _PYDANTIC_PREFIX.sub("", " ".join(str(item["msg"]).split()))
        if item["type"] == "missing":
            items.append(f"{field} is required")
        elif item["type"] == "extra_forbidden":
            items.append(f"unknown field {field!r}")
        else:
            items.append(f"{field}: {text}" if field else text)
    if len(found) > _MAX_ITEMS:
        items.append(f"and {len(found) - _MAX_ITEMS} more")
    return "; ".join(items)
