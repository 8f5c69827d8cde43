"""Where each model is called: Vertex serves models per location, not per project.

gemini-3.1-flash-image-preview answers only on the `global` endpoint, Veo only on
regional ones; a model asked for elsewhere answers 404 NOT_FOUND. So the
location is data (the catalog's `models`), with an operator override per model.
"""

from __future__ import annotations

from functools import lru_cache

from shared.core.settings import get_settings
from shared.domain.pricing import catalog


@lru_cache(maxsize=8)
def parse_overrides(text: str) -> dict[str, str]:
    """MEDIA_MODEL_LOCATIONS "model=location,model=location" as a dict."""
    pairs = (item.split("=", 1) for item in text.split(",") if item.strip())
    return {model.strip(): location.strip() for model, location in pairs}


def location_for(model: str) -> str:
    settings = get_settings()
    override = parse_overrides(settings.MEDIA_MODEL_LOCATIONS).get(model)
    if override:
        return override
    served = catalog().locations(model)
    if not served or settings.VERTEX_LOCATION in served:
        return settings.VERTEX_LOCATION
    return served[0]


def location_of_operation(name: str) -> str | None:
    """projects/p/locations/L/publishers/google/models/m/operations/{uuid} -> L."""
    parts = name.split("/")
    try:
        return parts[parts.index("locations") + 1]
    except (ValueError, IndexError):
        return None
