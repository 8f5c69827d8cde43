"""AIDM's flat settings as this pipeline's `media_settings` (docs/interface.md section 2)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from shared.client import MediaClient
from shared.core import log
from shared.domain.campaign import MediaSettings
from shared.domain.pricing import catalog

_DEFAULTS = MediaSettings.model_validate({})  # docs/interface.md section 2's defaults
# AIDM's UserSettings ship these (src/settings/models.py). Every player who never
# opened the settings page has them, so they say nothing about what the player
# wants: the campaign's quality tier picks the models instead of the dearest ones.
AIDM_DEFAULT_MODELS = {"image": "gemini-3-pro-image-preview", "video": "veo-3.1-generate-preview"}


@dataclass(frozen=True)
class AidmSettings:
    """AIDM's flat settings as this pipeline's `media_settings` (docs/interface.md section 2)."""

    media_settings: dict[str, Any]
    warnings: tuple[str, ...] = ()


def _flat_get(flat: Any, key: str) -> Any:
    if isinstance(flat, Mapping):
        return flat.get(key)
    return getattr(flat, key, None)


def _priced_models(kind: str) -> set[str]:
    return {e["model"] for e in catalog().data["images" if kind == "image" else "videos"]}


def current_model_id(model: str, kind: str) -> str | None:
    """A priced catalog id for `model`, or None if it has none.

    Preview ids of current models become their GA ids
    (gemini-3-pro-image-preview -> gemini-3-pro-image, veo-3.1-generate-preview
    -> veo-3.1-generate-001); a GA id Google does not list becomes the preview
    id the catalog has (gemini-3.1-flash-image -> gemini-3.1-flash-image-preview).
    Retired families (imagen-*, veo-2.0-*, veo-3.0-*, gemini-2.x image models)
    have no equivalent: None.
    """
    priced = _priced_models(kind)
    candidates = [
        model,
        re.sub(r"-preview(-[0-9-]+)?$", "", model),
        re.sub(r"-preview(-[0-9-]+)?$", "-001", model),
        re.sub(r"(-001)?$", "-preview", model, count=1),
    ]
    return next((c for c in candidates if c in priced), None)


def media_settings_from_aidm(flat: Any, *, warn: bool = True) -> AidmSettings:
    """Map AIDM's flat settings (a dict or its settings object) to `media_settings`.

    - media_enabled -> enabled; media_auto_play -> auto_play;
      media_budget_per_session_usd -> budget_per_session_usd.
    - media_budget_enabled false: AIDM then spends without a cap; this pipeline
      always caps a session, and AIDM ships with the switch off, so "no cap" as
      a default would mean unbounded spend for everyone who merely enables
      media. The per-session figure (AIDM's default $2.00) is applied anyway,
      with a warning: raise it to spend more.
    - media_image_model / media_video_model: AIDM's untouched defaults
      (AIDM_DEFAULT_MODELS) mean "no preference": the campaign's quality
      (`standard` unless set) picks the models. Taken literally they are the
      premium models, $0.134 a still and $3.20 an 8 s clip, and AIDM's $2.00
      default budget would buy one cutscene at most. A player who wants those
      models sets quality `premium` (or names their GA ids). Other choices are
      honoured when the pricing catalog prices them; preview ids of current
      models become their GA ids; retired ids (imagen-3.0-generate-002,
      veo-3.0-generate-preview) are dropped with a warning.
    """
    out: dict[str, Any] = {}
    notes: list[str] = []
    enabled = _flat_get(flat, "media_enabled")
    if enabled is not None:
        out["enabled"] = bool(enabled)
    budget = _flat_get(flat, "media_budget_per_session_usd")
    if budget is not None:
        try:
            value = float(budget)
            if not 0 <= value <= 10_000:
                raise ValueError
            out["budget_per_session_usd"] = value
        except (TypeError, ValueError):
            notes.append(
                f"media_budget_per_session_usd {budget!r} is not an amount in "
                "0-10000 USD; the default cap ($2.00) applies"
            )
    if _flat_get(flat, "media_budget_enabled") is False:
        cap = out.get("budget_per_session_usd", _DEFAULTS.budget_per_session_usd)
        notes.append(
            f"media_budget_enabled is false, but this pipeline always caps spending "
            f"per session: ${cap:.2f} (media_budget_per_session_usd) applies; "
            "raise it to spend more"
        )
    auto_play = _flat_get(flat, "media_auto_play")
    if auto_play is not None:
        out["auto_play"] = bool(auto_play)
    for kind in ("image", "video"):
        key = f"media_{kind}_model"
        model = _flat_get(flat, key)
        if not model or model == AIDM_DEFAULT_MODELS[kind]:
            continue
        current = current_model_id(str(model), kind)
        if current == model:
            out[f"{kind}_model"] = current
        elif current:
            out[f"{kind}_model"] = current
            notes.append(f"{key} {model!r} is now {current!r}")
        else:
            default = catalog().models_for(_DEFAULTS.quality)[f"{kind}_model"]
            notes.append(
                f"{key} {model!r} is retired or unpriced; the campaign's quality picks "
                f"the current model ({default!r} at quality 'standard')"
            )
    for note in notes if warn else ():
        log.warning("aidm_settings", note)
    return AidmSettings(out, tuple(notes))


def as_media_settings(settings: Any) -> MediaSettings:
    """MediaSettings from ours, a `media_settings` dict, or AIDM's flat settings."""
    if settings is None:
        return _DEFAULTS
    if isinstance(settings, MediaSettings):
        return settings
    if isinstance(settings, AidmSettings):
        return MediaSettings.model_validate(settings.media_settings)
    if isinstance(settings, Mapping) and not any(str(k).startswith("media_") for k in settings):
        return MediaSettings.model_validate(dict(settings))
    mapped = media_settings_from_aidm(settings, warn=False)  # warned when configured
    return MediaSettings.model_validate(mapped.media_settings)


def configure_from_aidm(
    client: MediaClient,
    campaign_id: str,
    flat_settings: Any,
    members: list[str] | None = None,
    **overrides: Any,
) -> AidmSettings:
    """Store AIDM's flat settings as the campaign's media settings; returns the
    mapping (with its warnings). `overrides` are media_settings keys."""
    mapped = media_settings_from_aidm(flat_settings)
    client.configure(campaign_id, members=members, **{**mapped.media_settings, **overrides})
    return replace(mapped, media_settings={**mapped.media_settings, **overrides})
