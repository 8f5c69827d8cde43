"""The media tools as the model sees them: names, meanings, declarations.

`tool_specs` is the one description of the tools, provider-neutral; AIDM's
ToolRegistry gets it through registry.py and google-genai backends through
`production_tools`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.aidm.settings import as_media_settings
from shared.client import usd
from shared.domain.campaign import MediaSettings, plan_for
from shared.domain.request import CUTSCENE_TYPES, MediaRequest

TRIGGER_CUTSCENE = "trigger_cutscene"
GENERATE_NPC_PORTRAIT = "generate_npc_portrait"
GENERATE_LOCATION_VISUAL = "generate_location_visual"
GENERATE_MODEL_SHEET = "generate_model_sheet"
MEDIA_TOOLS = (
    TRIGGER_CUTSCENE,
    GENERATE_NPC_PORTRAIT,
    GENERATE_LOCATION_VISUAL,
    GENERATE_MODEL_SHEET,
)

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
You may also direct media for this turn with four tools. Media is rare and \
costs real money: most turns get none, and saying nothing is the right call \
for ordinary dialogue, travel, shopping, planning or routine checks.
- trigger_cutscene: only for climactic narrative weight (a sakuga moment, a \
power awakening, an emotional peak, a plot twist, a significant new \
character's entrance, the reveal of a striking location, an arc transition). \
At most one per turn, roughly one turn in five at most.
- generate_npc_portrait: when a significant new NPC is introduced with a vivid \
description (exact name as the game knows it).
- generate_location_visual: when the party arrives at a vivid new location.
- generate_model_sheet: once per character who will recur (the party, a \
significant NPC) and has no sheet yet, so later images keep them on-model.
Write concrete image prompts: who (by name), pose, expression, setting, \
lighting, camera. The art style is added for you.
"""


def _a(seconds: int) -> str:
    return "an" if str(seconds).startswith(("8", "11", "18")) else "a"


def _estimates(media: MediaSettings) -> tuple[int, int, int]:
    """(still micros, clip micros, clip seconds) for these settings."""
    probe = MediaRequest.model_validate(
        {
            "schema": "media.request.v1",
            "request_id": "estimate-0",
            "campaign_id": "c",
            "session_id": "s",
            "turn_number": 0,
            "kind": "cutscene",
            "cutscene_type": "action_climax",
            "image_prompt": "x",
            "motion_prompt": "x",
        }
    )
    plan = plan_for(probe, media)
    return plan.image_micros, plan.video_micros, plan.duration_seconds


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # "string" or "array" (of strings)
    description: str
    required: bool = True
    enum: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    params: tuple[Param, ...]


def _costs(media: MediaSettings) -> tuple[str, str]:
    try:
        still, clip, seconds = _estimates(media)
    except Exception:  # noqa: BLE001 - an unpriced model: describe without figures
        return "", ""
    return (
        f" (about {usd(still + clip)} for a still and {_a(seconds)} {seconds} s clip)",
        f" (about {usd(still)})",
    )


def tool_specs(settings: Any) -> list[ToolSpec]:
    """The four media tools, with what they cost under these settings."""
    cutscene_cost, still_cost = _costs(as_media_settings(settings))
    types_doc = "; ".join(f"{k}: {v}" for k, v in CUTSCENE_TYPE_MEANINGS.items())
    cutscene = ToolSpec(
        TRIGGER_CUTSCENE,
        (
            "Render an animated cutscene of this turn's most cinematic moment: a still image, "
            "then a few seconds of animation, shown to the players when ready (the game never "
            "waits for it). Call it ONLY for climactic narrative weight: a sakuga-level action "
            "climax, a power awakening, an emotional peak, a plot twist, a significant new "
            "character's entrance, the reveal of a striking location, an arc transition. "
            "Never for ordinary dialogue, travel, shopping, planning or routine rolls. At most "
            "one per turn and roughly one turn in five at most. It costs real money"
            f"{cutscene_cost}: follow the media budget note in your instructions."
        ),
        (
            Param(
                "cutscene_type",
                "string",
                f"Which kind of moment this is. {types_doc}.",
                enum=CUTSCENE_TYPES,
            ),
            Param(
                "image_prompt",
                "string",
                (
                    "The still frame, in detail: who is in it (by name), poses, expressions, "
                    "setting, lighting, camera angle, mood. The more specific the better; the "
                    "campaign's art style is added for you. At most 4000 characters."
                ),
            ),
            Param(
                "motion_prompt",
                "string",
                (
                    "How the still comes alive in a few seconds: camera move (push in, orbit, "
                    "pan), character motion, effects (wind, sparks, energy). Simple and focused. "
                    "At most 2000 characters."
                ),
            ),
            Param(
                "characters",
                "array",
                (
                    "Optional: names of the characters in the shot, exactly as in the story; "
                    "their model sheets keep them on-model."
                ),
                required=False,
            ),
            Param(
                "mood",
                "string",
                (
                    "Optional: the emotional tone in a few words, e.g. 'defiant', "
                    "'grief-stricken', 'ominous calm'."
                ),
                required=False,
            ),
        ),
    )
    portrait = ToolSpec(
        GENERATE_NPC_PORTRAIT,
        (
            f"Render a portrait of an NPC{still_cost}. Call it when a significant new NPC is "
            "introduced with a vivid description, or when a known NPC becomes important and "
            "has no portrait yet. Not for unnamed extras or passing characters. It appears "
            "for the players when ready."
        ),
        (Param("npc_name", "string", "Exact name of the NPC as the game knows it."),),
    )
    location = ToolSpec(
        GENERATE_LOCATION_VISUAL,
        (
            f"Render an establishing image of a location{still_cost}. Call it when the party "
            "arrives at a vivid new location, or a known place is dramatically changed. Not "
            "for every room, road or corridor."
        ),
        (Param("location_name", "string", "Exact name of the location as the game knows it."),),
    )
    sheet = ToolSpec(
        GENERATE_MODEL_SHEET,
        (
            f"Render a character model sheet{still_cost}: a turnaround of one character that "
            "later cutscenes and portraits naming them use as a reference, so they stay "
            "on-model. Call it once per recurring character (the party at character creation, "
            "a significant NPC when introduced) who has no sheet yet; never twice for one "
            "character. Players do not see it in the story."
        ),
        (
            Param(
                "character_name",
                "string",
                "Exact name of the character (party member or NPC) as the game knows it.",
            ),
        ),
    )
    return [cutscene, portrait, location, sheet]


def production_tools(settings: Any) -> list[Any]:
    """The media tools as google-genai declarations; [] when media is off
    (as AIDM registers them only when `media_enabled`)."""
    from google.genai import types

    if not as_media_settings(settings).enabled:
        return []
    s = types.Schema

    def schema(p: Param) -> Any:
        if p.type == "array":
            return s(
                type=types.Type.ARRAY, items=s(type=types.Type.STRING), description=p.description
            )
        return s(
            type=types.Type.STRING, description=p.description, enum=list(p.enum) if p.enum else None
        )

    declarations = [
        types.FunctionDeclaration(
            name=spec.name,
            description=spec.description,
            parameters=s(
                type=types.Type.OBJECT,
                properties={p.name: schema(p) for p in spec.params},
                required=[p.name for p in spec.params if p.required],
            ),
        )
        for spec in tool_specs(settings)
    ]
    return [types.Tool(function_declarations=declarations)]
