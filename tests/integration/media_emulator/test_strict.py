"""The emulator refuses what Vertex refuses (infra/media_emulator/models.py has
the sources), driven through the real google-genai client."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from google import genai
from google.genai import errors, types
from google.oauth2.credentials import Credentials

from .conftest import BUCKET
from .test_videos import png, wait

pytestmark = pytest.mark.integration

FLASH_IMAGE = "gemini-3.1-flash-image-preview"
IMAGE_CONFIG = types.GenerateContentConfig(
    response_modalities=["IMAGE"],
    image_config=types.ImageConfig(aspect_ratio="16:9", image_size="1K"),
)


def still(client, model: str = FLASH_IMAGE):
    return client.models.generate_content(model=model, contents="a lighthouse", config=IMAGE_CONFIG)


def clip(client, model: str = "veo-3.1-fast-generate-001", out: str | None = None, **config):
    config = {"duration_seconds": 4, "resolution": "720p", **config}
    return client.models.generate_videos(
        model=model,
        source=types.GenerateVideosSource(
            prompt="slow push in", image=types.Image(image_bytes=png(), mime_type="image/png")
        ),
        config=types.GenerateVideosConfig(output_gcs_uri=out, **config),
    )


def assert_not_found(exc: pytest.ExceptionInfo) -> None:
    assert exc.value.code == 404 and exc.value.status == "NOT_FOUND"


def test_flash_image_is_served_from_global_only(client_at):
    # The mistake issue 14 found: every still would fail at us-central1.
    with pytest.raises(errors.ClientError) as exc:
        still(client_at("us-central1"))
    assert_not_found(exc)
    assert "served from ['global']" in exc.value.message
    assert still(client_at("global")).candidates[0].content.parts[0].inline_data.data


def test_pro_image_is_served_from_global_and_us_central1(client_at):
    for location in ("global", "us-central1"):
        assert still(client_at(location), "gemini-3-pro-image").candidates
    with pytest.raises(errors.ClientError) as exc:
        still(client_at("europe-west4"), "gemini-3-pro-image")
    assert_not_found(exc)


def test_veo_is_not_served_from_global(client_at):
    with pytest.raises(errors.ClientError) as exc:
        clip(client_at("global"))
    assert_not_found(exc)


@pytest.mark.parametrize("model", ["imagen-3.0-generate-002", "gemini-9-image"])
def test_unknown_image_models_are_404(client_at, model):
    with pytest.raises(errors.ClientError) as exc:
        still(client_at("global"), model)
    assert_not_found(exc)


@pytest.mark.parametrize(
    "model", ["veo-3.0-generate-preview", "veo-2.0-generate-001", "gemini-3.1-flash-image-preview"]
)
def test_unknown_video_models_are_404(client_at, model):
    with pytest.raises(errors.ClientError) as exc:
        clip(client_at("us-central1"), model)
    assert_not_found(exc)


@pytest.mark.parametrize("seconds", [2, 5, 7, 10])
def test_only_4_6_8_seconds(client, seconds):
    with pytest.raises(errors.ClientError) as exc:
        clip(client, duration_seconds=seconds)
    assert exc.value.code == 400 and exc.value.status == "INVALID_ARGUMENT"


def test_six_seconds_is_accepted(client):
    assert wait(client, clip(client, duration_seconds=6)).response.generated_videos


def test_4k_for_full_and_fast_not_lite(client):
    with pytest.raises(errors.ClientError) as exc:
        clip(client, "veo-3.1-lite-generate-001", resolution="4k")
    assert exc.value.code == 400 and "lite" in exc.value.message
    for model in ("veo-3.1-generate-001", "veo-3.1-fast-generate-001"):
        assert clip(client, model, resolution="4k").name  # accepted (not waited for)


@pytest.mark.parametrize("aspect", ["1:1", "4:3", "21:9"])
def test_video_aspect_ratios(client, aspect):
    with pytest.raises(errors.ClientError) as exc:
        clip(client, aspect_ratio=aspect)
    assert exc.value.code == 400


def test_audio_track_when_asked(client, gcs_get, probe):
    with_audio = wait(client, clip(client, out=f"gs://{BUCKET}/strict/a/", generate_audio=True))
    silent = wait(client, clip(client, out=f"gs://{BUCKET}/strict/b/", generate_audio=False))
    loud = probe(gcs_get(with_audio.response.generated_videos[0].video.uri))["stderr"]
    quiet = probe(gcs_get(silent.response.generated_videos[0].video.uri))["stderr"]
    assert "Audio: aac" in loud
    assert "Audio:" not in quiet


def test_running_operation_has_no_done_field(client, control, emulator_url):
    control("POST", "latency", {"video_s": 30.0})
    op = clip(client)
    req = urllib.request.Request(
        f"{emulator_url}/v1beta1/{op.name.rsplit('/operations/', 1)[0]}:fetchPredictOperation",
        data=json.dumps({"operationName": op.name}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        answer = json.loads(resp.read())
    assert answer == {"name": op.name}
    assert not client.operations.get(op).done  # the SDK reads the absence as "not done"


def test_output_under_numeric_folder(client):
    out = f"gs://{BUCKET}/strict/numeric/"
    op = wait(client, clip(client, out=out))
    uri = op.response.generated_videos[0].video.uri
    folder = uri[len(out) :].split("/")
    assert folder[0].isdigit() and folder[1:] == ["sample_0.mp4"]


def test_quota_per_minute_answers_429_and_counts_rejections(client, client_at, control):
    assert control("POST", "quota", {"method": "predictLongRunning", "per_minute": 2})[0] == 200
    assert control("POST", "quota", {"method": "generateContent", "per_minute": 1})[0] == 200
    clip(client)
    clip(client)
    with pytest.raises(errors.ClientError) as exc:
        clip(client)
    assert exc.value.code == 429 and exc.value.status == "RESOURCE_EXHAUSTED"
    still(client_at("global"))
    for _ in range(2):
        with pytest.raises(errors.ClientError):
            still(client_at("global"))
    calls = control("GET", "calls")[1]
    assert calls["predictLongRunning"] == 3 and calls["generateContent"] == 3
    assert calls["rejected"] == {
        "predictLongRunning": 1,
        "generateContent": 2,
        "fetchPredictOperation": 0,
    }
    # 0 lifts the limit again.
    control("POST", "quota", {"method": "predictLongRunning", "per_minute": 0})
    assert clip(client).name


def test_quota_rejects_bad_specs(control):
    assert control("POST", "quota", {"method": "nope", "per_minute": 1})[0] == 400
    assert control("POST", "quota", {"method": "generateContent", "per_minute": -1})[0] == 400
    assert control("POST", "quota", {"method": "generateContent", "limit": 1})[0] == 400
    assert (
        control("POST", "quota", {"method": "generateContent", "per_minute": 1, "window_s": 0})[0]
        == 400
    )


def test_a_compressed_benchmark_shortens_the_quota_window(monkeypatch):
    from infra.media_emulator import quota

    book = quota.QuotaBook()
    book.set("predictLongRunning", 2, window_s=20.0)
    now = [1000.0]
    monkeypatch.setattr(quota.time, "monotonic", lambda: now[0])
    assert book.admit("predictLongRunning") and book.admit("predictLongRunning")
    now[0] += 19.5
    assert not book.admit("predictLongRunning")
    now[0] += 0.6
    assert book.admit("predictLongRunning")


def test_quota_is_a_rolling_window(monkeypatch):
    from infra.media_emulator import quota

    book = quota.QuotaBook()
    book.set("predictLongRunning", 1)
    now = [1000.0]
    monkeypatch.setattr(quota.time, "monotonic", lambda: now[0])
    assert book.admit("predictLongRunning")
    now[0] += 59.0
    assert not book.admit("predictLongRunning")
    now[0] += 1.5
    assert book.admit("predictLongRunning")


def test_created_fault_loses_the_answer_but_the_clip_lands(client, control, gcs_url):
    control(
        "POST",
        "faults",
        {"method": "predictLongRunning", "kind": "http", "status": 503, "created": True},
    )
    out = f"gs://{BUCKET}/strict/lost/"
    with pytest.raises(errors.ServerError):
        clip(client, out=out)
    deadline = time.monotonic() + 60
    prefix = "strict/lost/"
    url = f"{gcs_url}/storage/v1/b/{BUCKET}/o?prefix={prefix}"
    while True:
        with urllib.request.urlopen(url, timeout=10) as resp:
            items = json.loads(resp.read()).get("items", [])
        if items:
            break
        assert time.monotonic() < deadline, "the lost operation never wrote its clip"
        time.sleep(0.2)
    assert items[0]["name"].endswith("/sample_0.mp4")


def test_a_model_lookup_answers_where_the_catalog_serves_it(emulator_url, control):
    # models.get, as `cutscenes preflight` asks: no generation is counted. The
    # SDK puts the location in the host only, so base_url carries it here.
    # (each client is kept in a name: genai closes a collected client's HTTP client)
    at = {
        location: genai.Client(
            vertexai=True,
            project="p",
            location=location,
            credentials=Credentials(token="x"),
            http_options=types.HttpOptions(base_url=f"{emulator_url}/locations/{location}/"),
        )
        for location in ("global", "us-central1")
    }
    found = at["global"].models.get(model=FLASH_IMAGE)
    assert found.name == f"publishers/google/models/{FLASH_IMAGE}"
    assert at["us-central1"].models.get(model="veo-3.1-fast-generate-001").name
    for location, model in (
        ("us-central1", FLASH_IMAGE),  # served from global only
        ("global", "veo-3.1-fast-generate-001"),  # Veo is regional
        ("global", "imagen-2-no-such-model"),
    ):
        with pytest.raises(errors.ClientError) as exc:
            at[location].models.get(model=model)
        assert_not_found(exc)
    _, calls = control("GET", "calls")
    assert calls["generateContent"] == 0 and calls["predictLongRunning"] == 0
