"""Every catalog model answers where the pipeline will call it.

A model lookup (google-genai's models.get, GET .../publishers/google/models/M
at the location's endpoint) costs nothing; a generation would. The location
is the one the pipeline calls (shared/domain/locations.location_for: the
catalog's, or MEDIA_MODEL_LOCATIONS'), so an operator override that sends a
model where it is not served fails here, before a player sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.preflight.rows import Row, failed, passed

# (model, location) -> None when it answers, else what the lookup answered.
Lookup = Callable[[str, str], str | None]


def wanted() -> dict[str, str]:
    """Every model the catalog lists or a quality tier uses, with where it is called."""
    from shared.domain.locations import location_for
    from shared.domain.pricing import catalog

    cat = catalog()
    models = set(cat.served())
    for quality in cat.data.get("quality") or {}:
        models.update(cat.models_for(quality).values())
    return {model: location_for(model) for model in sorted(models)}


def rows(models: dict[str, str], lookup: Lookup) -> list[Row]:
    out = []
    for model, location in models.items():
        check = f"{model} at {location}"
        answer = lookup(model, location)
        if answer is None:
            out.append(passed("models", check, "models.get answered"))
        else:
            out.append(
                failed(
                    "models",
                    check,
                    answer,
                    "fix the model's id or `locations` in the pricing catalog "
                    "(MEDIA_PRICING_FILE), or MEDIA_MODEL_LOCATIONS (Terraform model_locations); "
                    "on a real project also check Vertex AI is enabled and the model is "
                    "offered to it",
                ),
            )
    return out


class GenaiLookup:
    """models.get with the real google-genai client, one client per location
    (kept until the run ends: genai closes a collected client's connection).

    Against the media emulator the location is carried in the base URL
    (`/locations/L/`), standing for the location's own host, which is the
    only place the SDK puts it for this call."""

    def __init__(self, project: str, emulator_url: str = "") -> None:
        self.project = project
        self.emulator_url = emulator_url.rstrip("/")
        self.clients: dict[str, Any] = {}

    def client(self, location: str) -> Any:
        from google import genai
        from google.genai import types

        if location not in self.clients:
            kwargs: dict[str, Any] = {}
            options = types.HttpOptions(timeout=30_000)
            if self.emulator_url:
                from google.oauth2.credentials import Credentials

                kwargs["credentials"] = Credentials(token="emulator")
                options.base_url = f"{self.emulator_url}/locations/{location}/"
            self.clients[location] = genai.Client(
                vertexai=True,
                project=self.project,
                location=location,
                http_options=options,
                **kwargs,
            )
        return self.clients[location]

    def __call__(self, model: str, location: str) -> str | None:
        from google.genai import errors

        try:
            self.client(location).models.get(model=model)
        except errors.APIError as exc:
            return f"models.get answered {exc.code} {exc.status}: {exc.message}"
        return None
