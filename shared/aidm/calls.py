"""AIDM's ProductionAgent plugs in here.

AIDM (deusversus/aidm) runs a ProductionAgent after each narrative turn: an LLM
with function calling that may call `trigger_cutscene`, `generate_npc_portrait`
or `generate_location_visual`. This module gives a hosted AIDM backend the same
three tools, backed by the pipeline:

    ctx = TurnContext(campaign_id, session_id, turn_number, art_style=...,
                      npcs={...}, locations={...}, reference_images={...})
    tools = production_tools(aidm_settings)          # function declarations
    system_prompt = MEDIA_DIRECTION + budget_guidance(ctx)
    ... the model answers with function calls ...
    part = handle_function_call(call, ctx)           # publish, answer the model

or all of it at once: `run_production_turn(genai_client, narrative, ctx)`.

`handle_function_call` never raises and returns in milliseconds: it reads the
session's budget (one Firestore round trip), publishes one request (one Pub/Sub
round trip) and answers the model with a short result, or with a refusal the
model can act on (media off, budget spent, an invalid argument).

Budget rules, applied before anything is published (the pipeline enforces the
cap again, atomically; this check saves the model from asking for what the
session cannot pay for and tells it why):
- a cutscene is queued when the budget left covers the still and the clip;
  if it covers a shorter clip, the clip is shortened (8 -> 6 -> 4 s); if it
  covers only the still and the campaign degrades to stills, it is queued as
  a still and the answer says so; otherwise it is refused;
- a portrait or a location visual is queued when the budget covers one still;
- requests this turn already published but not yet reserved by the pipeline
  count against the budget left;
- when the budget cannot be read, the request is published anyway (the
  pipeline's cap still holds) and the answer says the budget was not checked.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from shared import ledger, log
from shared.campaigns import MediaSettings, plan_for
from shared.client import (
    BudgetStatus,
    MediaClient,
    PublishResult,
    cutscene_message,
    still_message,
    usd,
)
from shared.errors import InvalidRequest
from shared.pricing import catalog, micros_to_usd
from shared.request import CUTSCENE_TYPES, MAX_REFERENCE_IMAGES, MediaRequest, parse_request

TRIGGER_CUTSCENE = "trigger_cutscene"
GENERATE_NPC_PORTRAIT = "generate_npc_portrait"
GENERATE_LOCATION_VISUAL = "generate_location_visual"
MEDIA_TOOLS = (TRIGGER_CUTSCENE, GENERATE_NPC_PORTRAIT, GENERATE_LOCATION_VISUAL)

CUTSCENE_TYPE_MEANINGS = {
    "character_intro": "a significant new character's first entrance",
    "location_reveal": "arriving at a breathtaking new place",
    "action_climax": "the sakuga-tier peak of a fight or feat",
    "emotional_peak": "a major emotional or relationship beat",
    "power_awakening": "a first use of a power, a transformation",
    "plot_twist": "a major revelation or betrayal",
    "arc_transition": "the close of one story arc and the start of the next",
}
# Guidance the ProductionAgent's system prompt should carry (AIDM appends it to
# its own production prompt; run_production_turn uses it as is).
MEDIA_DIRECTION = """\
You may also direct media for this turn with three tools. Media is rare and \
costs real money: most turns get none, and saying nothing is the right call \
for ordinary dialogue, travel, shopping, planning or routine checks.
- trigger_cutscene: only for climactic narrative weight (a sakuga moment, a \
power awakening, an emotional peak, a plot twist, a significant new \
character's entrance, the reveal of a striking location, an arc transition). \
At most one per turn, roughly one turn in five at most.
- generate_npc_portrait: when a significant new NPC is introduced with a vivid \
description (exact name as the game knows it).
- generate_location_visual: when the party arrives at a vivid new location.
Write concrete image prompts: who (by name), pose, expression, setting, \
lighting, camera. The art style is added for you.
"""


# --------------------------------------------------------------------- settings

_DEFAULTS = MediaSettings.model_validate({})  # CONTRACT section 2's defaults


@dataclass(frozen=True)
class AidmSettings:
    """AIDM's flat settings as this pipeline's `media_settings` (CONTRACT 2)."""

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
    -> veo-3.1-generate-001). Retired families (imagen-*, veo-2.0-*, veo-3.0-*,
    gemini-2.x image models) have no equivalent: None.
    """
    priced = _priced_models(kind)
    candidates = [model, re.sub(r"-preview(-[0-9-]+)?$", "", model),
                  re.sub(r"-preview(-[0-9-]+)?$", "-001", model)]
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
    - media_image_model / media_video_model: kept when the pricing catalog
      prices them; preview ids of current models become their GA ids; retired
      ids (AIDM's defaults imagen-3.0-generate-002 and veo-3.0-generate-preview
      among them) are dropped with a warning, so the campaign's quality picks
      the catalog's current model. Mapping a retired Veo id to today's full Veo
      would cost $3.20 per 8 s clip, more than AIDM's whole default budget.
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
            notes.append(f"media_budget_per_session_usd {budget!r} is not an amount in "
                         "0-10000 USD; the default cap ($2.00) applies")
    if _flat_get(flat, "media_budget_enabled") is False:
        cap = out.get("budget_per_session_usd", _DEFAULTS.budget_per_session_usd)
        notes.append(f"media_budget_enabled is false, but this pipeline always caps spending "
                     f"per session: ${cap:.2f} (media_budget_per_session_usd) applies; "
                     "raise it to spend more")
    auto_play = _flat_get(flat, "media_auto_play")
    if auto_play is not None:
        out["auto_play"] = bool(auto_play)
    for kind in ("image", "video"):
        key = f"media_{kind}_model"
        model = _flat_get(flat, key)
        if not model:
            continue
        current = current_model_id(str(model), kind)
        if current == model:
            out[f"{kind}_model"] = current
        elif current:
            out[f"{kind}_model"] = current
            notes.append(f"{key} {model!r} is now {current!r}")
        else:
            default = catalog().models_for(_DEFAULTS.quality)[f"{kind}_model"]
            notes.append(f"{key} {model!r} is retired or unpriced; the campaign's quality picks "
                         f"the current model ({default!r} at quality 'standard')")
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


# ---------------------------------------------------------------------- context

@dataclass
class Published:
    kind: str
    request_id: str
    asset_id: str
    estimate_micros: int
    message: dict[str, Any]


@dataclass
class TurnContext:
    """What the handler needs to know about the turn; one per turn (attempt).

    npcs / locations map names to appearance / description text, from which
    portrait and location prompts are built. reference_images maps character
    names (NPCs and player characters) to model sheets under
    gs://MEDIA_BUCKET/refs/{campaign_id}/ (see MediaClient.upload_reference).
    `settings` is what AIDM believes (its flat settings, mapped); the campaign
    document wins whenever it can be read. Pass a stable `idempotency_key`
    (e.g. AIDM's turn id) to make a retried turn publish the same request ids,
    so the pipeline makes and charges each at most once.
    """

    campaign_id: str
    session_id: str
    turn_number: int
    art_style: str | None = None
    ip_title: str | None = None
    palette: str | None = None
    style_notes: str | None = None
    npcs: Mapping[str, str] = field(default_factory=dict)
    locations: Mapping[str, str] = field(default_factory=dict)
    reference_images: Mapping[str, Sequence[str]] = field(default_factory=dict)
    settings: Any = None
    client: MediaClient | None = None
    last_cutscene_turn: int | None = None
    max_cutscenes_per_turn: int = 1
    max_stills_per_turn: int = 2
    idempotency_key: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    published: list[Published] = field(default_factory=list)

    def media_client(self) -> MediaClient:
        if self.client is None:
            self.client = MediaClient()
        return self.client

    def style(self) -> dict[str, str] | None:
        style = {"art_style": self.art_style, "ip_title": self.ip_title,
                 "palette": self.palette, "notes": self.style_notes}
        clean = {k: v.strip()[:1000] for k, v in style.items() if v and v.strip()}
        return clean or None

    def request_id(self, kind: str, key: str) -> str:
        parts = [self.campaign_id, self.session_id, str(self.turn_number),
                 self.idempotency_key, kind, key]
        return "aidm-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


# ------------------------------------------------------------------------ tools

def _a(seconds: int) -> str:
    return "an" if str(seconds).startswith(("8", "11", "18")) else "a"


def _estimates(media: MediaSettings) -> tuple[int, int, int]:
    """(still micros, clip micros, clip seconds) for these settings."""
    probe = MediaRequest.model_validate({
        "schema": "media.request.v1", "request_id": "estimate-0", "campaign_id": "c",
        "session_id": "s", "turn_number": 0, "kind": "cutscene",
        "cutscene_type": "action_climax", "image_prompt": "x", "motion_prompt": "x"})
    plan = plan_for(probe, media)
    return plan.image_micros, plan.video_micros, plan.duration_seconds


def production_tools(settings: Any) -> list[Any]:
    """The three media tools as google-genai declarations; [] when media is off
    (as AIDM registers them only when `media_enabled`)."""
    from google.genai import types

    media = as_media_settings(settings)
    if not media.enabled:
        return []
    try:
        still, clip, seconds = _estimates(media)
        cutscene_cost = (f" (about {usd(still + clip)} for a still and {_a(seconds)} {seconds} s "
                         "clip)")
        still_cost = f" (about {usd(still)})"
    except Exception:  # noqa: BLE001 - an unpriced model: describe without figures
        cutscene_cost = still_cost = ""
    s = types.Schema
    string, array, obj = types.Type.STRING, types.Type.ARRAY, types.Type.OBJECT
    types_doc = "; ".join(f"{k}: {v}" for k, v in CUTSCENE_TYPE_MEANINGS.items())
    cutscene_params = {
        "cutscene_type": s(type=string, enum=list(CUTSCENE_TYPES),
                           description=f"Which kind of moment this is. {types_doc}."),
        "image_prompt": s(type=string, description=(
            "The still frame, in detail: who is in it (by name), poses, expressions, setting, "
            "lighting, camera angle, mood. The more specific the better; the campaign's art "
            "style is added for you. At most 4000 characters.")),
        "motion_prompt": s(type=string, description=(
            "How the still comes alive in a few seconds: camera move (push in, orbit, pan), "
            "character motion, effects (wind, sparks, energy). Simple and focused. At most "
            "2000 characters.")),
        "characters": s(type=array, items=s(type=string), description=(
            "Optional: names of the characters in the shot, exactly as in the story; their "
            "model sheets keep them on-model.")),
        "mood": s(type=string, description=(
            "Optional: the emotional tone in a few words, e.g. 'defiant', 'grief-stricken', "
            "'ominous calm'.")),
    }
    cutscene = types.FunctionDeclaration(
        name=TRIGGER_CUTSCENE,
        description=(
            "Render an animated cutscene of this turn's most cinematic moment: a still image, "
            "then a few seconds of animation, shown to the players when ready (the game never "
            "waits for it). Call it ONLY for climactic narrative weight: a sakuga-level action "
            "climax, a power awakening, an emotional peak, a plot twist, a significant new "
            "character's entrance, the reveal of a striking location, an arc transition. "
            "Never for ordinary dialogue, travel, shopping, planning or routine rolls. At most "
            "one per turn and roughly one turn in five at most. It costs real money"
            f"{cutscene_cost}: follow the media budget note in your instructions."),
        parameters=s(type=obj, properties=cutscene_params,
                     required=["cutscene_type", "image_prompt", "motion_prompt"]))
    portrait = types.FunctionDeclaration(
        name=GENERATE_NPC_PORTRAIT,
        description=(
            f"Render a portrait of an NPC{still_cost}. Call it when a significant new NPC is "
            "introduced with a vivid description, or when a known NPC becomes important and "
            "has no portrait yet. Not for unnamed extras or passing characters. It appears "
            "for the players when ready."),
        parameters=s(type=obj, required=["npc_name"], properties={
            "npc_name": s(type=string,
                          description="Exact name of the NPC as the game knows it."),
        }))
    location = types.FunctionDeclaration(
        name=GENERATE_LOCATION_VISUAL,
        description=(
            f"Render an establishing image of a location{still_cost}. Call it when the party "
            "arrives at a vivid new location, or a known place is dramatically changed. Not "
            "for every room, road or corridor."),
        parameters=s(type=obj, required=["location_name"], properties={
            "location_name": s(type=string,
                               description="Exact name of the location as the game knows it."),
        }))
    return [types.Tool(function_declarations=[cutscene, portrait, location])]


# ------------------------------------------------------------ handling a call

class _Refusal(Exception):
    def __init__(self, reason: str, message: str, status: str = "refused") -> None:
        super().__init__(message)
        self.reason, self.message, self.status = reason, message, status


def _answer_refusal(refusal: _Refusal) -> dict[str, Any]:
    return {"status": refusal.status, "reason": refusal.reason, "error": refusal.message}


def _name_and_args(call: Any) -> tuple[str, dict[str, Any]]:
    function_call = getattr(call, "function_call", None)  # a Part
    if function_call is not None:
        call = function_call
    if isinstance(call, Mapping):
        name, args = call.get("name"), call.get("args")
    else:
        name, args = getattr(call, "name", None), getattr(call, "args", None)
    if args is None:
        args = {}
    if not isinstance(name, str) or not isinstance(args, Mapping):
        raise _Refusal("invalid_call", "The function call has no name or its arguments are "
                       "not an object.")
    return name, dict(args)


def _text(args: Mapping[str, Any], key: str, limit: int, tool: str,
          required: bool = True) -> str | None:
    value = args.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _Refusal("invalid_args", f"{tool} needs {key} (non-empty text). Call it again "
                           f"with {key}, or skip it.")
        return None
    if not isinstance(value, str):
        raise _Refusal("invalid_args", f"{key} must be text, not {type(value).__name__}.")
    value = value.strip()
    if len(value) > limit:
        raise _Refusal("invalid_args", f"{key} is {len(value)} characters; keep it under "
                       f"{limit} and call {tool} again.")
    return value


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def _lookup(mapping: Mapping[str, Any], name: str) -> tuple[str, Any] | None:
    wanted = _norm(name)
    for key, value in mapping.items():
        if _norm(key) == wanted:
            return key, value
    return None


def _names_list(names: Sequence[str], limit: int = 12) -> str:
    shown = sorted(names)[:limit]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(shown) + more


def _references(ctx: TurnContext, names: Sequence[str], bucket: str) -> list[str]:
    """Model sheets of these characters, valid for this campaign, at most six."""
    prefix = f"gs://{bucket}/refs/{ctx.campaign_id}/"
    out: list[str] = []
    for name in names:
        found = _lookup(ctx.reference_images, name)
        for uri in (found[1] if found else ()) or ():
            rest = uri[len(prefix):] if isinstance(uri, str) and uri.startswith(prefix) else ""
            if not rest or ".." in rest.split("/"):
                log.warning("aidm_reference_dropped", "reference image not under the "
                            "campaign's refs/ prefix", campaign_id=ctx.campaign_id)
                continue
            if uri not in out:
                out.append(uri)
    return out[:MAX_REFERENCE_IMAGES]


def _cast_in(ctx: TurnContext, text: str) -> list[str]:
    """Characters with descriptions or sheets whose names the prompt mentions."""
    known = list(ctx.npcs) + [n for n in ctx.reference_images if _lookup(ctx.npcs, n) is None]
    low = text.casefold()
    return [n for n in known
            if re.search(r"(?<!\w)" + re.escape(n.casefold()) + r"(?!\w)", low)]


def _characters_arg(args: Mapping[str, Any]) -> list[str] | None:
    value = args.get("characters")
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)):
        raise _Refusal("invalid_args", "characters must be a list of names.")
    names = [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return names[:12]


def _status(ctx: TurnContext) -> BudgetStatus:
    return ctx.media_client().remaining_budget(ctx.campaign_id, ctx.session_id)


def _media_for(ctx: TurnContext, status: BudgetStatus) -> MediaSettings:
    if status.ok and status.media is not None:
        return status.media
    if ctx.settings is not None:
        return as_media_settings(ctx.settings)
    return MediaSettings.model_validate({"enabled": True})  # estimates only


def _check_enabled(ctx: TurnContext, status: BudgetStatus) -> None:
    off = (not status.enabled) if status.ok else (
        ctx.settings is not None and not as_media_settings(ctx.settings).enabled)
    if off:
        raise _Refusal("disabled", "Media generation is off for this campaign: nothing was "
                       "made. Do not call media tools; carry on with the story.")


def _available(ctx: TurnContext, status: BudgetStatus) -> int | None:
    """Micros the session can still commit, net of this turn's unreserved requests;
    None when the budget could not be read."""
    if not status.ok:
        return None
    pending = sum(p.estimate_micros for p in ctx.published
                  if ledger.hold_key(p.asset_id, "image") not in status.recorded)
    return max(0, status.remaining_micros - pending)


def _parse(message: dict[str, Any], bucket: str) -> MediaRequest:
    try:
        return parse_request(message, bucket)
    except InvalidRequest as exc:
        raise _Refusal("invalid_args", f"The request is not valid: {exc}. Fix it and call "
                       "again, or skip it.") from None


def _plan_micros(request: MediaRequest, media: MediaSettings) -> tuple[int, int, int]:
    try:
        plan = plan_for(request, media)
    except Exception as exc:  # noqa: BLE001 - PermanentError: an unpriced model
        raise _Refusal("misconfigured", f"Media settings name a model without a price ({exc}); "
                       "nothing was made. Carry on with the story.", "failed") from None
    return plan.image_micros, plan.video_micros, plan.duration_seconds


def _publish(ctx: TurnContext, kind: str, message: dict[str, Any],
             estimate: int) -> PublishResult:
    result = ctx.media_client().publish(message)
    if not result.accepted:
        log.warning("aidm_publish_failed", f"media request not published: {result.reason}",
                    campaign_id=ctx.campaign_id, request_id=result.request_id)
        raise _Refusal("publish_failed", "The media request could not be queued right now "
                       f"({(result.reason or '')[:160]}). Carry on with the story; do not retry "
                       "this turn.", "failed")
    ctx.published.append(Published(kind, result.request_id or "", result.asset_id or "",
                                   estimate, message))
    return result


def _queued(result: PublishResult, kind: str, text: str, estimate: int,
            available: int | None) -> dict[str, Any]:
    answer: dict[str, Any] = {"status": "queued", "output": text, "kind": kind,
                              "request_id": result.request_id, "asset_id": result.asset_id,
                              "estimated_cost_usd": micros_to_usd(estimate)}
    if available is not None:
        answer["budget_left_usd"] = micros_to_usd(max(0, available - estimate))
    return answer


def _left_note(available: int | None, estimate: int, status: BudgetStatus) -> str:
    if available is None:
        return (f" Budget not checked ({status.reason}); the pipeline still enforces the "
                "session cap.")
    return f" About {usd(max(0, available - estimate))} of the session budget left after it."


def _trigger_cutscene(args: dict[str, Any], ctx: TurnContext) -> dict[str, Any]:
    raw_type = args.get("cutscene_type")
    cutscene_type = (str(raw_type).strip().lower().replace("-", "_").replace(" ", "_")
                     if raw_type is not None else "")
    if cutscene_type == "none":
        raise _Refusal("invalid_args", "cutscene_type 'none' means no cutscene: simply do not "
                       "call trigger_cutscene this turn.")
    if cutscene_type not in CUTSCENE_TYPES:
        raise _Refusal("invalid_args", f"cutscene_type {str(raw_type)[:60]!r} is not one of: "
                       f"{', '.join(CUTSCENE_TYPES)}. Call trigger_cutscene again with one of "
                       "these, or skip the cutscene.")
    image_prompt = _text(args, "image_prompt", 4000, TRIGGER_CUTSCENE) or ""
    motion_prompt = _text(args, "motion_prompt", 2000, TRIGGER_CUTSCENE) or ""
    mood = _text(args, "mood", 200, TRIGGER_CUTSCENE, required=False)
    names = _characters_arg(args)
    if names is None:
        names = _cast_in(ctx, image_prompt)
    done = sum(1 for p in ctx.published if p.kind == "cutscene")
    if done >= ctx.max_cutscenes_per_turn:
        raise _Refusal("turn_limit", f"{done} cutscene(s) already requested this turn, the "
                       "limit. Do not call trigger_cutscene again this turn.")
    status = _status(ctx)
    _check_enabled(ctx, status)
    media = _media_for(ctx, status)
    client = ctx.media_client()
    cast = [f"{found[0]}: {found[1]}" for n in names
            if (found := _lookup(ctx.npcs, n)) and isinstance(found[1], str) and found[1]]
    extras = ([f"Characters: {'; '.join(cast)}"] if cast else []) + (
        [f"Mood: {mood}"] if mood else [])
    full_prompt = image_prompt + ("\n\n" + "\n".join(extras) if extras else "")
    if len(full_prompt) > 4000:
        full_prompt = image_prompt
    if mood and len(motion_prompt) + len(mood) + 8 <= 2000:
        motion_prompt = f"{motion_prompt.rstrip('.')}. Mood: {mood}."
    message = cutscene_message(
        campaign_id=ctx.campaign_id, session_id=ctx.session_id, turn_number=ctx.turn_number,
        cutscene_type=cutscene_type, image_prompt=full_prompt, motion_prompt=motion_prompt,
        style=ctx.style(), reference_images=_references(ctx, names, client.bucket),
        request_id=ctx.request_id("cutscene", str(done)))
    request = _parse(message, client.bucket)
    still, clip, seconds = _plan_micros(request, media)
    available = _available(ctx, status)
    shape = f"a still, then {_a(seconds)} {seconds} s clip"
    estimate = still + clip
    if available is not None and available < estimate:
        shorter = None
        for d in (6, 4):
            if d < seconds:
                s2, c2, _ = _plan_micros(_parse({**message, "duration_seconds": d},
                                                client.bucket), media)
                if available >= s2 + c2:
                    shorter = (d, s2 + c2)
                    break
        if shorter:
            message["duration_seconds"], estimate = shorter
            shape = (f"a still, then {_a(shorter[0])} {shorter[0]} s clip (the budget left covers "
                     f"{shorter[0]} s, not {seconds} s)")
        elif available >= still and media.degrade_to_still:
            estimate = still
            shape = (f"a still only: the budget left ({usd(available)}) covers a still but "
                     "not a clip, so the cutscene will arrive as a still")
        elif available >= still:
            raise _Refusal("budget", f"Refused: the budget left ({usd(available)}) covers a "
                           f"still but not a clip ({usd(still + clip)}), and this campaign does "
                           "not degrade cutscenes to stills. Do not call trigger_cutscene again "
                           "this session; portraits and location visuals still fit.")
        else:
            raise _Refusal("budget", f"Refused: this session's media budget is spent "
                           f"({usd(available)} left; even a still costs {usd(still)}). Do not "
                           "call media tools again this session.")
    result = _publish(ctx, "cutscene", message, estimate)
    text = (f"Cutscene ({cutscene_type}) queued: {shape}, about {usd(estimate)}."
            f"{_left_note(available, estimate, status)} It appears for the players when "
            "ready; carry on with the turn.")
    return _queued(result, "cutscene", text, estimate, available)


def _still(kind: str, tool: str, arg: str, registry: Mapping[str, str], what: str,
           args: dict[str, Any], ctx: TurnContext) -> dict[str, Any]:
    name = _text(args, arg, 200, tool) or ""
    found = _lookup(registry, name)
    if found is None:
        known = (f"Known {what}s: {_names_list(list(registry))}." if registry
                 else f"No {what}s are known yet.")
        raise _Refusal(f"unknown_{what.lower()}",
                       f"Unknown {what} {name[:100]!r}. {known} Call {tool} again with an exact "
                       "name, or skip it.")
    canonical, description = found
    label = "Portrait" if kind == "npc_portrait" else "Location visual"
    request_id = ctx.request_id(kind, _norm(canonical))
    if any(p.request_id == request_id for p in ctx.published):
        return {"status": "queued", "output": f"{label} of {canonical} is already queued this "
                "turn.", "kind": kind, "request_id": request_id}
    done = sum(1 for p in ctx.published if p.kind != "cutscene")
    if done >= ctx.max_stills_per_turn:
        raise _Refusal("turn_limit", f"{done} portraits or location visuals were already "
                       "requested this turn, the limit. Do not request more this turn.")
    status = _status(ctx)
    _check_enabled(ctx, status)
    media = _media_for(ctx, status)
    client = ctx.media_client()
    description = description if isinstance(description, str) else ""
    if kind == "npc_portrait":
        prompt = (f"{description}\nHead-and-shoulders character portrait, facing the viewer, "
                  "expressive, simple background." if description else
                  "Head-and-shoulders character portrait, facing the viewer, expressive.")
        refs, aspect = _references(ctx, [canonical], client.bucket), "1:1"
    else:
        prompt = (f"{description}\nWide establishing shot, no text." if description else
                  "Wide establishing shot, no text.")
        refs, aspect = [], "16:9"
    message = still_message(
        kind=kind, campaign_id=ctx.campaign_id, session_id=ctx.session_id,
        turn_number=ctx.turn_number, subject=canonical[:200], image_prompt=prompt[:4000],
        style=ctx.style(), reference_images=refs, aspect_ratio=aspect,
        request_id=request_id)
    request = _parse(message, client.bucket)
    still, _, _ = _plan_micros(request, media)
    available = _available(ctx, status)
    if available is not None and available < still:
        raise _Refusal("budget", f"Refused: this session's media budget is spent "
                       f"({usd(available)} left; a still costs {usd(still)}). Do not call "
                       "media tools again this session.")
    result = _publish(ctx, kind, message, still)
    text = (f"{label} of {canonical} queued, about {usd(still)}."
            f"{_left_note(available, still, status)} It appears when ready.")
    return _queued(result, kind, text, still, available)


_HANDLERS: dict[str, Callable[[dict[str, Any], TurnContext], dict[str, Any]]] = {
    TRIGGER_CUTSCENE: _trigger_cutscene,
    GENERATE_NPC_PORTRAIT: lambda a, c: _still(
        "npc_portrait", GENERATE_NPC_PORTRAIT, "npc_name", c.npcs, "NPC", a, c),
    GENERATE_LOCATION_VISUAL: lambda a, c: _still(
        "location_visual", GENERATE_LOCATION_VISUAL, "location_name", c.locations,
        "location", a, c),
}


def handle_function_call(call: Any, context: TurnContext) -> dict[str, Any]:
    """Turn one of the model's function calls into a published request.

    `call` is a google.genai FunctionCall (or a Part holding one, or a dict with
    name and args). Returns the `response` for the model's FunctionResponse:
    {"status": "queued", "output": ..., "request_id", "asset_id", ...} or
    {"status": "refused" | "failed", "reason": ..., "error": ...}. Never raises.
    """
    try:
        name, args = _name_and_args(call)
        handler = _HANDLERS.get(name)
        if handler is None:
            raise _Refusal("unknown_tool", f"Unknown tool {name[:60]!r}; the media tools are "
                           f"{', '.join(MEDIA_TOOLS)}.")
        return handler(args, context)
    except _Refusal as refusal:
        return _answer_refusal(refusal)
    except Exception as exc:  # noqa: BLE001 - the turn loop must never see this
        log.error("aidm_call_failed", f"media tool call failed: {type(exc).__name__}: {exc}",
                  exc_info=True, campaign_id=getattr(context, "campaign_id", None))
        return {"status": "failed", "reason": "internal",
                "error": "The media request failed inside the media client; nothing was made. "
                         "Carry on with the story."}


# --------------------------------------------------------------- budget guidance

def budget_guidance(context: TurnContext, status: BudgetStatus | None = None) -> str:
    """A paragraph for the ProductionAgent's system prompt: what the session can
    still afford and what that means for the media tools. Never raises."""
    try:
        status = status or _status(context)
        if status.ok and not status.enabled:
            return ("Media generation is off for this campaign: do not call trigger_cutscene, "
                    "generate_npc_portrait or generate_location_visual.")
        media = _media_for(context, status)
        still, clip, seconds = _estimates(media)
        full = still + clip
        costs = (f"A cutscene (a still and {_a(seconds)} {seconds} s clip) costs about "
                 f"{usd(full)}; a portrait or location visual about {usd(still)}.")
        pace = ("Cutscenes are for climactic beats only: at most one per turn, roughly one "
                "turn in five.")
        if context.last_cutscene_turn is not None:
            ago = context.turn_number - context.last_cutscene_turn
            pace += f" The last cutscene was {ago} turn{'s' if ago != 1 else ''} ago."
        if not status.ok:
            return (f"Media budget: unknown right now (the pipeline still enforces the session "
                    f"cap). {costs} Be sparing. {pace}")
        left = _available(context, status) or 0
        head = (f"Media budget this session: {usd(left)} left of "
                f"{usd(status.balance.cap_micros if status.balance else 0)}. {costs}")
        if left < still:
            return (f"{head} The budget is spent: do not call any media tool for the rest of "
                    "this session.")
        if left < full:
            clip_note = ("a cutscene would arrive as a still, without a clip"
                         if media.degrade_to_still else "trigger_cutscene will be refused")
            return (f"{head} That no longer covers a clip: {clip_note}. Prefer portraits and "
                    f"location visuals, or nothing. {pace}")
        return (f"{head} That covers about {left // full} more cutscene"
                f"{'s' if left // full != 1 else ''}. {pace}")
    except Exception as exc:  # noqa: BLE001
        log.warning("aidm_guidance_failed", f"budget guidance unavailable: {exc}")
        return "Media budget: unknown right now. Be sparing with media tools."


# ---------------------------------------------------------- one production turn

@dataclass(frozen=True)
class ToolCall:
    name: str
    args: dict[str, Any]
    result: dict[str, Any]


@dataclass
class ProductionTurn:
    calls: list[ToolCall] = field(default_factory=list)
    published: list[Published] = field(default_factory=list)
    text: str = ""
    error: str | None = None


def _turn_message(narrative: str, ctx: TurnContext) -> str:
    lines = [f"## Narrative just generated (turn {ctx.turn_number})", "", narrative.strip(), ""]
    if ctx.npcs:
        lines.append(f"Known NPCs: {_names_list(list(ctx.npcs), 40)}")
    if ctx.locations:
        lines.append(f"Known locations: {_names_list(list(ctx.locations), 40)}")
    lines.append("Decide whether this turn deserves media; most turns do not.")
    return "\n".join(lines)


def _response_parts(response: Any) -> tuple[Any, list[Any], str]:
    """(the model's content, its function calls, its text) without SDK warnings."""
    candidates = getattr(response, "candidates", None) or []
    content = candidates[0].content if candidates else None
    parts = (content.parts if content is not None else None) or []
    calls = [p.function_call for p in parts if getattr(p, "function_call", None)]
    text = "".join(p.text for p in parts
                   if getattr(p, "text", None) and not getattr(p, "thought", False))
    return content, calls, text


def run_production_turn(model: Any, narrative: str, context: TurnContext, *,
                        model_name: str = "gemini-2.5-flash",
                        system_prompt: str | None = None,
                        extra_tools: Sequence[Any] = (),
                        extra_handlers: Mapping[str, Callable[[dict[str, Any]], Any]] | None = None,
                        max_rounds: int = 3) -> ProductionTurn:
    """Ask the model about one narrative turn and carry out its media calls.

    `model` is a google.genai Client (its `.models` is used) or anything with
    `generate_content(model=, contents=, config=)`. `model_name` is AIDM's agent
    model, not a media model. Function responses go back to the model for up to
    `max_rounds` rounds, so it can correct a refused call. AIDM's own tools
    (quests, locations) can ride along through `extra_tools` and
    `extra_handlers`. Never raises: a failing model call ends the turn with
    `error` set. It blocks for the model's answer: from an asyncio turn loop,
    run it as a background task through `asyncio.to_thread`.
    """
    from google.genai import types

    turn = ProductionTurn()
    start = len(context.published)
    handlers = {k: v for k, v in (extra_handlers or {}).items() if k not in MEDIA_TOOLS}
    try:
        models = getattr(model, "models", None)
        generate = models.generate_content if models is not None else model.generate_content
        status = _status(context)
        settings = status.media if status.ok and status.media else context.settings
        tools = production_tools(settings) + list(extra_tools)
        instruction = "\n\n".join(x for x in (system_prompt, MEDIA_DIRECTION,
                                             budget_guidance(context, status)) if x)
        config = types.GenerateContentConfig(
            system_instruction=instruction, tools=tools or None,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
        contents: list[Any] = [types.Content(role="user", parts=[
            types.Part.from_text(text=_turn_message(narrative, context))])]
        for _ in range(max_rounds):
            response = generate(model=model_name, contents=contents, config=config)
            content, calls, text = _response_parts(response)
            turn.text = text or turn.text
            if not calls:
                break
            contents.append(content)
            replies = []
            for call in calls:
                args = dict(call.args or {})
                if call.name not in handlers:
                    result = handle_function_call(call, context)
                else:
                    try:
                        out = handlers[call.name](args)
                        result = out if isinstance(out, dict) else {"output": out}
                    except Exception as exc:  # noqa: BLE001 - AIDM's tool, AIDM's error
                        result = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
                turn.calls.append(ToolCall(call.name, args, result))
                replies.append(types.Part(function_response=types.FunctionResponse(
                    id=call.id, name=call.name, response=result)))
            contents.append(types.Content(role="user", parts=replies))
    except Exception as exc:  # noqa: BLE001 - the turn loop must never see this
        turn.error = f"{type(exc).__name__}: {exc}"
        log.warning("aidm_production_turn_failed", f"production turn failed: {turn.error}",
                    campaign_id=context.campaign_id)
    turn.published = context.published[start:]
    return turn


def configure_from_aidm(client: MediaClient, campaign_id: str, flat_settings: Any,
                        members: list[str] | None = None, **overrides: Any) -> AidmSettings:
    """Store AIDM's flat settings as the campaign's media settings; returns the
    mapping (with its warnings). `overrides` are media_settings keys."""
    mapped = media_settings_from_aidm(flat_settings)
    client.configure(campaign_id, members=members, **{**mapped.media_settings, **overrides})
    return replace(mapped, media_settings={**mapped.media_settings, **overrides})
