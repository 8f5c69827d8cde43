"""A campaign as the pipeline reads it: members, owners, media settings, and the
plan (models, sizes, expected prices) a request gets under those settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.pricing import Catalog, catalog
from shared.domain.request import MediaRequest

Quality = Literal["draft", "standard", "premium"]


class MediaSettings(BaseModel):
    """`media_settings` on a campaign; missing keys take these defaults."""

    model_config = ConfigDict(extra="ignore")

    enabled: bool = False
    budget_per_session_usd: float = Field(2.00, ge=0, le=10_000)
    quality: Quality = "standard"
    image_model: str | None = None
    video_model: str | None = None
    video_resolution: Literal["720p", "1080p"] | None = None
    video_duration_seconds: Literal[4, 6, 8] | None = None
    auto_play: bool = True
    degrade_to_still: bool = True


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    members: tuple[str, ...]
    media: MediaSettings
    # The game masters: members who may also regenerate, re-animate and hide
    # media and read the spend report (docs/interface.md section 2).
    owners: tuple[str, ...] = ()

    def is_owner(self, uid: str) -> bool:
        """An owner acts only while still a member: removing a member takes
        every right away, whatever `owners` still says."""
        return uid in self.members and uid in self.owners


@dataclass(frozen=True)
class Plan:
    """What a request will use and what each paid call is expected to cost."""

    image_model: str
    image_size: str
    image_micros: int
    video_model: str | None
    video_resolution: str
    video_audio: bool
    duration_seconds: int
    video_micros: int


def plan_for(request: MediaRequest, media: MediaSettings, cat: Catalog | None = None) -> Plan:
    cat = cat or catalog()
    defaults = cat.defaults
    tier = cat.tier(media.quality)
    models = cat.models_for(media.quality)
    image_model = media.image_model or models["image_model"]
    image_size = defaults["image_size"]
    resolution = media.video_resolution or defaults["video_resolution"]
    audio = bool(defaults["video_audio"])
    duration = (
        request.duration_seconds
        or media.video_duration_seconds
        or int(tier.get("video_duration_seconds") or defaults["video_duration_seconds"])
    )
    video_model = (media.video_model or models["video_model"]) if request.wants_video else None
    return Plan(
        image_model=image_model,
        image_size=image_size,
        # Reference images (model sheets) ride along as billed input tokens.
        image_micros=cat.image_micros(image_model, image_size, len(request.reference_images)),
        video_model=video_model,
        video_resolution=resolution,
        video_audio=audio,
        duration_seconds=duration,
        video_micros=(
            cat.video_micros(video_model, resolution, audio, duration) if video_model else 0
        ),
    )
