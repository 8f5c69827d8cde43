"""The SDK an AIDM backend installs (docs/interface.md section 9): `MediaClient`,
and the module-level calls the CLI and scripts use. Each name lives where its
layer puts it; this package is the one place AIDM imports from."""

from shared.client.media_client import (
    READ_TIMEOUT_S,
    BudgetStatus,
    MediaClient,
    RewindResult,
    usd,
)
from shared.domain.messages import build_message, cutscene_message, new_request_id, still_message
from shared.domain.references import MAX_REFERENCE_BYTES, REFERENCE_TYPES, reference_object
from shared.store.budget import remaining_budget
from shared.store.campaigns import configure_campaign
from shared.store.publish import PUBLISH_TIMEOUT_S, PublishResult, publish_request

__all__ = [
    "MAX_REFERENCE_BYTES",
    "PUBLISH_TIMEOUT_S",
    "READ_TIMEOUT_S",
    "REFERENCE_TYPES",
    "BudgetStatus",
    "MediaClient",
    "PublishResult",
    "RewindResult",
    "build_message",
    "configure_campaign",
    "cutscene_message",
    "new_request_id",
    "publish_request",
    "reference_object",
    "remaining_budget",
    "still_message",
    "usd",
]
