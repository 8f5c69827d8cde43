"""The ProductionAgent adapter with a fake media client and scripted model answers.

The media client is the boundary faked here (it records what would be
published); tests/integration/test_aidm.py runs the same paths against the
Pub/Sub and Firestore emulators.
"""

from __future__ import annotations

from typing import Any

import pytest
from google.genai import types
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.aidm import (
    MEDIA_TOOLS,
    TurnContext,
    as_media_settings,
    budget_guidance,
    current_model_id,
    handle_function_call,
    media_settings_from_aidm,
    production_tools,
    run_production_turn,
)
from shared.aidm.declarations import _estimates
from shared.client import BudgetStatus, PublishResult
from shared.domain.campaign import MediaSettings
from shared.domain.ids import asset_id_for
from shared.domain.pricing import catalog, usd_to_micros
from shared.domain.request import CUTSCENE_TYPES, parse_request
from shared.store import ledger

BUCKET = "demo-cutscenes-media"
REF = f"gs://{BUCKET}/refs/c1/rei-sheet.png"
# Standard quality: a 1K flash still $0.067, fast Veo at 720p charged at the
# higher of its two quotes, $0.15/s, 8 s. A reference sheet adds 1120 input
# tokens at $0.50 per million: $0.00056.
# The standard tier: a 1K still, a 6 s clip at Veo 3.1 Fast's highest quote ($0.15/s).
STILL, CLIP = 67_000, 900_000


def status(
    cap_usd: float = 2.0,
    spent: int = 0,
    reserved: int = 0,
    enabled: bool = True,
    recorded: frozenset[str] = frozenset(),
    **media: Any,
) -> BudgetStatus:
    settings = MediaSettings(enabled=enabled, budget_per_session_usd=cap_usd, **media)
    cap = max(usd_to_micros(cap_usd), spent + reserved)
    return BudgetStatus(True, None, True, settings, ledger.Balance(cap, spent, reserved), recorded)


class FakeClient:
    """Records messages instead of publishing; validates them like the real one."""

    bucket = BUCKET

    def __init__(self, budget: BudgetStatus | None = None, accept: bool = True) -> None:
        self.budget = budget or status()
        self.accept = accept
        self.messages: list[dict[str, Any]] = []
        self.reads = 0

    def remaining_budget(self, campaign_id: str, session_id: str) -> BudgetStatus:
        self.reads += 1
        return self.budget

    def publish(self, message: dict[str, Any]) -> PublishResult:
        request = parse_request(message, BUCKET)  # docs/interface.md section 1, or the test fails
        rid = request.request_id
        if not self.accept:
            return PublishResult(False, rid, asset_id_for(rid), "publish failed: Unavailable")
        self.messages.append(message)
        return PublishResult(True, rid, asset_id_for(rid), None, str(len(self.messages)))


def context(client: FakeClient | None = None, **over: Any) -> TurnContext:
    fields: dict[str, Any] = dict(
        campaign_id="c1",
        session_id="s1",
        turn_number=12,
        art_style="cel-shaded, bold lines",
        ip_title="Hunter x Hunter",
        npcs={"Captain Mireille": "tall, silver braid, crimson naval coat, scar over one eye"},
        locations={"The Drowned Spire": "a cathedral tower half sunk in a green lagoon"},
        reference_images={"Rei": [REF]},
        client=client or FakeClient(),
    )
    fields.update(over)
    return TurnContext(**fields)


def call(name: str, /, **args: Any) -> types.FunctionCall:
    return types.FunctionCall(name=name, args=args)


SAKUGA = dict(
    cutscene_type="action_climax",
    image_prompt="Rei's blade meets the demon's claw mid-air, sparks, red moon",
    motion_prompt="camera orbits the clash, sparks trail",
)


# ----------------------------------------------------------------- the tools


def test_the_media_tools_with_aidms_names_and_parameters():
    [tool] = production_tools({"media_enabled": True})
    decls = {d.name: d for d in tool.function_declarations}
    assert tuple(decls) == MEDIA_TOOLS
    cut = decls["trigger_cutscene"].parameters
    assert set(cut.required) == {"cutscene_type", "image_prompt", "motion_prompt"}
    assert set(cut.properties) == {
        "cutscene_type",
        "image_prompt",
        "motion_prompt",
        "characters",
        "mood",
    }
    assert cut.properties["cutscene_type"].enum == list(CUTSCENE_TYPES)
    assert cut.properties["characters"].type == types.Type.ARRAY
    assert cut.properties["characters"].items.type == types.Type.STRING
    assert decls["generate_npc_portrait"].parameters.required == ["npc_name"]
    assert decls["generate_location_visual"].parameters.required == ["location_name"]
    # A config carrying them serialises as the SDK would send it.
    config = types.GenerateContentConfig(tools=[tool])
    assert "function_declarations" in config.model_dump(exclude_none=True)["tools"][0]


def test_descriptions_teach_when_to_call():
    [tool] = production_tools(MediaSettings(enabled=True))
    text = {d.name: d.description for d in tool.function_declarations}
    cutscene = text["trigger_cutscene"]
    for needle in (
        "sakuga",
        "one turn in five",
        "climactic narrative weight",
        "Never for ordinary dialogue",
        "$0.97",
    ):
        assert needle in cutscene
    assert "significant new NPC" in text["generate_npc_portrait"]
    assert "arrives at a vivid new location" in text["generate_location_visual"]
    premium = production_tools(MediaSettings(enabled=True, quality="premium"))[0]
    assert "$3.33" in premium.function_declarations[0].description  # 0.134 + 8 * 0.40


def test_no_tools_when_media_is_off():
    assert production_tools({"media_enabled": False}) == []
    assert production_tools(None) == []  # the contract's default: off


# ------------------------------------------------------------------- settings


def test_flat_settings_map_to_media_settings():
    mapped = media_settings_from_aidm(
        {
            "media_enabled": True,
            "media_budget_enabled": True,
            "media_budget_per_session_usd": 3.5,
            "media_auto_play": False,
            "media_image_model": "gemini-3-pro-image",
            "media_video_model": "veo-3.1-generate-001",
        }
    )
    assert mapped.media_settings == {
        "enabled": True,
        "budget_per_session_usd": 3.5,
        "auto_play": False,
        "image_model": "gemini-3-pro-image",
        "video_model": "veo-3.1-generate-001",
    }
    assert mapped.warnings == ()
    MediaSettings.model_validate(mapped.media_settings)


def test_settings_object_with_attributes_works_too():
    class AidmSettingsObject:
        media_enabled = True
        media_budget_per_session_usd = 2.0
        media_budget_enabled = True

    assert as_media_settings(AidmSettingsObject()).enabled
    assert as_media_settings(AidmSettingsObject()).budget_per_session_usd == 2.0


def test_retired_models_fall_back_to_the_catalog_with_warnings():
    mapped = media_settings_from_aidm(
        {
            "media_enabled": True,
            "media_image_model": "imagen-3.0-generate-002",
            "media_video_model": "veo-3.0-generate-preview",
        }
    )
    assert "image_model" not in mapped.media_settings
    assert "video_model" not in mapped.media_settings
    assert any(
        "imagen-3.0-generate-002" in w and "gemini-3.1-flash-image" in w for w in mapped.warnings
    )
    assert any("veo-3.0-generate-preview" in w for w in mapped.warnings)


@pytest.mark.parametrize(
    "old, kind, new",
    [
        ("gemini-3-pro-image-preview", "image", "gemini-3-pro-image"),
        ("veo-3.1-generate-preview", "video", "veo-3.1-generate-001"),
        ("veo-3.1-fast-generate-preview", "video", "veo-3.1-fast-generate-001"),
        ("veo-3.1-fast-generate-001", "video", "veo-3.1-fast-generate-001"),
        ("imagen-4.0-ultra-generate-001", "image", None),
        ("veo-2.0-generate-001", "video", None),
    ],
)
def test_current_model_ids(old, kind, new):
    assert current_model_id(old, kind) == new


def test_budget_switch_off_still_caps_the_session():
    mapped = media_settings_from_aidm(
        {"media_enabled": True, "media_budget_enabled": False, "media_budget_per_session_usd": 5}
    )
    assert mapped.media_settings["budget_per_session_usd"] == 5.0
    assert any("always caps" in w and "$5.00" in w for w in mapped.warnings)
    default = media_settings_from_aidm({"media_enabled": True, "media_budget_enabled": False})
    assert "budget_per_session_usd" not in default.media_settings  # the contract's $2.00
    assert any("$2.00" in w for w in default.warnings)


def test_a_bad_budget_is_dropped_with_a_warning():
    mapped = media_settings_from_aidm({"media_budget_per_session_usd": "lots"})
    assert "budget_per_session_usd" not in mapped.media_settings and mapped.warnings


# --------------------------------------------------------------- handling calls


def test_sakuga_beat_publishes_an_action_climax_with_style_cast_and_sheets():
    client = FakeClient()
    ctx = context(client)
    answer = handle_function_call(
        call("trigger_cutscene", **SAKUGA, mood="defiant", characters=["Rei", "Captain Mireille"]),
        ctx,
    )
    assert answer["status"] == "queued", answer
    assert answer["estimated_cost_usd"] == 0.96756 and answer["budget_left_usd"] == 1.03244
    [msg] = client.messages
    request = parse_request(msg, BUCKET)
    assert (request.kind, request.cutscene_type) == ("cutscene", "action_climax")
    assert request.image_prompt.startswith(SAKUGA["image_prompt"])
    assert "Captain Mireille: tall, silver braid" in request.image_prompt
    assert "Mood: defiant" in request.image_prompt and "defiant" in request.motion_prompt
    assert request.reference_images == [REF]
    assert request.style.art_style == "cel-shaded, bold lines"
    assert request.style.ip_title == "Hunter x Hunter"
    assert answer["request_id"] == msg["request_id"] == ctx.published[0].request_id


def test_cast_is_found_in_the_prompt_when_characters_is_omitted():
    client = FakeClient()
    handle_function_call(
        call(
            "trigger_cutscene", **{**SAKUGA, "image_prompt": "Rei kneels before Captain Mireille"}
        ),
        context(client),
    )
    [msg] = client.messages
    assert msg["reference_images"] == [REF]
    assert "Captain Mireille: tall" in msg["image_prompt"]


@pytest.mark.parametrize("bad", ["epic_battle", "", None, 7, "NONE"])
def test_invalid_cutscene_type_is_refused_with_the_valid_list(bad):
    client = FakeClient()
    answer = handle_function_call(
        call("trigger_cutscene", **{**SAKUGA, "cutscene_type": bad}), context(client)
    )
    assert answer["status"] == "refused" and answer["reason"] == "invalid_args"
    if bad != "NONE":
        assert all(t in answer["error"] for t in CUTSCENE_TYPES)
        assert "Call trigger_cutscene again" in answer["error"]
    else:
        assert "do not call trigger_cutscene" in answer["error"]
    assert client.messages == [] and client.reads == 0


def test_loose_spellings_of_a_valid_type_are_accepted():
    client = FakeClient()
    answer = handle_function_call(
        call("trigger_cutscene", **{**SAKUGA, "cutscene_type": "Power-Awakening"}), context(client)
    )
    assert answer["status"] == "queued"
    assert client.messages[0]["cutscene_type"] == "power_awakening"


@pytest.mark.parametrize(
    "args, needle",
    [
        ({"image_prompt": None}, "needs image_prompt"),
        ({"motion_prompt": "   "}, "needs motion_prompt"),
        ({"image_prompt": "x" * 4001}, "under 4000"),
        ({"image_prompt": ["a", "b"]}, "must be text"),
        ({"characters": 5}, "list of names"),
    ],
)
def test_bad_arguments_are_refused_with_a_fix(args, needle):
    client = FakeClient()
    answer = handle_function_call(call("trigger_cutscene", **{**SAKUGA, **args}), context(client))
    assert answer["status"] == "refused" and needle in answer["error"], answer
    assert client.messages == []


def test_media_off_is_refused_and_nothing_published():
    client = FakeClient(status(enabled=False))
    for c in (
        call("trigger_cutscene", **SAKUGA),
        call("generate_npc_portrait", npc_name="Captain Mireille"),
    ):
        answer = handle_function_call(c, context(client))
        assert (answer["status"], answer["reason"]) == ("refused", "disabled")
        assert "off" in answer["error"]
    assert client.messages == []


def test_spent_budget_is_refused_and_nothing_published():
    client = FakeClient(status(cap_usd=0.5, spent=500_000))
    ctx = context(client)
    for c in (
        call("trigger_cutscene", **SAKUGA),
        call("generate_location_visual", location_name="The Drowned Spire"),
    ):
        answer = handle_function_call(c, ctx)
        assert (answer["status"], answer["reason"]) == ("refused", "budget"), answer
        assert "Do not call media tools again this session" in answer["error"]
    assert client.messages == [] and ctx.published == []


def test_budget_for_a_still_only_queues_the_cutscene_as_a_still():
    client = FakeClient(status(cap_usd=0.30))  # covers a still, not 0.667 (4 s) or more
    answer = handle_function_call(call("trigger_cutscene", **SAKUGA), context(client))
    assert answer["status"] == "queued"
    assert "covers a still but not a clip" in answer["output"]
    assert "will arrive as a still" in answer["output"]
    assert answer["estimated_cost_usd"] == 0.06756  # the still and its reference sheet
    assert len(client.messages) == 1


def test_budget_for_a_shorter_clip_shortens_it():
    client = FakeClient(status(cap_usd=0.70))  # 0.06756 + 4 s * 0.15 fits, 6 s does not
    answer = handle_function_call(call("trigger_cutscene", **SAKUGA), context(client))
    assert answer["status"] == "queued" and "4 s clip" in answer["output"], answer
    assert client.messages[0]["duration_seconds"] == 4
    assert answer["estimated_cost_usd"] == 0.66756


def test_without_degrading_a_still_only_budget_refuses_the_cutscene():
    client = FakeClient(status(cap_usd=0.30, degrade_to_still=False))
    answer = handle_function_call(call("trigger_cutscene", **SAKUGA), context(client))
    assert (answer["status"], answer["reason"]) == ("refused", "budget")
    assert "portraits and location visuals still fit" in answer["error"]


def test_requests_of_this_turn_count_until_the_pipeline_reserves_them():
    client = FakeClient(status(cap_usd=1.1))  # one cutscene (0.96756), then 0.13244 left
    ctx = context(client, max_cutscenes_per_turn=2)
    first = handle_function_call(call("trigger_cutscene", **SAKUGA), ctx)
    second = handle_function_call(call("trigger_cutscene", **SAKUGA), ctx)
    assert first["estimated_cost_usd"] == 0.96756
    assert "as a still" in second["output"] and second["estimated_cost_usd"] == 0.06756
    assert first["request_id"] != second["request_id"]
    # Once the ledger shows the first one's hold, it is not counted twice.
    aid = ctx.published[0].asset_id
    client.budget = status(
        cap_usd=1.1, reserved=STILL + CLIP, recorded=frozenset({f"{aid}:image", f"{aid}:video"})
    )
    third = handle_function_call(call("generate_npc_portrait", npc_name="Captain Mireille"), ctx)
    assert third["status"] == "refused" and third["reason"] == "budget"  # 0.133 - 0.06756 pending
    assert "$0.07 left" in third["error"]


def test_one_cutscene_per_turn():
    client = FakeClient()
    ctx = context(client)
    assert handle_function_call(call("trigger_cutscene", **SAKUGA), ctx)["status"] == "queued"
    again = handle_function_call(call("trigger_cutscene", **SAKUGA), ctx)
    assert (again["status"], again["reason"]) == ("refused", "turn_limit")
    assert len(client.messages) == 1


def test_portrait_of_a_known_npc():
    client = FakeClient()
    ctx = context(client, reference_images={"Captain Mireille": [REF]})
    answer = handle_function_call(call("generate_npc_portrait", npc_name="captain  mireille"), ctx)
    assert answer["status"] == "queued" and answer["estimated_cost_usd"] == 0.06756
    request = parse_request(client.messages[0], BUCKET)
    assert (request.kind, request.subject, request.aspect_ratio) == (
        "npc_portrait",
        "Captain Mireille",
        "1:1",
    )
    assert "silver braid" in request.image_prompt and request.reference_images == [REF]
    # Asking again in the same turn publishes nothing new.
    again = handle_function_call(call("generate_npc_portrait", npc_name="Captain Mireille"), ctx)
    assert again["status"] == "queued" and "already queued" in again["output"]
    assert len(client.messages) == 1


def test_unknown_npc_or_location_is_refused_with_the_known_names():
    client = FakeClient()
    answer = handle_function_call(call("generate_npc_portrait", npc_name="Gon"), context(client))
    assert (answer["status"], answer["reason"]) == ("refused", "unknown_npc")
    assert "Captain Mireille" in answer["error"] and "exact name" in answer["error"]
    answer = handle_function_call(
        call("generate_location_visual", location_name="Yorknew"), context(client, locations={})
    )
    assert answer["reason"] == "unknown_location" and "No locations are known" in answer["error"]
    assert client.messages == []


def test_location_visual():
    client = FakeClient()
    answer = handle_function_call(
        call("generate_location_visual", location_name="The Drowned Spire"), context(client)
    )
    assert answer["status"] == "queued"
    request = parse_request(client.messages[0], BUCKET)
    assert (request.kind, request.subject, request.aspect_ratio) == (
        "location_visual",
        "The Drowned Spire",
        "16:9",
    )
    assert "green lagoon" in request.image_prompt


def test_references_outside_the_campaign_are_dropped_not_fatal():
    client = FakeClient()
    ctx = context(
        client,
        reference_images={
            "Rei": ["gs://other-bucket/refs/c1/x.png", f"gs://{BUCKET}/refs/c2/x.png", REF]
        },
    )
    answer = handle_function_call(call("trigger_cutscene", **SAKUGA, characters=["Rei"]), ctx)
    assert answer["status"] == "queued"
    assert client.messages[0]["reference_images"] == [REF]


def test_unreadable_budget_publishes_and_says_so():
    client = FakeClient(BudgetStatus(False, "budget unreadable: ServiceUnavailable: down"))
    answer = handle_function_call(call("trigger_cutscene", **SAKUGA), context(client))
    assert answer["status"] == "queued" and "Budget not checked" in answer["output"]
    assert "budget_left_usd" not in answer
    # ...unless AIDM's own settings say media is off.
    client2 = FakeClient(BudgetStatus(False, "budget unreadable"))
    off = handle_function_call(
        call("trigger_cutscene", **SAKUGA), context(client2, settings={"media_enabled": False})
    )
    assert off["reason"] == "disabled" and client2.messages == []


def test_a_failed_publish_is_an_answer_not_an_exception():
    answer = handle_function_call(
        call("trigger_cutscene", **SAKUGA), context(FakeClient(accept=False))
    )
    assert (answer["status"], answer["reason"]) == ("failed", "publish_failed")
    assert "do not retry" in answer["error"]


def test_unknown_tool_and_malformed_calls():
    ctx = context()
    assert handle_function_call(call("upsert_location", name="x"), ctx)["reason"] == "unknown_tool"
    assert handle_function_call({"name": None}, ctx)["reason"] == "invalid_call"
    assert (
        handle_function_call({"name": "trigger_cutscene", "args": [1]}, ctx)["reason"]
        == "invalid_call"
    )
    part = types.Part(function_call=call("trigger_cutscene", **SAKUGA))
    assert handle_function_call(part, ctx)["status"] == "queued"


def test_a_broken_client_never_raises_into_the_turn_loop():
    class Broken(FakeClient):
        def remaining_budget(self, *_):
            raise RuntimeError("boom")

    answer = handle_function_call(call("trigger_cutscene", **SAKUGA), context(Broken()))
    assert (answer["status"], answer["reason"]) == ("failed", "internal")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from([*MEDIA_TOOLS, "other"]),
    args=st.dictionaries(
        st.sampled_from(
            [
                "cutscene_type",
                "image_prompt",
                "motion_prompt",
                "characters",
                "mood",
                "npc_name",
                "location_name",
                "x",
            ]
        ),
        json_values,
        max_size=6,
    ),
)
def test_any_arguments_get_an_answer(name, args):
    client = FakeClient()
    answer = handle_function_call({"name": name, "args": args}, context(client))
    assert answer["status"] in ("queued", "refused")  # never "failed": internal error
    assert answer.get("output") or answer.get("error")
    for msg in client.messages:  # whatever was published is a valid request
        parse_request(msg, BUCKET)


# -------------------------------------------------------------- budget guidance


@pytest.mark.parametrize(
    "budget, needles",
    [
        (
            status(cap_usd=2.0),
            ["$2.00 left of $2.00", "about 2 more cutscenes", "one turn in five"],
        ),
        (
            status(cap_usd=2.0, spent=1_800_000),
            ["$0.20 left", "no longer covers a clip", "arrive as a still"],
        ),
        (status(cap_usd=2.0, spent=1_980_000), ["budget is spent", "do not call any media tool"]),
        (status(enabled=False), ["off", "do not call trigger_cutscene"]),
        (BudgetStatus(False, "budget unreadable"), ["unknown", "still enforces"]),
    ],
)
def test_budget_guidance(budget, needles):
    text = budget_guidance(context(FakeClient(budget), last_cutscene_turn=9))
    for needle in needles:
        assert needle in text, text
    if budget.ok and budget.enabled and budget.remaining_micros > STILL + CLIP:
        assert "The last cutscene was 3 turns ago" in text


# ------------------------------------------------------------ production turn


def model_says(*parts: types.Part) -> types.GenerateContentResponse:
    return types.GenerateContentResponse(
        candidates=[types.Candidate(content=types.Content(role="model", parts=list(parts)))]
    )


def fc(name: str, /, **args: Any) -> types.Part:
    return types.Part(function_call=types.FunctionCall(name=name, args=args, id=f"call-{name}"))


class ScriptedModel:
    """Answers with the scripted responses in order, then with plain text."""

    def __init__(self, *script: types.GenerateContentResponse) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []

    def generate_content(self, *, model: str, contents: Any, config: Any) -> Any:
        self.requests.append({"model": model, "contents": list(contents), "config": config})
        if self.script:
            return self.script.pop(0)
        return model_says(types.Part.from_text(text="Done."))


def test_a_turn_dispatches_calls_and_feeds_the_answers_back():
    client = FakeClient()
    model = ScriptedModel(model_says(fc("trigger_cutscene", **SAKUGA)))
    turn = run_production_turn(model, "Rei's blade flashes...", context(client))
    assert turn.error is None and turn.text == "Done."
    assert [c.name for c in turn.calls] == ["trigger_cutscene"]
    assert turn.calls[0].result["status"] == "queued" and len(turn.published) == 1
    first, second = model.requests
    config = first["config"]
    assert [d.name for d in config.tools[0].function_declarations] == list(MEDIA_TOOLS)
    assert "Media budget this session" in config.system_instruction
    assert config.automatic_function_calling.disable
    assert "Captain Mireille" in first["contents"][0].parts[0].text  # known NPCs listed
    reply = second["contents"][-1].parts[0].function_response
    assert (reply.name, reply.id, reply.response["status"]) == (
        "trigger_cutscene",
        "call-trigger_cutscene",
        "queued",
    )


def test_the_model_can_fix_a_refused_call():
    client = FakeClient()
    model = ScriptedModel(
        model_says(fc("trigger_cutscene", **{**SAKUGA, "cutscene_type": "epic_battle"})),
        model_says(fc("trigger_cutscene", **SAKUGA)),
    )
    turn = run_production_turn(model, "...", context(client))
    assert [c.result["status"] for c in turn.calls] == ["refused", "queued"]
    assert [m["cutscene_type"] for m in client.messages] == ["action_climax"]


def test_low_stakes_dialogue_makes_no_call():
    client = FakeClient()
    model = ScriptedModel(model_says(types.Part.from_text(text="No media this turn.")))
    turn = run_production_turn(model, "Rei haggles over the price of bread.", context(client))
    assert turn.calls == [] and turn.published == [] and client.messages == []
    assert len(model.requests) == 1


def test_a_failing_model_ends_the_turn_quietly():
    class Down:
        def generate_content(self, **_: Any) -> Any:
            raise ConnectionError("model unavailable")

    turn = run_production_turn(Down(), "...", context())
    assert turn.error and "model unavailable" in turn.error and turn.calls == []


def test_aidms_own_tools_ride_along():
    seen = []
    model = ScriptedModel(
        model_says(
            fc("upsert_location", name="Yorknew"),
            fc("generate_location_visual", location_name="The Drowned Spire"),
        )
    )
    turn = run_production_turn(
        model,
        "...",
        context(),
        extra_handlers={"upsert_location": lambda args: seen.append(args) or "Location upserted."},
    )
    assert seen == [{"name": "Yorknew"}]
    assert [c.result.get("status", c.result.get("output")) for c in turn.calls] == [
        "Location upserted.",
        "queued",
    ]


def test_media_off_offers_no_tools():
    model = ScriptedModel()
    run_production_turn(model, "...", context(FakeClient(status(enabled=False))))
    config = model.requests[0]["config"]
    assert not config.tools and "off" in config.system_instruction


def test_aidms_untouched_default_models_mean_no_preference():
    defaults = {
        "media_enabled": True,
        "media_budget_enabled": False,
        "media_budget_per_session_usd": 2.0,
        "media_auto_play": True,
        "media_image_model": "gemini-3-pro-image-preview",
        "media_video_model": "veo-3.1-generate-preview",
    }
    mapped = media_settings_from_aidm(defaults)
    assert "image_model" not in mapped.media_settings
    assert "video_model" not in mapped.media_settings
    media = as_media_settings(mapped)
    still, clip, seconds = _estimates(media)
    standard = catalog().models_for("standard")
    assert (still, clip) == (
        catalog().image_micros(standard["image_model"], "1K"),
        catalog().video_micros(standard["video_model"], "720p", True, seconds),
    )
    assert 2 * (still + clip) <= 2_000_000  # AIDM's $2 default buys at least two cutscenes
    # An explicit choice is honoured.
    chosen = media_settings_from_aidm(
        {
            **defaults,
            "media_video_model": "veo-3.1-lite-generate-001",
            "media_image_model": "gemini-3-pro-image",
        }
    )
    assert chosen.media_settings["video_model"] == "veo-3.1-lite-generate-001"
    assert chosen.media_settings["image_model"] == "gemini-3-pro-image"


def test_model_sheets_for_the_party_and_characters_named_in_later_requests():
    client = FakeClient()
    ctx = context(client, party={"Rei": "short blue hair, red plugsuit"})
    answer = handle_function_call(call("generate_model_sheet", character_name="rei"), ctx)
    assert answer["status"] == "queued" and answer["kind"] == "model_sheet", answer
    sheet = client.messages[-1]
    assert sheet["kind"] == "model_sheet" and sheet["subject"] == "Rei"
    assert "turnaround" in sheet["image_prompt"] and "red plugsuit" in sheet["image_prompt"]
    unknown = handle_function_call(call("generate_model_sheet", character_name="Nobody"), ctx)
    assert unknown["status"] == "refused" and unknown["reason"] == "unknown_character"

    handle_function_call(call("trigger_cutscene", **SAKUGA, characters=["Rei", "Rei"]), ctx)
    assert client.messages[-1]["characters"] == ["Rei"]
    handle_function_call(call("generate_npc_portrait", npc_name="Captain Mireille"), ctx)
    assert client.messages[-1]["characters"] == ["Captain Mireille"]
    # Sheets do not use up the turn's portraits and location visuals.
    assert (
        handle_function_call(
            call("generate_location_visual", location_name="The Drowned Spire"), ctx
        )["status"]
        == "queued"
    )
