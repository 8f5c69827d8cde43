"""What the AIDM tools refuse, and why: the model gets a refusal it can act on
(media off, budget spent, an invalid argument) instead of a request the
pipeline would only reject. The budget rules are in calls.py's docstring."""

from __future__ import annotations

from typing import Any

from shared.aidm.context import TurnContext
from shared.aidm.settings import as_media_settings
from shared.client import BudgetStatus, usd
from shared.core.errors import InvalidRequest
from shared.domain.campaign import MediaSettings, plan_for
from shared.domain.request import MediaRequest, parse_request
from shared.store import ledger


class Refusal(Exception):
    """Raised by a check; answered to the model as {"status", "reason", "error"}."""

    def __init__(self, reason: str, message: str, status: str = "refused") -> None:
        super().__init__(message)
        self.reason, self.message, self.status = reason, message, status


def answer_refusal(refusal: Refusal) -> dict[str, Any]:
    return {"status": refusal.status, "reason": refusal.reason, "error": refusal.message}


def check_turn_limit(ctx: TurnContext, kinds: tuple[str, ...], limit: int, message: str) -> int:
    """How many requests of `kinds` were published this turn; refused once
    that is `limit` (`message` is the refusal's text, `{done}` the count)."""
    done = sum(1 for p in ctx.published if p.kind in kinds)
    if done >= limit:
        raise Refusal("turn_limit", message.format(done=done))
    return done


def budget_status(ctx: TurnContext) -> BudgetStatus:
    return ctx.media_client().remaining_budget(ctx.campaign_id, ctx.session_id)


def media_for(ctx: TurnContext, status: BudgetStatus) -> MediaSettings:
    if status.ok and status.media is not None:
        return status.media
    if ctx.settings is not None:
        return as_media_settings(ctx.settings)
    return MediaSettings.model_validate({"enabled": True})  # estimates only


def check_enabled(ctx: TurnContext, status: BudgetStatus) -> None:
    off = (
        (not status.enabled)
        if status.ok
        else (ctx.settings is not None and not as_media_settings(ctx.settings).enabled)
    )
    if off:
        raise Refusal(
            "disabled",
            "Media generation is off for this campaign: nothing was "
            "made. Do not call media tools; carry on with the story.",
        )


def budget_left(ctx: TurnContext, status: BudgetStatus) -> int | None:
    """Micros the session can still commit, net of this turn's unreserved requests;
    None when the budget could not be read."""
    if not status.ok:
        return None
    pending = sum(
        p.estimate_micros
        for p in ctx.published
        if ledger.hold_key(p.asset_id, "image") not in status.recorded
    )
    return max(0, status.remaining_micros - pending)


def parse(message: dict[str, Any], bucket: str) -> MediaRequest:
    try:
        return parse_request(message, bucket)
    except InvalidRequest as exc:
        raise Refusal(
            "invalid_args", f"The request is not valid: {exc}. Fix it and call again, or skip it."
        ) from None


def plan_micros(request: MediaRequest, media: MediaSettings) -> tuple[int, int, int]:
    try:
        plan = plan_for(request, media)
    except Exception as exc:  # noqa: BLE001 - PermanentError: an unpriced model
        raise Refusal(
            "misconfigured",
            f"Media settings name a model without a price ({exc}); "
            "nothing was made. Carry on with the story.",
            "failed",
        ) from None
    return plan.image_micros, plan.video_micros, plan.duration_seconds


def refuse_if_spent(available: int | None, still: int, even: bool = False) -> None:
    """Refuse when the budget left (None: not read) does not cover one still,
    the cheapest thing there is (`even`: the caller asked for more)."""
    if available is not None and available < still:
        raise Refusal(
            "budget",
            f"Refused: this session's media budget is spent "
            f"({usd(available)} left; {'even ' if even else ''}a still costs "
            f"{usd(still)}). Do not call media tools again this session.",
        )


def left_note(available: int | None, estimate: int, status: BudgetStatus) -> str:
    if available is None:
        return (
            f" Budget not checked ({status.reason}); the pipeline still enforces the session cap."
        )
    return f" About {usd(max(0, available - estimate))} of the session budget left after it."
