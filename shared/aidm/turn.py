"""One production turn with a google-genai model: ask, carry out, answer back."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.aidm.arguments import names_list
from shared.aidm.calls import handle_function_call
from shared.aidm.context import Published, TurnContext
from shared.aidm.declarations import MEDIA_DIRECTION, MEDIA_TOOLS, production_tools
from shared.aidm.guidance import budget_guidance
from shared.aidm.refusals import budget_status
from shared.core import log


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
        lines.append(f"Known NPCs: {names_list(list(ctx.npcs), 40)}")
    if ctx.locations:
        lines.append(f"Known locations: {names_list(list(ctx.locations), 40)}")
    lines.append("Decide whether this turn deserves media; most turns do not.")
    return "\n".join(lines)


def _response_parts(response: Any) -> tuple[Any, list[Any], str]:
    """(the model's content, its function calls, its text) without SDK warnings."""
    candidates = getattr(response, "candidates", None) or []
    content = candidates[0].content if candidates else None
    parts = (content.parts if content is not None else None) or []
    calls = [p.function_call for p in parts if getattr(p, "function_call", None)]
    text = "".join(
        p.text for p in parts if getattr(p, "text", None) and not getattr(p, "thought", False)
    )
    return content, calls, text


def run_production_turn(
    model: Any,
    narrative: str,
    context: TurnContext,
    *,
    model_name: str = "gemini-2.5-flash",
    system_prompt: str | None = None,
    extra_tools: Sequence[Any] = (),
    extra_handlers: Mapping[str, Callable[[dict[str, Any]], Any]] | None = None,
    max_rounds: int = 3,
) -> ProductionTurn:
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
        status = budget_status(context)
        settings = status.media if status.ok and status.media else context.settings
        tools = production_tools(settings) + list(extra_tools)
        instruction = "\n\n".join(
            x for x in (system_prompt, MEDIA_DIRECTION, budget_guidance(context, status)) if x
        )
        config = types.GenerateContentConfig(
            system_instruction=instruction,
            tools=tools or None,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        contents: list[Any] = [
            types.Content(
                role="user", parts=[types.Part.from_text(text=_turn_message(narrative, context))]
            )
        ]
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
                replies.append(
                    types.Part(
                        function_response=types.FunctionResponse(
                            id=call.id, name=call.name, response=result
                        )
                    )
                )
            contents.append(types.Content(role="user", parts=replies))
    except Exception as exc:  # noqa: BLE001 - the turn loop must never see this
        turn.error = f"{type(exc).__name__}: {exc}"
        log.warning(
            "aidm_production_turn_failed",
            f"production turn failed: {turn.error}",
            campaign_id=context.campaign_id,
        )
    turn.published = context.published[start:]
    return turn
