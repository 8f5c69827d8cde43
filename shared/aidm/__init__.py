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

or all of it at once: `run_production_turn(genai_client, narrative, ctx)`; or,
in AIDM's own ToolRegistry (any provider): `register_tools(registry, ctx)`.

Layout: settings.py (AIDM's flat settings), context.py (TurnContext),
declarations.py (the tools as the model sees them), calls.py (a call -> a
request: the tools' handlers), arguments.py (a call's arguments, read and
checked), refusals.py (the refusals and budget checks), guidance.py (the
budget paragraph), turn.py (a google-genai turn), registry.py (AIDM's
ToolRegistry), proxy.py. The names below
are the public ones (docs/interface.md section 9).
"""

from shared.aidm.calls import handle_function_call
from shared.aidm.context import Published, TurnContext
from shared.aidm.declarations import (
    CUTSCENE_TYPE_MEANINGS,
    GENERATE_LOCATION_VISUAL,
    GENERATE_NPC_PORTRAIT,
    MEDIA_DIRECTION,
    MEDIA_TOOLS,
    TRIGGER_CUTSCENE,
    production_tools,
)
from shared.aidm.guidance import budget_guidance
from shared.aidm.registry import register_tools
from shared.aidm.settings import (
    AIDM_DEFAULT_MODELS,
    AidmSettings,
    as_media_settings,
    configure_from_aidm,
    current_model_id,
    media_settings_from_aidm,
)
from shared.aidm.turn import ProductionTurn, ToolCall, run_production_turn

__all__ = [
    "AIDM_DEFAULT_MODELS",
    "CUTSCENE_TYPE_MEANINGS",
    "GENERATE_LOCATION_VISUAL",
    "GENERATE_NPC_PORTRAIT",
    "MEDIA_DIRECTION",
    "MEDIA_TOOLS",
    "TRIGGER_CUTSCENE",
    "AidmSettings",
    "ProductionTurn",
    "Published",
    "ToolCall",
    "TurnContext",
    "as_media_settings",
    "budget_guidance",
    "configure_from_aidm",
    "current_model_id",
    "handle_function_call",
    "media_settings_from_aidm",
    "production_tools",
    "register_tools",
    "run_production_turn",
]
