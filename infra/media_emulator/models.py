"""What the real Vertex AI serves, per model: the emulator refuses the rest.

Which models are served, and where, is read from the pipeline's catalog
(shared/domain/pricing.json, `models`), never from a list of the emulator's
own: each id and location there carries a dated quote of Google's page (or a
third-party one, flagged), so the emulator answers exactly what the catalog
claims and a wrong claim is fixed in one place. `cutscenes preflight` is what
checks the claims against a real project.

- A model the catalog does not list -> 404 NOT_FOUND. Vertex answers
  "Publisher Model `projects/.../publishers/google/models/X` not found." for ids
  it does not serve (https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions).
  Preview ids are served only where the catalog lists them (for
  gemini-3.1-flash-image only the preview id exists).
- A listed model outside its catalog locations -> 404 NOT_FOUND, the same
  answer (https://cloud.google.com/vertex-ai/generative-ai/docs/learn/locations).
- A model lookup (GET {location}-aiplatform.googleapis.com/v1beta1/
  publishers/google/models/{m}, what google-genai's models.get sends on
  Vertex: the location is in the host alone) answers the publisher model's
  resource where the catalog serves it and the same 404 NOT_FOUND elsewhere;
  `cutscenes preflight` asks it instead of generating. The fields kept (name,
  versionId) are those of Vertex's PublisherModel
  (https://cloud.google.com/vertex-ai/docs/reference/rest/v1beta1/publishers.models#PublisherModel).
  That the real lookup also 404s outside a model's serving locations is the
  catalog's claim, as for generation; it is not verified here.
- Veo 3.1 durationSeconds 4, 6 or 8; aspectRatio 16:9 or 9:16; resolution
  720p or 1080p for all, 4k for 3.1 and 3.1 Fast, not Lite -> else 400
  INVALID_ARGUMENT (https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/veo-video-generation).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.pricing import catalog

VEO_DURATIONS = (4, 6, 8)
VEO_ASPECTS = ("16:9", "9:16")
# A request parameter rule, not a list of models: Lite has no 4k.
_VEO_RESOLUTIONS = ("720p", "1080p", "4k")
_VEO_LITE_RESOLUTIONS = ("720p", "1080p")


@dataclass(frozen=True)
class ModelSpec:
    kind: str  # "image" | "video"
    locations: tuple[str, ...]
    resolutions: tuple[str, ...] = ()


def _resolutions(model: str, kind: str) -> tuple[str, ...]:
    if kind != "video":
        return ()
    return _VEO_LITE_RESOLUTIONS if "-lite-" in model else _VEO_RESOLUTIONS


def served_models() -> dict[str, ModelSpec]:
    """Every model the catalog lists, with where it is served."""
    return {
        model: ModelSpec(entry.kind, entry.locations, _resolutions(model, entry.kind))
        for model, entry in catalog().served().items()
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
    spec = served_models().get(model)
    resource = f"projects/{project}/locations/{location}/publishers/google/models/{model}"
    if spec is None or spec.kind != METHOD_KIND[method] or location not in spec.locations:
        raise NotServed(
            f"Publisher Model `{resource}` was not found or your project does not have "
            "access to it. Please ensure you are using a valid model version. (emulated:"
            f" {model!r} is served from {list(spec.locations) if spec else 'nowhere'})"
        )
    return spec


def lookup(location: str, model: str) -> dict[str, str]:
    """models.get: the publisher model where it is served, else NotServed.
    A model of either kind may be looked up; the request names no project."""
    spec = served_models().get(model)
    kind = spec.kind if spec else "image"
    check_served("-", location, model, next(m for m, k in METHOD_KIND.items() if k == kind))
    return {"name": f"publishers/google/models/{model}", "versionId": "default"}
