"""Exported charges (docs/interface.md, "Exported charges"): one
media.charge.v1 message on MEDIA_CHARGES_TOPIC per charge the ledger made.

Announced by shared/store/spend.py, the one place charges are made, every
time it finds a stage charged: when its settle made the charge, and again
whenever a settle or a release finds it made before (a redelivery, a closer).
The ledger write and the publish cannot be one step, so a process killed
between them would otherwise lose the message for good; announcing again is
safe because the message is the same each time (charge_id is the ledger's
key, settled_at the time the ledger recorded) and consumers de-duplicate on
charge_id. Like status events, a publish that fails is logged, never raised:
the ledger, not the topic, is what the budget is enforced on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.core import clock, log
from shared.core.settings import get_settings
from shared.domain.charge import CHARGE_SCHEMA, Charge
from shared.domain.pricing import micros_to_decimal
from shared.store import events
from shared.store.connections import publisher, topic_path
from shared.store.ledger import Charged

PROVIDER = "vertex-ai"


def charge_for(asset: Mapping[str, Any], key: str, charged: Charged) -> Charge:
    """The message for the ledger key `key` ("{asset_id}:image", ":video" or
    ":video.N", an owner's N-th clip attempt) of this asset."""
    stage = key.rsplit(":", 1)[1]
    phase = "image" if stage == "image" else "video"
    plan = asset.get("plan") or {}
    request = asset.get("request") or {}
    units: dict[str, int | float | str]
    if phase == "image":
        model, units = plan.get("image_model"), {"images": 1}
    else:
        units = {
            "seconds": int(plan.get("duration_seconds") or 0),
            "resolution": str(plan.get("video_resolution")),
        }
        model = plan.get("video_model")
    return Charge.model_validate(
        {
            "schema": CHARGE_SCHEMA,
            "charge_id": key,
            "campaign_id": asset["campaign_id"],
            "session_id": asset["session_id"],
            # Stored on the asset, or in the request it keeps; null when none.
            "player_id": asset.get("player_id") or request.get("player_id"),
            "asset_id": asset["asset_id"],
            "request_id": asset["request_id"],
            "turn_number": int(asset.get("turn_number") or 0),
            "turn_id": asset.get("turn_id") or request.get("turn_id"),
            "provider": PROVIDER,
            "model": str(model),
            "phase": phase,
            "units": units,
            "cost_usd": micros_to_decimal(charged.micros),
            # A charge made before the ledger kept its times: when it is found.
            "settled_at": charged.settled_at or clock.now(),
        }
    )


def message_data(charge: Charge) -> bytes:
    return charge.model_dump_json(by_alias=True).encode("utf-8")


def announce(asset: Mapping[str, Any], key: str, charged: Charged) -> None:
    """Publish the charge; never raises (a charge is made whatever happens here)."""
    try:
        publish(charge_for(asset, key, charged))
    except Exception as exc:  # noqa: BLE001 - exporting is best effort, the ledger is exact
        _failed(key, exc)


def publish(charge: Charge) -> None:
    """Send one charge message (the stage tests record it instead: tests/unit/fakes.py)."""
    future = publisher().publish(
        topic_path(get_settings().MEDIA_CHARGES_TOPIC),
        message_data(charge),
        campaign_id=charge.campaign_id,
        phase=charge.phase,
    )
    events.deliver(future, lambda exc: _failed(charge.charge_id, exc))


def _failed(charge_id: str, exc: Exception) -> None:
    log.warning(
        "charge_publish_failed",
        f"charge message not published: {type(exc).__name__}: {exc}",
        charge_id=charge_id,
    )
