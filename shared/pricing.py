"""The pricing catalog: model choices and unit prices as data, never literals.

Money is counted in integer micro-dollars so that sums are exact; USD floats
appear only at the edges (documents and JSON answers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from shared.errors import PermanentError
from shared.settings import get_settings

MICROS_PER_USD = 1_000_000


def usd_to_micros(usd: Decimal | str | float) -> int:
    return int((Decimal(str(usd)) * MICROS_PER_USD).to_integral_value())


def micros_to_usd(micros: int) -> float:
    return round(micros / MICROS_PER_USD, 6)


@dataclass(frozen=True)
class Catalog:
    data: dict[str, Any]

    @property
    def defaults(self) -> dict[str, Any]:
        return dict(self.data["defaults"])

    def models_for(self, quality: str) -> dict[str, str]:
        try:
            return dict(self.data["quality"][quality])
        except KeyError:
            raise PermanentError("invalid", f"unknown quality {quality!r}") from None

    def image_micros(self, model: str, size: str) -> int:
        for entry in self.data["images"]:
            if entry["model"] == model and entry["size"] == size:
                return usd_to_micros(entry["usd_per_image"])
        raise PermanentError("invalid", f"no price for image model {model!r} at {size}")

    def video_micros(self, model: str, resolution: str, audio: bool, seconds: int) -> int:
        for entry in self.data["videos"]:
            if (entry["model"], entry["resolution"], entry["audio"]) == (model, resolution, audio):
                return usd_to_micros(Decimal(entry["usd_per_second"]) * seconds)
        raise PermanentError(
            "invalid", f"no price for video model {model!r} at {resolution}, audio={audio}")


def _load(path: str | None) -> Catalog:
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("shared").joinpath("pricing.json").read_text(encoding="utf-8")
    return Catalog(json.loads(text))


@lru_cache(maxsize=4)
def _catalog_at(path: str | None) -> Catalog:
    return _load(path)


def catalog() -> Catalog:
    """The bundled catalog, or the operator's file named by MEDIA_PRICING_FILE."""
    return _catalog_at(get_settings().MEDIA_PRICING_FILE)
