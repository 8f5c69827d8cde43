"""The budget paragraph for the ProductionAgent's system prompt."""

from __future__ import annotations

from shared.aidm.context import TurnContext
from shared.aidm.declarations import _a, _estimates
from shared.aidm.refusals import budget_left, budget_status, media_for
from shared.client import BudgetStatus, usd
from shared.core import log

# Above this wait for a Veo start, the agent is told the video queue is long.
LONG_QUEUE_MIN = 2.0


def queue_note() -> str:
    """A sentence when clips wait long for Veo's start budget (paced starts)."""
    try:
        from shared.store.pacing import queue_minutes

        minutes = queue_minutes()
    except Exception as exc:  # noqa: BLE001 - guidance never fails a turn
        log.warning("aidm_queue_unknown", f"video queue length unavailable: {exc}")
        return ""
    if minutes is None or minutes < LONG_QUEUE_MIN:
        return ""
    return (
        f" The video queue is long (about {minutes:.0f} min before a clip starts): "
        "a cutscene may arrive as a still only; prefer one only for a major beat."
    )


def budget_guidance(context: TurnContext, status: BudgetStatus | None = None) -> str:
    """A paragraph for the ProductionAgent's system prompt: what the session can
    still afford and what that means for the media tools. Never raises."""
    try:
        status = status or budget_status(context)
        if status.ok and not status.enabled:
            return (
                "Media generation is off for this campaign: do not call trigger_cutscene, "
                "generate_npc_portrait or generate_location_visual."
            )
        media = media_for(context, status)
        still, clip, seconds = _estimates(media)
        full = still + clip
        costs = (
            f"A cutscene (a still and {_a(seconds)} {seconds} s clip) costs about "
            f"{usd(full)}; a portrait or location visual about {usd(still)}."
        )
        pace = (
            "Cutscenes are for climactic beats only: at most one per turn, roughly one "
            "turn in five."
        )
        if context.last_cutscene_turn is not None:
            ago = context.turn_number - context.last_cutscene_turn
            pace += f" The last cutscene was {ago} turn{'s' if ago != 1 else ''} ago."
        if not status.ok:
            return (
                f"Media budget: unknown right now (the pipeline still enforces the session "
                f"cap). {costs} Be sparing. {pace}"
            )
        left = budget_left(context, status) or 0
        head = (
            f"Media budget this session: {usd(left)} left of "
            f"{usd(status.balance.cap_micros if status.balance else 0)}. {costs}"
        )
        if left < still:
            return (
                f"{head} The budget is spent: do not call any media tool for the rest of "
                "this session."
            )
        if left < full:
            clip_note = (
                "a cutscene would arrive as a still, without a clip"
                if media.degrade_to_still
                else "trigger_cutscene will be refused"
            )
            return (
                f"{head} That no longer covers a clip: {clip_note}. Prefer portraits and "
                f"location visuals, or nothing. {pace}"
            )
        return (
            f"{head} That covers about {left // full} more cutscene"
            f"{'s' if left // full != 1 else ''}. {pace}{queue_note()}"
        )
    except Exception as exc:  # noqa: BLE001
        log.warning("aidm_guidance_failed", f"budget guidance unavailable: {exc}")
        return "Media budget: unknown right now. Be sparing with media tools."
