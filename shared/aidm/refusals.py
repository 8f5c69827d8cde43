"""A model's function call -> a published request, or a refusal it can act on.

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

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from shared.aidm.context import Published, TurnContext
from shared.aidm.declarations import (
    GENERATE_LOCATION_VISUAL,
    GENERATE_MODEL_SHEET,
    GENERATE_NPC_PORTRAIT,
    MEDIA_TOOLS,
    TRIGGER_CUTSCENE,
    _a,
)
from shared.aidm.settings import as_media_settings
from shared.client import BudgetStatus, PublishResult, cutscene_message, still_message, usd
from shared.core import log
from shared.core.errors import InvalidRequest
from shared.domain.campaign import MediaSettings, plan_for
from shared.domain.pricing import micros_to_usd
from shared.domain.references import reference_name
from shared.domain.request import CUTSCENE_TYPES, MAX_REFERENCE_IMAGES, MediaRequest, parse_request
from shared.store import ledger


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
    out: list[str] = []
    for name in names:
        found = _lookup(ctx.reference_images, name)
        for uri in (found[1] if found else ()) or ():
            if reference_name(uri, bucket, ctx.campaign_id) is None:
                log.warning("aidm_reference_dropped", "reference image not under the "
                            "campaign's refs/ prefix", campaign_id=ctx.campaign_id)
                continue
            if uri not in out:
                out.append(uri)
    return out[:MAX_REFERENCE_IMAGES]


def _cast_in(ctx: TurnContext, text: str) -> list[str]:
    """Characters with descriptions or sheets whose names the prompt mentions."""
    known = list(ctx.npcs) + [n for n in [*ctx.party, *ctx.reference_images]
                              if _lookup(ctx.npcs, n) is None]
    known = list(dict.fromkeys(known))
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
        request_id=ctx.request_id("cutscene", str(done)), characters=_shot_names(names))
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


def _shot_names(names: Sequence[str]) -> list[str]:
    """`characters` for the request: the campaign's registered sheets of these
    ride along (the pipeline adds them, within six references in all)."""
    return list(dict.fromkeys(n[:200] for n in names))[:MAX_REFERENCE_IMAGES]


_LABELS = {"npc_portrait": "Portrait", "location_visual": "Location visual",
           "model_sheet": "Model sheet"}


def _still_prompt(kind: str, description: str) -> tuple[str, str]:
    """(prompt, aspect ratio) of a still of this kind."""
    shot = {
        "npc_portrait": ("Head-and-shoulders character portrait, facing the viewer, "
                         "expressive, simple background.", "1:1"),
        "model_sheet": ("Character model sheet: full-body turnaround (front, three-quarter, "
                        "side, back) of this one character, neutral pose, consistent outfit "
                        "and colours, plain light background, no text.", "16:9"),
        "location_visual": ("Wide establishing shot, no text.", "16:9"),
    }[kind]
    return (f"{description}\n{shot[0]}" if description else shot[0]), shot[1]


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
    label = _LABELS[kind]
    request_id = ctx.request_id(kind, _norm(canonical))
    if any(p.request_id == request_id for p in ctx.published):
        return {"status": "queued", "output": f"{label} of {canonical} is already queued this "
                "turn.", "kind": kind, "request_id": request_id}
    if kind == "model_sheet":
        done = sum(1 for p in ctx.published if p.kind == kind)
        if done >= ctx.max_model_sheets_per_turn:
            raise _Refusal("turn_limit", f"{done} model sheets were already requested this "
                           "turn, the limit. Do not request more this turn.")
    else:
        done = sum(1 for p in ctx.published if p.kind in ("npc_portrait", "location_visual"))
        if done >= ctx.max_stills_per_turn:
            raise _Refusal("turn_limit", f"{done} portraits or location visuals were already "
                           "requested this turn, the limit. Do not request more this turn.")
    status = _status(ctx)
    _check_enabled(ctx, status)
    media = _media_for(ctx, status)
    client = ctx.media_client()
    description = description if isinstance(description, str) else ""
    prompt, aspect = _still_prompt(kind, description)
    # A portrait keeps to the character's sheet; a new sheet starts from the
    # references AIDM holds (uploaded art), never from an older sheet of its own.
    refs = _references(ctx, [canonical], client.bucket) if kind != "location_visual" else []
    message = still_message(
        kind=kind, campaign_id=ctx.campaign_id, session_id=ctx.session_id,
        turn_number=ctx.turn_number, subject=canonical[:200], image_prompt=prompt[:4000],
        style=ctx.style(), reference_images=refs, aspect_ratio=aspect,
        request_id=request_id,
        characters=[canonical[:200]] if kind == "npc_portrait" else None)
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
    GENERATE_MODEL_SHEET: lambda a, c: _still(
        "model_sheet", GENERATE_MODEL_SHEET, "character_name", {**c.party, **c.npcs},
        "character", a, c),
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


