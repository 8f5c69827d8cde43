"""The ProductionAgent adapter against the real local stack.

The model is the only fake: scripted google-genai responses, as the model would
have answered. Everything else is real: budgets read from the Firestore
emulator, requests published to `media-requests` on the Pub/Sub emulator, and
each published message pulled from a test subscription on that topic and
validated against docs/interface.md section 1.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.genai import types

from shared.aidm import TurnContext, budget_guidance, handle_function_call, run_production_turn
from shared.client import MediaClient, configure_campaign
from shared.core.settings import get_settings
from shared.domain.request import MediaRequest, parse_request
from shared.store import ledger
from tests.integration.helpers import wait_terminal

ROOT = Path(__file__).resolve().parents[2]
TAP = "aidm-test-requests-tap"
# The message body may carry only these fields (docs/interface.md section 1).
CONTRACT_FIELDS = {
    "schema",
    "request_id",
    "campaign_id",
    "session_id",
    "turn_number",
    "kind",
    "cutscene_type",
    "image_prompt",
    "motion_prompt",
    "subject",
    "style",
    "reference_images",
    "characters",
    "aspect_ratio",
    "duration_seconds",
}


@dataclass
class Tap:
    """A pull subscription on media-requests: sees every message published."""

    subscriber: Any
    path: str

    def _pull_once(self, wait: float) -> list[Any]:
        from google.api_core import exceptions as gexc

        try:
            response = self.subscriber.pull(
                request={"subscription": self.path, "max_messages": 20}, timeout=wait
            )
        except (gexc.DeadlineExceeded, gexc.RetryError):
            return []
        received = list(response.received_messages)
        if received:
            self.subscriber.acknowledge(
                request={"subscription": self.path, "ack_ids": [m.ack_id for m in received]}
            )
        return received

    def requests(self, n: int, timeout: float = 15.0) -> list[MediaRequest]:
        """Pull exactly n messages and validate each against docs/interface.md section 1."""
        received: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(received) < n and time.monotonic() < deadline:
            received += self._pull_once(2.0)
        assert len(received) == n, f"pulled {len(received)} of {n} messages"
        received += self._pull_once(0.5)  # and nothing more
        assert len(received) == n, f"pulled {len(received)}, expected {n}"
        out = []
        for item in received:
            body = json.loads(item.message.data.decode("utf-8"))
            assert set(body) <= CONTRACT_FIELDS, set(body) - CONTRACT_FIELDS
            request = parse_request(item.message.data, get_settings().MEDIA_BUCKET)
            assert dict(item.message.attributes) == {
                "campaign_id": request.campaign_id,
                "kind": request.kind,
            }
            out.append(request)
        return out

    def nothing(self, wait: float = 1.0) -> None:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            got = self._pull_once(0.5)
            assert not got, [m.message.data[:200] for m in got]


@pytest.fixture(scope="module")
def tap(local_stack):
    from google.api_core import exceptions as gexc

    from infra.local.pubsub_setup import clients

    publisher, subscriber = clients(local_stack.env["PUBSUB_EMULATOR_HOST"])
    project = local_stack.env["GOOGLE_CLOUD_PROJECT"]
    path = subscriber.subscription_path(project, TAP)
    topic = publisher.topic_path(project, get_settings().MEDIA_REQUESTS_TOPIC)
    try:
        subscriber.create_subscription(
            request={"name": path, "topic": topic, "ack_deadline_seconds": 30}
        )
    except gexc.AlreadyExists:
        pass
    try:
        yield Tap(subscriber, path)
    finally:
        subscriber.delete_subscription(request={"subscription": path})
        subscriber.close()


@pytest.fixture
def media(stack, tap):
    """A clean stack (the tap's backlog is dropped by the wipe) and a client."""
    return MediaClient()


def enable(budget: float = 5.0, **settings: Any) -> None:
    # 4 s clips keep the pipeline's work (it renders what these tests publish) small.
    configure_campaign(
        "c1",
        enabled=True,
        budget_usd=budget,
        members=["alice"],
        video_duration_seconds=4,
        **settings,
    )


def model_says(*parts: types.Part) -> types.GenerateContentResponse:
    return types.GenerateContentResponse(
        candidates=[types.Candidate(content=types.Content(role="model", parts=list(parts)))]
    )


def fc(name: str, /, **args: Any) -> types.Part:
    return types.Part(function_call=types.FunctionCall(name=name, args=args))


class ScriptedModel:
    def __init__(self, *script: types.GenerateContentResponse) -> None:
        self.script = list(script)
        self.configs: list[Any] = []

    def generate_content(self, *, model: str, contents: Any, config: Any) -> Any:
        self.configs.append(config)
        if self.script:
            return self.script.pop(0)
        return model_says(types.Part.from_text(text="Done."))


def context(client: MediaClient, **over: Any) -> TurnContext:
    fields: dict[str, Any] = dict(
        campaign_id="c1",
        session_id="s1",
        turn_number=12,
        art_style="cel-shaded, bold lines",
        ip_title="Hunter x Hunter",
        npcs={"Captain Mireille": "tall, silver braid, crimson naval coat, scar over one eye"},
        locations={"The Drowned Spire": "a cathedral tower half sunk in a green lagoon"},
        client=client,
    )
    fields.update(over)
    return TurnContext(**fields)


def png_sheet() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 40)).save(out, format="PNG")
    return out.getvalue()


SAKUGA_NARRATIVE = (
    "Natural twenty. Rei's blade meets the demon's claw mid-air and the "
    "whole cathedral shudders; the animators clearly spent the budget here."
)
SAKUGA = dict(
    cutscene_type="action_climax",
    image_prompt="Rei's blade meets the demon's claw mid-air, sparks, red moon",
    motion_prompt="camera orbits the clash, sparks trail",
    characters=["Rei"],
    mood="defiant",
)


def test_sakuga_action_beat_publishes_an_action_climax(media, tap):
    enable()
    sheet = media.upload_reference("c1", "rei/model-sheet.png", png_sheet(), "image/png")
    ctx = context(media, reference_images={"Rei": [sheet]})
    model = ScriptedModel(model_says(fc("trigger_cutscene", **SAKUGA)))
    started = time.monotonic()
    turn = run_production_turn(model, SAKUGA_NARRATIVE, ctx)
    took_ms = (time.monotonic() - started) * 1000
    assert turn.error is None
    [answer] = [c.result for c in turn.calls]
    assert answer["status"] == "queued", answer
    assert answer["estimated_cost_usd"] == 0.66756  # a flash still, a sheet, 4 s of fast Veo
    [request] = tap.requests(1)
    assert (request.kind, request.cutscene_type) == ("cutscene", "action_climax")
    assert request.request_id == answer["request_id"]
    assert (request.campaign_id, request.session_id, request.turn_number) == ("c1", "s1", 12)
    assert request.reference_images == [sheet]
    assert request.style.ip_title == "Hunter x Hunter" and "defiant" in request.image_prompt
    assert "Media budget this session: $5.00 left" in model.configs[0].system_instruction
    print(f"\nproduction turn (budget read + publish, scripted model): {took_ms:.1f} ms")


def test_new_npc_introduction_makes_a_character_intro_and_a_portrait(media, tap):
    enable()
    model = ScriptedModel(
        model_says(
            fc(
                "trigger_cutscene",
                cutscene_type="character_intro",
                image_prompt="Captain Mireille steps out of the fog on the prow of her ship, "
                "coat snapping in the wind, one eye scarred, looking down at Rei",
                motion_prompt="slow tilt up from her boots to her face, fog curls",
            ),
            fc("generate_npc_portrait", npc_name="Captain Mireille"),
        )
    )
    turn = run_production_turn(
        model,
        "A ship cuts through the fog. On its prow stands a woman in a crimson coat: "
        "'I am Captain Mireille, and you are on my sea.'",
        context(media),
    )
    assert [c.result["status"] for c in turn.calls] == ["queued", "queued"]
    requests = {r.kind: r for r in tap.requests(2)}
    assert requests["cutscene"].cutscene_type == "character_intro"
    assert "Captain Mireille: tall, silver braid" in requests["cutscene"].image_prompt
    portrait = requests["npc_portrait"]
    assert (portrait.subject, portrait.aspect_ratio) == ("Captain Mireille", "1:1")
    assert "scar over one eye" in portrait.image_prompt


def test_arrival_at_a_vivid_location_makes_a_location_visual(media, tap):
    enable()
    model = ScriptedModel(
        model_says(fc("generate_location_visual", location_name="the drowned spire"))
    )
    turn = run_production_turn(model, "The party rows into the lagoon...", context(media))
    assert turn.calls[0].result["status"] == "queued"
    [request] = tap.requests(1)
    assert (request.kind, request.subject) == ("location_visual", "The Drowned Spire")


def test_low_stakes_dialogue_makes_no_call_and_publishes_nothing(media, tap):
    enable()
    model = ScriptedModel(model_says(types.Part.from_text(text="No media: small talk.")))
    turn = run_production_turn(
        model, "Rei asks the innkeeper whether the stew has onions. It does.", context(media)
    )
    assert turn.calls == [] and turn.published == [] and turn.error is None
    tap.nothing()


def test_spent_budget_is_refused_and_nothing_is_published(media, tap):
    enable(budget=0.50)
    # Earlier turns spent it all: a settled still and clip worth the whole cap. A
    # session of its own: an earlier test's request still in the pipeline after
    # the wipe would reserve in s1 and leave less than the whole cap.
    assert ledger.reserve_first_fit("c1", "spent", 500_000, [{"earlier:image": 500_000}]) == 0
    ledger.settle("c1", "spent", "earlier:image", 500_000)
    ctx = context(media, session_id="spent")
    assert "budget is spent" in budget_guidance(ctx)
    model = ScriptedModel(
        model_says(fc("trigger_cutscene", **SAKUGA)),
        model_says(fc("generate_npc_portrait", npc_name="Captain Mireille")),
    )
    turn = run_production_turn(model, SAKUGA_NARRATIVE, ctx)
    assert [(c.result["status"], c.result["reason"]) for c in turn.calls] == [
        ("refused", "budget"),
        ("refused", "budget"),
    ]
    assert "Do not call media tools again this session" in turn.calls[0].result["error"]
    assert turn.published == []
    tap.nothing()


def test_invalid_cutscene_type_is_refused_and_the_model_can_fix_it(media, tap):
    enable()
    model = ScriptedModel(
        model_says(fc("trigger_cutscene", **{**SAKUGA, "cutscene_type": "epic_battle"})),
        model_says(fc("trigger_cutscene", **SAKUGA)),
    )
    turn = run_production_turn(model, SAKUGA_NARRATIVE, context(media))
    refused, queued = (c.result for c in turn.calls)
    assert (refused["status"], refused["reason"]) == ("refused", "invalid_args")
    assert "'epic_battle' is not one of" in refused["error"]
    assert "action_climax" in refused["error"] and "Call trigger_cutscene again" in refused["error"]
    assert queued["status"] == "queued"
    [request] = tap.requests(1)  # only the corrected call was published
    assert request.cutscene_type == "action_climax"


def test_media_off_is_refused_and_nothing_is_published(media, tap):
    configure_campaign("c1", enabled=False)
    ctx = context(media)
    for call in (
        fc("trigger_cutscene", **SAKUGA).function_call,
        fc("generate_location_visual", location_name="The Drowned Spire").function_call,
    ):
        answer = handle_function_call(call, ctx)
        assert (answer["status"], answer["reason"]) == ("refused", "disabled")
    tap.nothing()


def test_a_still_only_budget_arrives_as_a_still_as_promised(media, tap):
    enable(budget=0.30)  # a still is 0.067, a 4 s clip 0.60
    model = ScriptedModel(model_says(fc("trigger_cutscene", **SAKUGA)))
    turn = run_production_turn(model, SAKUGA_NARRATIVE, context(media))
    answer = turn.calls[0].result
    assert answer["status"] == "queued" and "will arrive as a still" in answer["output"]
    [request] = tap.requests(1)
    # The pipeline keeps the promise: the still, no clip, for the budget's reason.
    asset = wait_terminal("c1", request.request_id, timeout=60)
    assert (asset["status"], asset["status_reason"]) == ("partial", "budget")
    assert asset["cost_usd"] == answer["estimated_cost_usd"] == 0.067


def test_example_runs_one_turn_against_the_stack(stack):
    env = {**os.environ, **stack.env}
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "aidm_turn.py"),
            "--session",
            "example-1",
            "--timeout",
            "90",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    out = done.stdout
    assert "trigger_cutscene(action_climax) -> queued" in out
    # AIDM's untouched default models mean no preference: the quality tier picks.
    after = out.split("-> media_settings\n", 1)[1].splitlines()
    mapped = json.loads(next(line for line in after if line.startswith("   {")))
    assert mapped["enabled"] and "image_model" not in mapped and "video_model" not in mapped
    assert "animating" in out  # progress while it renders
    summary = json.loads(out[out.index("{\n") : out.index("\n}") + 2])
    assert summary["status"] == "complete", summary
    assert summary["video"]["uri"].endswith(".mp4") and summary["image"]["uri"].endswith(".png")
    print(f"\nexamples/aidm_turn.py: {time.monotonic() - started:.1f} s")
