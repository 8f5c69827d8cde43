import json

import pytest

from shared.core.errors import PermanentError
from shared.domain.campaign import MediaSettings, plan_for
from shared.domain.pricing import _load, catalog, micros_to_usd, usd_to_micros
from shared.domain.request import parse_request


def request(**over):
    msg = {
        "schema": "media.request.v1",
        "request_id": "req-0001",
        "campaign_id": "c1",
        "session_id": "s1",
        "turn_number": 1,
        "kind": "cutscene",
        "cutscene_type": "plot_twist",
        "image_prompt": "p",
        "motion_prompt": "m",
    }
    msg.update(over)
    return parse_request(msg, "b")


def test_every_entry_has_a_source_and_date():
    data = catalog().data
    for entry in data["images"] + data["videos"] + data["image_inputs"]:
        assert entry["quotes"]
        for quote in entry["quotes"]:
            assert "https://cloud.google.com/" in quote["source"]
            assert quote["as_of"] and isinstance(quote["third_party"], bool)
            # A third-party figure says so in its source too, not only in a flag.
            if quote["third_party"]:
                assert "transcription" in quote["source"]
            else:
                assert quote["source"].startswith("https://cloud.google.com/")
    # The models' own sources (id and each location) are checked in test_catalog_sources.
    for model, where in data["models"].items():
        assert where["locations"] and where["id_source"]["url"].startswith("https://"), model
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
    # Fast Veo's quotes disagree ($0.10 and $0.15 at 720p): the higher is charged.
    assert standard.video_micros == 4 * 150_000
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
    data["videos"][2] = {
        "model": "veo-3.1-fast-generate-001",
        "resolution": "720p",
        "audio": True,
        "usd_per_second": "0.5",
    }  # a bare figure still reads
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data))
    plan = plan_for(request(duration_seconds=4), MediaSettings(), _load(str(path)))
    assert plan.video_micros == 2_000_000


def test_operator_picks_which_disagreeing_quote_to_charge(tmp_path):
    data = json.loads(json.dumps(catalog().data))
    fast = data["videos"][2]
    low = min(fast["quotes"], key=lambda q: float(q["usd_per_second"]))
    fast["charge_source"] = low["source"]
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data))
    plan = plan_for(request(duration_seconds=4), MediaSettings(), _load(str(path)))
    assert plan.video_micros == 4 * 100_000
    fast["charge_source"] = "https://nowhere.example"
    path.write_text(json.dumps(data))
    with pytest.raises(PermanentError):
        plan_for(request(duration_seconds=4), MediaSettings(), _load(str(path)))


def test_reference_images_are_part_of_a_stills_price():
    refs = [f"gs://b/refs/c1/characters/n{i}.png" for i in range(3)]
    plain = plan_for(request(kind="npc_portrait", subject="Rei"), MediaSettings())
    sheets = plan_for(
        request(kind="npc_portrait", subject="Rei", reference_images=refs), MediaSettings()
    )
    # 1120 input tokens each at $0.50 per million tokens on gemini-3.1-flash-image-preview.
    assert sheets.image_micros - plain.image_micros == 3 * 560
    premium = plan_for(
        request(kind="npc_portrait", subject="Rei", reference_images=refs),
        MediaSettings(quality="premium"),
    )
    assert premium.image_micros == 134_000 + 3 * 2240  # $2.00 per million on the pro model


def test_micros_print_as_exact_decimals() -> None:
    from shared.domain.pricing import micros_to_decimal

    assert [micros_to_decimal(m) for m in (0, 1, 40_000, 3_200_000, 12_345_678)] == [
        "0",
        "0.000001",
        "0.04",
        "3.2",
        "12.345678",
    ]
