"""The demo page's backend: turn a form into a request message and publish it.

The browser cannot publish to Pub/Sub, so the demo server does it here, as
AIDM's backend would through the client library. Against the emulators only:
it configures the demo campaign (enabled, a budget, member "alice") on first
use, which no web page may ever do to a real project.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from shared.domain.ids import SCOPE_ID_RULE, is_scope_id

DEMO_MEMBERS = ["alice"]
DEMO_OWNERS = ["alice"]  # the demo's game master: regenerate, retry clip, hide
DEMO_BUDGET_USD = 20.0  # about twenty 8 s clips at standard quality
FIELDS = (
    "campaign_id",
    "session_id",
    "turn_number",
    "kind",
    "cutscene_type",
    "image_prompt",
    "motion_prompt",
    "subject",
    "aspect_ratio",
    "duration_seconds",
)
_lock = threading.Lock()
_checked = False


def use_stack_env(env: dict[str, str] | None) -> None:
    """Point this process's clients at the stack (its env may differ from ours)."""
    if not env:
        return
    global _checked
    with _lock:
        changed = {k: v for k, v in env.items() if isinstance(v, str) and os.environ.get(k) != v}
        if changed:
            from shared.store.connections import reset_all

            os.environ.update(changed)
            reset_all()
        if changed or not _checked:
            # The demo backend acts as AIDM (MEDIA_LOCAL_IDENTITY=aidm, set by
            # the stack): its calls are checked against AIDM's grants, with
            # the stack's bucket and topic names.
            from infra.iam.enforce import install_from_env

            install_from_env()
            _checked = True


def _error(code: int, message: str) -> tuple[int, dict[str, Any]]:
    return code, {"error": {"code": code, "message": message}}


def _ensure_campaign(campaign_id: str) -> None:
    from shared.client import configure_campaign
    from shared.store.campaigns import load_campaign

    campaign = load_campaign(campaign_id)
    if campaign is None or not campaign.media.enabled:
        configure_campaign(
            campaign_id,
            enabled=True,
            budget_usd=DEMO_BUDGET_USD,
            members=DEMO_MEMBERS,
            owners=DEMO_OWNERS,
        )


def _refusal(body: Any, env: dict[str, str] | None) -> tuple[int, dict[str, Any]] | None:
    use_stack_env(env)
    if not os.environ.get("FIRESTORE_EMULATOR_HOST"):
        return _error(403, "the demo backend works only against the local emulators")
    if not isinstance(body, dict):
        return _error(400, "expected a JSON object")
    if not is_scope_id(body.get("campaign_id", "demo")):
        return _error(400, f"campaign_id must be {SCOPE_ID_RULE}")
    return None


def handle_setup(body: Any, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """Make sure the demo campaign exists before the page starts listening
    (security rules deny reads of a campaign that does not exist yet)."""
    refused = _refusal(body, env)
    if refused:
        return refused
    campaign_id = body.get("campaign_id", "demo")
    _ensure_campaign(campaign_id)
    return 200, {"campaign_id": campaign_id, "members": DEMO_MEMBERS}


def last_turn(campaign_id: str, session_id: str) -> int:
    """The highest turn number asked for in the session so far (0: none).

    Every asset of the session, hidden and rejected ones too (their turn was
    played all the same): the demo's sessions are short, and the query is
    one that media_api's rewind already has an index for."""
    from shared.store.asset_queries import session_assets_after

    assets = session_assets_after(campaign_id, session_id, 0)
    turns = (int(asset.get("turn_number") or 0) for asset in assets)
    return max(turns, default=0)


def handle_session(body: Any, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """Where the session stands, so a reloaded page goes on from the next turn
    instead of asking for turn 1 again."""
    refused = _refusal(body, env)
    if refused:
        return refused
    campaign_id = body.get("campaign_id", "demo")
    session_id = body.get("session_id", "s1")
    if not is_scope_id(session_id):
        return _error(400, f"session_id must be {SCOPE_ID_RULE}")
    turn = last_turn(campaign_id, session_id)
    return 200, {"campaign_id": campaign_id, "session_id": session_id, "last_turn": turn}


def handle_player_token(body: Any, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """What a hosted AIDM's backend does for its page: a custom token for a
    member of the campaign (the page signs in with it), none for anyone else."""
    refused = _refusal(body, env)
    if refused:
        return refused
    user = body.get("user")
    if not is_scope_id(user):
        return _error(400, "user must be 1-128 characters of [A-Za-z0-9_-]")
    from shared.client import MediaClient

    try:
        token = MediaClient().create_custom_token(body.get("campaign_id", "demo"), user)
    except (LookupError, PermissionError) as exc:
        # An answer, not an error: the page then signs its visitor in anonymously.
        return 200, {"token": None, "reason": str(exc)}
    return 200, {"token": token}


def handle_trigger(body: Any, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """Publish one request from the demo form; (HTTP status, JSON body)."""
    refused = _refusal(body, env)
    if refused:
        return refused
    fields = {k: body.get(k) for k in FIELDS if body.get(k) not in (None, "")}
    campaign_id = fields.setdefault("campaign_id", "demo")
    fields.setdefault("session_id", "s1")
    fields.setdefault("turn_number", 1)

    from shared.client import build_message, publish_request

    _ensure_campaign(campaign_id)
    result = publish_request(build_message(**fields))
    if not result.accepted:
        return _error(400, result.reason or "not accepted")
    return 202, {
        "request_id": result.request_id,
        "asset_id": result.asset_id,
        "campaign_id": campaign_id,
        "turn_number": fields["turn_number"],
    }
