"""What the real Vertex AI serves, per model: the emulator refuses the rest.

Each rule copies a documented behaviour of the real service (sources below,
read 2026-11). The table is the emulator's own, deliberately not read from
the pipeline's catalog: a test must be able to catch the catalog being wrong.

- Unknown model -> 404 NOT_FOUND. Vertex answers "Publisher Model
  `projects/.../publishers/google/models/X` not found." for ids it does not
  serve (https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions).
- Known model outside its locations -> 404 NOT_FOUND, the same answer
  (https://cloud.google.com/vertex-ai/generative-ai/docs/learn/locations;
  gemini-3.1-flash-image lists only `global`:
  https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini/3-1-flash-image;
  gemini-3-pro-image `global` and us-central1 among regions:
  https://cloud.google.com/vertex-ai/generative-ai/docs/models/gemini/3-pro-image;
  Veo 3.1 regional endpoints, us-central1:
  https://cloud.google.com/vertex-ai/generative-ai/docs/models/veo/3-1-generate).
- Veo 3.1 durationSeconds 4, 6 or 8; aspectRatio 16:9 or 9:16; resolution
  720p or 1080p for all, 4k for 3.1 and 3.1 Fast, not Lite -> else 400
  INVALID_ARGUMENT (https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/veo-video-generation).
- Preview ids answer like their GA ids (the pipeline maps previews to GA ids).
"""

from __future__ import annotations

from dataclasses import dataclass

VEO_DURATIONS = (4, 6, 8)
VEO_ASPECTS = ("16:9", "9:16")


@dataclass(frozen=True)
class ModelSpec:
    kind: str  # "image" | "video"
    locations: tuple[str, ...]
    resolutions: tuple[str, ...] = ()


_VEO_REGIONS = ("us-central1",)
_VEO_FULL = ModelSpec("video", _VEO_REGIONS, ("720p", "1080p", "4k"))
_VEO_LITE = ModelSpec("video", _VEO_REGIONS, ("720p", "1080p"))
_PRO_IMAGE = ModelSpec("image", ("global", "us-central1"))

MODELS: dict[str, ModelSpec] = {
    "gemini-3-pro-image": _PRO_IMAGE,
    "gemini-3-pro-image-preview": _PRO_IMAGE,
    "gemini-3.1-flash-image": ModelSpec("image", ("global",)),
    "gemini-3.1-flash-image-preview": ModelSpec("image", ("global",)),
    "veo-3.1-generate-001": _VEO_FULL,
    "veo-3.1-generate-preview": _VEO_FULL,
    "veo-3.1-fast-generate-001": _VEO_FULL,
    "veo-3.1-fast-generate-preview": _VEO_FULL,
    "veo-3.1-lite-generate-001": _VEO_LITE,
    "veo-3.1-lite-generate-preview": _VEO_LITE,
}
# Which kind of model serves each method.
METHOD_KIND = {
    "generateContent": "image",
    "predictLongRunning": "video",
    "fetchPredictOperation": "video",
}


class NotServed(LookupError):
    """Answered 404 NOT_FOUND, as Vertex does."""


def check_served(project: str, location: str, model: str, method: str) -> ModelSpec:
    """The model's spec, or NotServed with Vertex's wording."""
    spec = MODELS.get(model)
    resource = f"projects/{project}/locations/{location}/publishers/google/models/{model}"
    if spec is None or spec.kind != METHOD_KIND[method] or location not in spec.locations:
        raise NotServed(
            f"Publisher Model `{resource}` was not found or your project does not have "
            "access to it. Please ensure you are using a valid model version. (emulated:"
            f" {model!r} is served from {list(spec.locations) if spec else 'nowhere'})"
        )
    return spec
