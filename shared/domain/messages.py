"""Request messages as AIDM publishes them (docs/interface.md section 1): pure
builders, checked by `shared.domain.request.parse_request` before publishing."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from shared.domain.request import SCHEMA, Style

# render_still -> animate_still: which asset to animate; everything else is on the asset.
ANIMATE_SCHEMA = "media.animate.v1"


def new_request_id() -> str:
    return f"req-{uuid.uuid4().hex}"


def build_message(**fields: Any) -> dict[str, Any]:
    message = {"schema": SCHEMA, "request_id": fields.pop("request_id", None) or new_request_id()}
    message.update({k: v for k, v in fields.items() if v is not None})
    return message


def _style_dict(style: Style | Mapping[str, Any] | None) -> dict[str, Any] | None:
    if style is None:
        return None
    raw = style.model_dump() if isinstance(style, Style) else dict(style)
    clean = {
        k: v for k, v in raw.items() if v is not None and (not isinstance(v, str) or v.strip())
    }
    return clean or None


def _common(
    campaign_id: str,
    session_id: str,
    turn_number: int,
    kind: str,
    image_prompt: str,
    style: Any,
    reference_images: Sequence[str] | None,
    aspect_ratio: str | None,
    request_id: str | None,
    characters: Sequence[str] | None = None,
) -> dict[str, Any]:
    return dict(
        request_id=request_id,
        campaign_id=campaign_id,
        session_id=session_id,
        turn_number=turn_number,
        kind=kind,
        image_prompt=image_prompt,
        style=_style_dict(style),
        reference_images=list(reference_images) if reference_images else None,
        characters=list(characters) if characters else None,
        aspect_ratio=aspect_ratio,
    )


def cutscene_message(
    *,
    campaign_id: str,
    session_id: str,
    turn_number: int,
    cutscene_type: str,
    image_prompt: str,
    motion_prompt: str,
    style: Any = None,
    reference_images: Sequence[str] | None = None,
    aspect_ratio: str | None = None,
    duration_seconds: int | None = None,
    request_id: str | None = None,
    characters: Sequence[str] | None = None,
    turn_id: str | None = None,
    player_id: str | None = None,
) -> dict[str, Any]:
    return build_message(
        **_common(
            campaign_id,
            session_id,
            turn_number,
            "cutscene",
            image_prompt,
            style,
            reference_images,
            aspect_ratio,
            request_id,
            characters,
        ),
        cutscene_type=cutscene_type,
        motion_prompt=motion_prompt,
        duration_seconds=duration_seconds,
        turn_id=turn_id,
        player_id=player_id,
    )


def still_message(
    *,
    kind: str,
    campaign_id: str,
    session_id: str,
    turn_number: int,
    subject: str,
    image_prompt: str | None = None,
    style: Any = None,
    reference_images: Sequence[str] | None = None,
    aspect_ratio: str | None = None,
    request_id: str | None = None,
    characters: Sequence[str] | None = None,
    turn_id: str | None = None,
    player_id: str | None = None,
) -> dict[str, Any]:
    """A location visual, an NPC portrait or a model sheet; the subject is the
    prompt if none is given."""
    return build_message(
        **_common(
            campaign_id,
            session_id,
            turn_number,
            kind,
            image_prompt or subject,
            style,
            reference_images,
            aspect_ratio,
            request_id,
            characters,
        ),
        subject=subject,
        turn_id=turn_id,
        player_id=player_id,
    )


def animate_message(campaign_id: str, asset_id: str) -> dict[str, Any]:
    return {"schema": ANIMATE_SCHEMA, "campaign_id": campaign_id, "asset_id": asset_id}
