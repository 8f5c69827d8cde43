"""Every model, resolution and duration a campaign can end up with has a price
and a location: the walk that would have caught Lite at 1080p ("no price")."""

import itertools
import typing

from shared.aidm import media_settings_from_aidm
from shared.domain.campaign import MediaSettings, plan_for
from shared.domain.pricing import catalog
from shared.domain.request import MAX_REFERENCE_IMAGES, MediaRequest, parse_request

# Model ids AIDM's own settings may carry (its defaults, previews, GA ids).
AIDM_IDS = {
    "image": [
        "imagen-3.0-generate-002",
        "gemini-3-pro-image-preview",
        "gemini-3.1-flash-image-preview",
        "gemini-3-pro-image",
        "gemini-3.1-flash-image",
    ],
    "video": [
        "veo-3.0-generate-preview",
        "veo-3.1-generate-preview",
        "veo-3.1-fast-generate-preview",
        "veo-3.1-lite-generate-preview",
        "veo-3.1-generate-001",
        "veo-3.1-fast-generate-001",
        "veo-3.1-lite-generate-001",
    ],
}


def literal_values(model: type, field: str) -> list:
    annotation = model.model_fields[field].annotation
    values = [v for arg in typing.get_args(annotation) for v in (typing.get_args(arg) or [arg])]
    return [v for v in values if v is not type(None)]


def reachable_models(kind: str) -> set[str | None]:
    """None (the quality's pick) plus every id the AIDM mapping can produce."""
    out: set[str | None] = {None}
    for model in AIDM_IDS[kind]:
        mapped = media_settings_from_aidm({f"media_{kind}_model": model}, warn=False)
        out.add(mapped.media_settings.get(f"{kind}_model"))
    return out


def request(duration: int, refs: int) -> MediaRequest:
    return parse_request(
        {
            "schema": "media.request.v1",
            "request_id": "req-walk-0001",
            "campaign_id": "c1",
            "session_id": "s1",
            "turn_number": 1,
            "kind": "cutscene",
            "cutscene_type": "plot_twist",
            "image_prompt": "p",
            "motion_prompt": "m",
            "duration_seconds": duration,
            "reference_images": [f"gs://b/refs/c1/characters/n{i}.png" for i in range(refs)],
        },
        "b",
    )


def test_every_choice_has_a_price_and_a_location():
    qualities = literal_values(MediaSettings, "quality")
    resolutions = literal_values(MediaSettings, "video_resolution")
    durations = literal_values(MediaSettings, "video_duration_seconds")
    assert set(durations) == set(literal_values(MediaRequest, "duration_seconds")) == {4, 6, 8}
    assert set(resolutions) == {"720p", "1080p"} and len(qualities) == 3
    walked = 0
    for quality, image, video, resolution, duration, refs in itertools.product(
        qualities,
        reachable_models("image"),
        reachable_models("video"),
        resolutions,
        durations,
        (0, MAX_REFERENCE_IMAGES),
    ):
        media = MediaSettings(
            quality=quality, image_model=image, video_model=video, video_resolution=resolution
        )
        plan = plan_for(request(duration, refs), media)  # raises "no price" if missing
        assert plan.image_micros > 0 and plan.video_micros > 0
        for model in (plan.image_model, plan.video_model):
            assert catalog().locations(model or ""), f"{model} has no locations"
        walked += 1
    assert walked >= 3 * 3 * 4 * 2 * 3 * 2


def test_lite_at_1080p_is_priced():
    plan = plan_for(request(8, 0), MediaSettings(quality="draft", video_resolution="1080p"))
    assert plan.video_model == "veo-3.1-lite-generate-001" and plan.video_micros == 8 * 80_000
