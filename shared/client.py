"""The client AIDM backends use: publish requests, configure campaigns, read budgets.

Publishing is the only thing the turn loop does in-line: it validates, hands
the message to Pub/Sub and returns a result in milliseconds. It never raises
into the caller; a problem comes back as `accepted=False` with a reason.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from shared import ledger
from shared.campaigns import MediaSettings, campaign_ref, load_campaign
from shared.clients import publisher, topic_path
from shared.errors import InvalidRequest
from shared.ids import asset_id_for
from shared.pricing import usd_to_micros
from shared.request import SCHEMA, parse_request
from shared.settings import get_settings

PUBLISH_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class PublishResult:
    accepted: bool
    request_id: str | None
    asset_id: str | None
    reason: str | None = None
    message_id: str | None = None


def new_request_id() -> str:
    return f"req-{uuid.uuid4().hex}"


def build_message(**fields: Any) -> dict[str, Any]:
    message = {"schema": SCHEMA, "request_id": fields.pop("request_id", None) or new_request_id()}
    message.update({k: v for k, v in fields.items() if v is not None})
    return message


def publish_request(message: dict[str, Any], wait: bool = True) -> PublishResult:
    """Validate and publish one request message (CONTRACT section 1)."""
    request_id = message.get("request_id") if isinstance(message, dict) else None
    try:
        request = parse_request(message, get_settings().MEDIA_BUCKET)
    except InvalidRequest as exc:
        return PublishResult(False, request_id, None, f"invalid: {exc}")
    try:
        future = publisher().publish(
            topic_path(get_settings().MEDIA_REQUESTS_TOPIC),
            json.dumps(request.to_message()).encode("utf-8"),
            campaign_id=request.campaign_id, kind=request.kind,
        )
        message_id = future.result(timeout=PUBLISH_TIMEOUT_S) if wait else None
    except Exception as exc:  # noqa: BLE001 - the turn loop must never see this
        return PublishResult(False, request.request_id, asset_id_for(request.request_id),
                             f"publish failed: {type(exc).__name__}: {exc}")
    return PublishResult(True, request.request_id, asset_id_for(request.request_id),
                         None, message_id)


def configure_campaign(campaign_id: str, *, enabled: bool | None = None,
                       budget_usd: float | None = None, members: list[str] | None = None,
                       quality: str | None = None, **settings: Any) -> dict[str, Any]:
    """Merge media settings and add members; returns the stored campaign."""
    from google.cloud import firestore

    changes: dict[str, Any] = {k: v for k, v in settings.items() if v is not None}
    if enabled is not None:
        changes["enabled"] = enabled
    if budget_usd is not None:
        changes["budget_per_session_usd"] = budget_usd
    if quality is not None:
        changes["quality"] = quality
    ref = campaign_ref(campaign_id)
    snap = ref.get()
    current = (snap.to_dict() or {}) if snap.exists else {}
    media = {**(current.get("media_settings") or {}), **changes}
    MediaSettings.model_validate(media)  # refuse bad settings before storing them
    update: dict[str, Any] = {"media_settings": media}
    if members:
        update["members"] = firestore.ArrayUnion(list(members))
    elif "members" not in current:
        update["members"] = []
    ref.set(update, merge=True)
    return ref.get().to_dict() or {}


def remaining_budget(campaign_id: str, session_id: str) -> ledger.Balance:
    campaign = load_campaign(campaign_id)
    cap = usd_to_micros(campaign.media.budget_per_session_usd if campaign else 0)
    balance = ledger.read_balance(campaign_id, session_id, cap)
    # The campaign's current setting is the cap the next reservation will see.
    committed = balance.spent_micros + balance.reserved_micros
    return ledger.Balance(max(cap, committed), balance.spent_micros, balance.reserved_micros)
