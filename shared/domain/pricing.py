"""The pricing catalog: model choices and unit prices as data, never literals.

Money is counted in integer micro-dollars so that sums are exact; USD floats
appear only at the edges (documents and JSON answers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from shared.core.errors import PermanentError
from shared.core.settings import get_settings

MICROS_PER_USD = 1_000_000


def usd_to_micros(usd: Decimal | str | float) -> int:
    return int((Decimal(str(usd)) * MICROS_PER_USD).to_integral_value())


def micros_to_usd(micros: int) -> float:
    return round(micros / MICROS_PER_USD, 6)


def micros_to_decimal(micros: int) -> str:
    """Exact US dollars as a decimal string ("0.04", "3.2", "0"): no float on the way."""
    whole, frac = divmod(int(micros), MICROS_PER_USD)
    return f"{whole}.{frac:06d}".rstrip("0").rstrip(".")


def quotes(entry: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """An entry's price quotes; an operator's older file may give one bare figure."""
    if "quotes" in entry:
        return list(entry["quotes"])
    return [
        {
            field: entry[field],
            "source": entry.get("source", ""),
            "as_of": entry.get("as_of", ""),
            "third_party": entry.get("third_party", False),
        }
    ]


def charged(entry: dict[str, Any], field: str) -> Decimal:
    """The figure we reserve and charge: the quote the operator named in
    `charge_source`, else the highest one, so that disagreeing sources can
    only make us overestimate, never overspend."""
    options = quotes(entry, field)
    chosen = entry.get("charge_source")
    if chosen:
        named = [q for q in options if q.get("source") == chosen]
        if not named:
            raise PermanentError("invalid", f"charge_source {chosen!r} is none of the quotes")
        return Decimal(str(named[0][field]))
    return max(Decimal(str(q[field])) for q in options)


@dataclass(frozen=True)
class ServedModel:
    """Where Vertex serves a model, as the catalog's `models` says (each id and
    location there carries the dated quote it rests on)."""

    model: str
    kind: str  # "image" | "video"
    locations: tuple[str, ...]


@dataclass(frozen=True)
class Catalog:
    data: dict[str, Any]

    @property
    def defaults(self) -> dict[str, Any]:
        return dict(self.data["defaults"])

    def models_for(self, quality: str) -> dict[str, str]:
        """The tier's image and video models."""
        return {k: v for k, v in self.tier(quality).items() if k.endswith("_model")}

    def tier(self, quality: str) -> dict[str, Any]:
        """The tier's entry: its models and any default it sets for itself
        (`video_duration_seconds`)."""
        try:
            return dict(self.data["quality"][quality])
        except KeyError:
            raise PermanentError("invalid", f"unknown quality {quality!r}") from None

    def locations(self, model: str) -> list[str]:
        """Where Vertex serves `model` (empty: the catalog does not say)."""
        return list((self.data.get("models") or {}).get(model, {}).get("locations") or [])

    def served(self) -> dict[str, ServedModel]:
        """Every model the catalog lists and where Vertex serves it. The media
        emulator serves exactly these, so it cannot disagree with the catalog."""
        return {
            model: ServedModel(model, str(entry["kind"]), tuple(entry.get("locations") or ()))
            for model, entry in (self.data.get("models") or {}).items()
        }

    def image_micros(self, model: str, size: str, references: int = 0) -> int:
        """A still's price: the image, plus each reference image billed as input tokens."""
        for entry in self.data["images"]:
            if entry["model"] == model and entry["size"] == size:
                base = usd_to_micros(charged(entry, "usd_per_image"))
                return base + self.reference_micros(model, references)
        raise PermanentError("invalid", f"no price for image model {model!r} at {size}")

    def reference_micros(self, model: str, references: int) -> int:
        if references <= 0:
            return 0
        for entry in self.data.get("image_inputs") or []:
            if entry["model"] == model:
                # USD per million tokens is micro-dollars per token: exact.
                per_token = charged(entry, "usd_per_million_tokens")
                tokens = int(entry["tokens_per_image"]) * references
                return int((per_token * tokens).to_integral_value(rounding=ROUND_CEILING))
        raise PermanentError("invalid", f"no price for reference images on {model!r}")

    def video_micros(self, model: str, resolution: str, audio: bool, seconds: int) -> int:
        for entry in self.data["videos"]:
            if (entry["model"], entry["resolution"], entry["audio"]) == (model, resolution, audio):
                return usd_to_micros(charged(entry, "usd_per_second") * seconds)
        raise PermanentError(
            "invalid", f"no price for video model {model!r} at {resolution}, audio={audio}"
        )


def _load(path: str | None) -> Catalog:
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("shared.domain").joinpath("pricing.json").read_text(encoding="utf-8")
    return Catalog(json.loads(text))


@lru_cache(maxsize=4)
def _catalog_at(path: str | None) -> Catalog:
    return _load(path)


def catalog() -> Catalog:
    """The bundled catalog, or the operator's file named by MEDIA_PRICING_FILE."""
    return _catalog_at(get_settings().MEDIA_PRICING_FILE)
