"""One AIDM turn against the local stack, with a scripted model answer.

    .venv/bin/cutscenes local up --detach
    .venv/bin/python examples/aidm_turn.py

What a hosted AIDM backend does, in order:
1. map its flat settings to the campaign's media settings (once per campaign);
2. upload a character's model sheet (once per character);
3. each turn: build a TurnContext and run the ProductionAgent with the media
   tools; a scripted answer stands in for Gemini here, exactly as
   `genai.Client().models.generate_content` would return it;
4. follow the asset: the player's browser does that with onSnapshot or the
   media API; this script polls Firestore and prints each status.

It works against a real project too: set the environment variables the CLI
reads (GOOGLE_CLOUD_PROJECT, MEDIA_BUCKET, ...) and pass a real genai client
to run_production_turn instead of the scripted model.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from typing import Any

SCRIPTED_CALL = {
    "cutscene_type": "action_climax",
    "image_prompt": (
        "Rei leaps through the shattered stained glass of the Drowned Spire, "
        "blade drawn, meeting the sea-demon's claw mid-air; sparks and shards "
        "frozen around them, red moon behind, low angle"
    ),
    "motion_prompt": "slow push in as the blades clash, glass shards drift, cape billows",
    "characters": ["Rei"],
    "mood": "defiant",
}
NARRATIVE = (
    "The roll is a natural twenty. Rei plants a foot on the altar, and the whole "
    "Spire seems to hold its breath as she launches upward, her blade singing "
    "against the demon's claw in a spray of sparks and stained glass."
)
# AIDM's settings as they ship (src/settings/models.py), media switched on: the
# default model ids mean "no preference", so the campaign's quality picks.
AIDM_SETTINGS = {
    "media_enabled": True,
    "media_budget_enabled": False,
    "media_budget_per_session_usd": 2.00,
    "media_image_model": "gemini-3-pro-image-preview",
    "media_video_model": "veo-3.1-generate-preview",
    "media_auto_play": True,
}


class ScriptedModel:
    """Stands in for genai.Client().models: first a function call, then text."""

    def __init__(self) -> None:
        from google.genai import types

        call = types.Part(
            function_call=types.FunctionCall(
                name="trigger_cutscene", args=SCRIPTED_CALL, id="call-1"
            )
        )
        done = types.Part.from_text(text="Cutscene requested.")
        self._answers = [call, done]

    def generate_content(self, *, model: str, contents: Any, config: Any) -> Any:
        from google.genai import types

        part = self._answers.pop(0) if self._answers else types.Part.from_text(text="Done.")
        return types.GenerateContentResponse(
            candidates=[types.Candidate(content=types.Content(role="model", parts=[part]))]
        )


def model_sheet_png() -> bytes:
    """A small stand-in for a character model sheet."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (256, 256), (30, 30, 60))
    draw = ImageDraw.Draw(img)
    draw.ellipse((88, 30, 168, 110), fill=(240, 220, 200))  # head
    draw.rectangle((98, 110, 158, 220), fill=(180, 30, 40))  # red coat
    draw.line((160, 120, 230, 40), fill=(220, 220, 240), width=6)  # blade
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def load_local_stack() -> None:
    """Use the stack `cutscenes local up --detach` recorded, unless the
    environment already points somewhere."""
    from cutscenes.cli import _load_local_env

    _load_local_env()


def follow(campaign_id: str, asset_id: str, timeout_s: float) -> dict[str, Any] | None:
    from shared.domain.status import TERMINAL
    from shared.store.assets import load

    started = time.monotonic()
    last = None
    while time.monotonic() - started < timeout_s:
        doc = load(campaign_id, asset_id)
        status = doc.get("status") if doc else "published"
        if status != last:
            print(f"  [{time.monotonic() - started:5.1f} s] {status}", flush=True)
            last = status
        if doc and status in TERMINAL:
            return doc
        time.sleep(0.2)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaign", default="aidm-example")
    parser.add_argument(
        "--session",
        default=f"s{int(time.time())}",
        help="game session (the budget scope); a new one per run by default",
    )
    parser.add_argument("--turn", type=int, default=7)
    parser.add_argument("--clip-seconds", type=int, choices=[4, 6, 8], default=4)
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args(argv)

    load_local_stack()
    if not os.environ.get("PUBSUB_EMULATOR_HOST") and not os.environ.get("GOOGLE_CLOUD_PROJECT"):
        print(
            "No local stack found: start one with `.venv/bin/cutscenes local up --detach`.",
            file=sys.stderr,
        )
        return 2

    from shared.aidm import TurnContext, configure_from_aidm, run_production_turn
    from shared.client import MediaClient
    from shared.domain.asset_view import jsonable

    client = MediaClient()
    print(f"clients ready in {client.warm() * 1000:.0f} ms")

    print(f"1. campaign {args.campaign}: AIDM settings -> media_settings")
    mapped = configure_from_aidm(
        client,
        args.campaign,
        AIDM_SETTINGS,
        members=["alice"],
        video_duration_seconds=args.clip_seconds,
    )
    print(f"   {json.dumps(mapped.media_settings)}")
    for warning in mapped.warnings:
        print(f"   warning: {warning}")

    print("2. Rei's model sheet -> refs/")
    sheet = client.upload_reference(
        args.campaign, "rei/model-sheet.png", model_sheet_png(), "image/png"
    )
    print(f"   {sheet}")

    print(f"3. turn {args.turn} of session {args.session}: the ProductionAgent")
    context = TurnContext(
        campaign_id=args.campaign,
        session_id=args.session,
        turn_number=args.turn,
        art_style="cel-shaded anime, bold ink lines, dramatic rim light",
        ip_title="an original dark-fantasy shonen",
        npcs={"Captain Mireille": "tall, silver braid, crimson naval coat"},
        locations={"The Drowned Spire": "a cathedral tower half sunk in a green lagoon"},
        reference_images={"Rei": [sheet]},
        settings=AIDM_SETTINGS,
        client=client,
    )
    model = ScriptedModel()
    started = time.monotonic()
    turn = run_production_turn(model, NARRATIVE, context)
    elapsed_ms = (time.monotonic() - started) * 1000
    for call in turn.calls:
        print(
            f"   {call.name}({call.args.get('cutscene_type', '')}) -> "
            f"{call.result['status']}: {call.result.get('output') or call.result.get('error')}"
        )
    print(f"   the turn loop waited {elapsed_ms:.0f} ms (budget read + publish)")
    if turn.error or not turn.published:
        print(f"   nothing published ({turn.error or 'no media this turn'})", file=sys.stderr)
        return 1

    published = turn.published[0]
    print(f"4. following asset {published.asset_id}")
    doc = follow(args.campaign, published.asset_id, args.timeout)
    if doc is None:
        print(f"   no terminal state within {args.timeout:.0f} s", file=sys.stderr)
        return 1
    summary = {
        k: doc.get(k)
        for k in (
            "asset_id",
            "status",
            "status_reason",
            "cutscene_type",
            "image",
            "video",
            "cost_usd",
            "stage_ms",
        )
    }
    print(json.dumps(jsonable(summary), indent=2, sort_keys=True))
    budget = client.remaining_budget(args.campaign, args.session)
    print(f"session budget now: {json.dumps(budget.as_usd())}")
    return 0 if doc.get("status") in ("complete", "partial") else 1


if __name__ == "__main__":
    sys.exit(main())
