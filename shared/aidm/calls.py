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

from collections.abc import Callable, Mapping
from typing import Any

from shared.aidm.arguments import (
    cast_in,
    characters_arg,
    lookup,
    name_and_args,
    names_list,
    norm,
    references,
    shot_names,
    text_arg,
)
from shared.aidm.context import Published, TurnContext
from shared.aidm.declarations import (
    GENERATE_LOCATION_VISUAL,
    GENERATE_MODEL_SHEET,
    GENERATE_NPC_PORTRAIT,
    MEDIA_TOOLS,
    TRIGGER_CUTSCENE,
    _a,
)
from shared.aidm.refusals import (
    Refusal,
    answer_refusal,
    budget_left,
    budget_status,
    check_enabled,
    check_turn_limit,
    left_note,
    media_for,
    parse,
    plan_micros,
    refuse_if_spent,
)
from shared.client import PublishResult, cutscene_message, still_message, usd
from shared.core import log
from shared.domain.pricing import micros_to_usd
from shared.domain.request import CUTSCENE_TYPES


def _publish(ctx: TurnContext, kind: str, message: dict[str, Any], estimate: int) -> PublishResult:
    result = ctx.media_client().publish(message)
    if not result.accepted:
        log.warning(
            "aidm_publish_failed",
            f"media request not published: {result.reason}",
            campaign_id=ctx.campaign_id,
            request_id=result.request_id,
        )
        raise Refusal(
            "publish_failed",
            "The media request could not be queued right now "
            f"({(result.reason or '')[:160]}). Carry on with the story; do not retry "
            "this turn.",
            "failed",
        )
    ctx.published.append(
        Published(kind, result.request_id or "", result.asset_id or "", estimate, message)
    )
    return result


def _queued(
    result: PublishResult, kind: str, text: str, estimate: int, available: int | None
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "status": "queued",
        "output": text,
        "kind": kind,
        "request_id": result.request_id,
        "asset_id": result.asset_id,
        "estimated_cost_usd": micros_to_usd(estimate),
    }
    if available is not None:
        answer["budget_left_usd"] = micros_to_usd(max(0, available - estimate))
    return answer


def _trigger_cutscene(args: dict[str, Any], ctx: TurnContext) -> dict[str, Any]:
    raw_type = args.get("cutscene_type")
    cutscene_type = (
        str(raw_type).strip().lower().replace("-", "_").replace(" ", "_")
        if raw_type is not None
        else ""
    )
    if cutscene_type == "none":
        raise Refusal(
            "invalid_args",
            "cutscene_type 'none' means no cutscene: simply do not "
            "call trigger_cutscene this turn.",
        )
    if cutscene_type not in CUTSCENE_TYPES:
        raise Refusal(
            "invalid_args",
            f"cutscene_type {str(raw_type)[:60]!r} is not one of: "
            f"{', '.join(CUTSCENE_TYPES)}. Call trigger_cutscene again with one of "
            "these, or skip the cutscene.",
        )
    image_prompt = text_arg(args, "image_prompt", 4000, TRIGGER_CUTSCENE) or ""
    motion_prompt = text_arg(args, "motion_prompt", 2000, TRIGGER_CUTSCENE) or ""
    mood = text_arg(args, "mood", 200, TRIGGER_CUTSCENE, required=False)
    names = characters_arg(args)
    if names is None:
        names = cast_in(ctx, image_prompt)
    done = check_turn_limit(
        ctx,
        ("cutscene",),
        ctx.max_cutscenes_per_turn,
        "{done} cutscene(s) already requested this turn, the limit. "
        "Do not call trigger_cutscene again this turn.",
    )
    status = budget_status(ctx)
    check_enabled(ctx, status)
    media = media_for(ctx, status)
    client = ctx.media_client()
    cast = [
        f"{found[0]}: {found[1]}"
        for n in names
        if (found := lookup(ctx.npcs, n)) and isinstance(found[1], str) and found[1]
    ]
    extras = ([f"Characters: {'; '.join(cast)}"] if cast else []) + (
        [f"Mood: {mood}"] if mood else []
    )
    full_prompt = image_prompt + ("\n\n" + "\n".join(extras) if extras else "")
    if len(full_prompt) > 4000:
        full_prompt = image_prompt
    if mood and len(motion_prompt) + len(mood) + 8 <= 2000:
        motion_prompt = f"{motion_prompt.rstrip('.')}. Mood: {mood}."
    message = cutscene_message(
        campaign_id=ctx.campaign_id,
        session_id=ctx.session_id,
        turn_number=ctx.turn_number,
        cutscene_type=cutscene_type,
        image_prompt=full_prompt,
        motion_prompt=motion_prompt,
        style=ctx.style(),
        reference_images=references(ctx, names, client.bucket),
        request_id=ctx.request_id("cutscene", str(done)),
        characters=shot_names(names),
    )
    request = parse(message, client.bucket)
    still, clip, seconds = plan_micros(request, media)
    available = budget_left(ctx, status)
    shape = f"a still, then {_a(seconds)} {seconds} s clip"
    estimate = still + clip
    if available is not None and available < estimate:
        shorter = None
        for d in (6, 4):
            if d < seconds:
                s2, c2, _ = plan_micros(
                    parse({**message, "duration_seconds": d}, client.bucket), media
                )
                if available >= s2 + c2:
                    shorter = (d, s2 + c2)
                    break
        if shorter:
            message["duration_seconds"], estimate = shorter
            shape = (
                f"a still, then {_a(shorter[0])} {shorter[0]} s clip (the budget left covers "
                f"{shorter[0]} s, not {seconds} s)"
            )
        else:
            refuse_if_spent(available, still, even=True)
            if not media.degrade_to_still:
                raise Refusal(
                    "budget",
                    f"Refused: the budget left ({usd(available)}) covers a "
                    f"still but not a clip ({usd(still + clip)}), and this campaign "
                    "does not degrade cutscenes to stills. Do not call "
                    "trigger_cutscene again this session; portraits and location "
                    "visuals still fit.",
                )
            estimate = still
            shape = (
                f"a still only: the budget left ({usd(available)}) covers a still but "
                "not a clip, so the cutscene will arrive as a still"
            )
    result = _publish(ctx, "cutscene", message, estimate)
    text = (
        f"Cutscene ({cutscene_type}) queued: {shape}, about {usd(estimate)}."
        f"{left_note(available, estimate, status)} It appears for the players when "
        "ready; carry on with the turn."
    )
    return _queued(result, "cutscene", text, estimate, available)


_LABELS = {
    "npc_portrait": "Portrait",
    "location_visual": "Location visual",
    "model_sheet": "Model sheet",
}


def _still_prompt(kind: str, description: str) -> tuple[str, str]:
    """(prompt, aspect ratio) of a still of this kind."""
    shot = {
        "npc_portrait": (
            "Head-and-shoulders character portrait, facing the viewer, "
            "expressive, simple background.",
            "1:1",
        ),
        "model_sheet": (
            "Character model sheet: full-body turnaround (front, three-quarter, "
            "side, back) of this one character, neutral pose, consistent outfit "
            "and colours, plain light background, no text.",
            "16:9",
        ),
        "location_visual": ("Wide establishing shot, no text.", "16:9"),
    }[kind]
    return (f"{description}\n{shot[0]}" if description else shot[0]), shot[1]


def _still(
    kind: str,
    tool: str,
    arg: str,
    registry: Mapping[str, str],
    what: str,
    args: dict[str, Any],
    ctx: TurnContext,
) -> dict[str, Any]:
    name = text_arg(args, arg, 200, tool) or ""
    found = lookup(registry, name)
    if found is None:
        known = (
            f"Known {what}s: {names_list(list(registry))}."
            if registry
            else f"No {what}s are known yet."
        )
        raise Refusal(
            f"unknown_{what.lower()}",
            f"Unknown {what} {name[:100]!r}. {known} Call {tool} again with an exact "
            "name, or skip it.",
        )
    canonical, description = found
    label = _LABELS[kind]
    request_id = ctx.request_id(kind, norm(canonical))
    if any(p.request_id == request_id for p in ctx.published):
        return {
            "status": "queued",
            "output": f"{label} of {canonical} is already queued this turn.",
            "kind": kind,
            "request_id": request_id,
        }
    if kind == "model_sheet":
        check_turn_limit(
            ctx,
            (kind,),
            ctx.max_model_sheets_per_turn,
            "{done} model sheets were already requested this turn, the limit. "
            "Do not request more this turn.",
        )
    else:
        check_turn_limit(
            ctx,
            ("npc_portrait", "location_visual"),
            ctx.max_stills_per_turn,
            "{done} portraits or location visuals were already requested this turn, "
            "the limit. Do not request more this turn.",
        )
    status = budget_status(ctx)
    check_enabled(ctx, status)
    media = media_for(ctx, status)
    client = ctx.media_client()
    description = description if isinstance(description, str) else ""
    prompt, aspect = _still_prompt(kind, description)
    # A portrait keeps to the character's sheet; a new sheet starts from the
    # references AIDM holds (uploaded art), never from an older sheet of its own.
    refs = references(ctx, [canonical], client.bucket) if kind != "location_visual" else []
    message = still_message(
        kind=kind,
        campaign_id=ctx.campaign_id,
        session_id=ctx.session_id,
        turn_number=ctx.turn_number,
        subject=canonical[:200],
        image_prompt=prompt[:4000],
        style=ctx.style(),
        reference_images=refs,
        aspect_ratio=aspect,
        request_id=request_id,
        characters=[canonical[:200]] if kind == "npc_portrait" else None,
    )
    request = parse(message, client.bucket)
    still, _, _ = plan_micros(request, media)
    available = budget_left(ctx, status)
    refuse_if_spent(available, still)
    result = _publish(ctx, kind, message, still)
    text = (
        f"{label} of {canonical} queued, about {usd(still)}."
        f"{left_note(available, still, status)} It appears when ready."
    )
    return _queued(result, kind, text, still, available)


_HANDLERS: dict[str, Callable[[dict[str, Any], TurnContext], dict[str, Any]]] = {
    TRIGGER_CUTSCENE: _trigger_cutscene,
    GENERATE_NPC_PORTRAIT: lambda a, c: _still(
        "npc_portrait", GENERATE_NPC_PORTRAIT, "npc_name", c.npcs, "NPC", a, c
    ),
    GENERATE_LOCATION_VISUAL: lambda a, c: _still(
        "location_visual", GENERATE_LOCATION_VISUAL, "location_name", c.locations, "location", a, c
    ),
    GENERATE_MODEL_SHEET: lambda a, c: _still(
        "model_sheet",
        GENERATE_MODEL_SHEET,
        "character_name",
        {**c.party, **c.npcs},
        "character",
        a,
        c,
    ),
}


def handle_function_call(call: Any, context: TurnContext) -> dict[str, Any]:
    """Turn one of the model's function calls into a published request.

    `call` is a google.genai FunctionCall (or a Part holding one, or a dict with
    name and args). Returns the `response` for the model's FunctionResponse:
    {"status": "queued", "output": ..., "request_id", "asset_id", ...} or
    {"status": "refused" | "failed", "reason": ..., "error": ...}. Never raises.
    """
    try:
        name, args = name_and_args(call)
        handler = _HANDLERS.get(name)
        if handler is None:
            raise Refusal(
                "unknown_tool",
                f"Unknown tool {name[:60]!r}; the media tools are {', '.join(MEDIA_TOOLS)}.",
            )
        return handler(args, context)
    except Refusal as refusal:
        return answer_refusal(refusal)
    except Exception as exc:  # noqa: BLE001 - the turn loop must never see this
        log.error(
            "aidm_call_failed",
            f"media tool call failed: {type(exc).__name__}: {exc}",
            exc_info=True,
            campaign_id=getattr(context, "campaign_id", None),
        )
        return {
            "status": "failed",
            "reason": "internal",
            "error": "The media request failed inside the media client; nothing was made. "
            "Carry on with the story.",
        }
