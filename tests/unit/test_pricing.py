import json

import pytest

from shared.campaigns import MediaSettings, plan_for
from shared.errors import PermanentError
from shared.pricing import _load, catalog, micros_to_usd, usd_to_micros
from shared.request import parse_request


def request(**over):
    msg = {"schema": "media.request.v1", "request_id": "req-0001", "campaign_id": "c1",
           "session_id": "s1", "turn_number": 1, "kind": "cutscene",
           "cutscene_type": "plot_twist", "image_prompt": "p", "motion_prompt": "m"}
    msg.update(over)
    return parse_request(msg, "b")


def test_every_entry_has_a_source_and_date():
    data = catalog().data
    for entry in data["images"] + data["videos"]:
        assert entry["source"].startswith("https://")
        assert entry["as_of"] and isinstance(entry["third_party"], bool)
    for quality in ("draft", "standard", "premium"):
        models = catalog().models_for(quality)
        assert models["image_model"] and models["video_model"]


def test_money_is_exact_in_micros():
    assert usd_to_micros("0.067") == 67_000
    assert sum(usd_to_micros("0.1") for _ in range(10)) == usd_to_micros("1.0")
    assert micros_to_usd(867_000) == 0.867


def test_estimate_follows_the_request_duration_and_quality():
    standard = plan_for(request(duration_seconds=4), MediaSettings())
    assert standard.video_model == "veo-3.1-fast-generate-001"
    assert standard.video_micros == 4 * 100_000
    premium = plan_for(request(), MediaSettings(quality="premium"))
    assert premium.duration_seconds == 8
    assert premium.video_micros == 8 * 400_000 and premium.image_micros == 134_000
    draft = plan_for(request(duration_seconds=6), MediaSettings(quality="draft"))
    assert draft.video_micros == 6 * 50_000


def test_stills_have_no_video_cost():
    plan = plan_for(request(kind="location_visual", subject="The Spire"), MediaSettings())
    assert plan.video_model is None and plan.video_micros == 0


def test_unknown_model_is_a_permanent_error():
    with pytest.raises(PermanentError):
        plan_for(request(), MediaSettings(video_model="veo-9"))


def test_operator_catalog_overrides_prices(tmp_path):
    data = json.loads(json.dumps(catalog().data))
    data["videos"][2]["usd_per_second"] = "0.5"
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data))
    plan = plan_for(request(duration_seconds=4), MediaSettings(), _load(str(path)))
    assert plan.video_micros == 2_000_000
