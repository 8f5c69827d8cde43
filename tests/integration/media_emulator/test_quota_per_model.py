"""Quotas per base model and region (POST /_emulator/quota with "model" and
"location"), as Vertex enforces them, and the calls counted per model
(GET /_emulator/calls "by_model"), through the real google-genai client."""

from __future__ import annotations

import pytest
from google.genai import errors

from infra.media_emulator import quota

from .test_strict import clip, still

pytestmark = pytest.mark.integration

LITE = "veo-3.1-lite-generate-001"
FAST = "veo-3.1-fast-generate-001"
FULL = "veo-3.1-generate-001"
PRO_IMAGE = "gemini-3-pro-image"


def refused(call) -> None:
    with pytest.raises(errors.ClientError) as exc:
        call()
    assert exc.value.code == 429 and exc.value.status == "RESOURCE_EXHAUSTED"


def test_each_veo_model_has_its_own_quota_and_count(client, control):
    # No method: a model's quota counts what makes its media, the Veo start.
    assert control("POST", "quota", {"model": LITE, "per_minute": 2})[0] == 200
    status, answer = control("POST", "quota", {"model": FAST, "per_minute": 1})
    assert status == 200
    assert answer == {
        "quota": {},
        "by_model": [
            {
                "model": FAST,
                "location": None,
                "method": "predictLongRunning",
                "per_minute": 1,
                "window_s": 60.0,
            },
            {
                "model": LITE,
                "location": None,
                "method": "predictLongRunning",
                "per_minute": 2,
                "window_s": 60.0,
            },
        ],
    }
    assert control("GET", "quota") == (200, answer)
    clip(client, LITE)
    clip(client, FAST)
    clip(client, LITE)
    refused(lambda: clip(client, LITE))
    refused(lambda: clip(client, FAST))
    for _ in range(3):  # a model with no quota of its own is not held back
        clip(client, FULL)
    calls = control("GET", "calls")[1]
    zero = {"generateContent": 0, "predictLongRunning": 0, "fetchPredictOperation": 0}
    assert calls["by_model"] == {
        LITE: {**zero, "predictLongRunning": 3, "rejected": 1},
        FAST: {**zero, "predictLongRunning": 2, "rejected": 1},
        FULL: {**zero, "predictLongRunning": 3, "rejected": 0},
    }
    assert calls["predictLongRunning"] == 8 and calls["rejected"]["predictLongRunning"] == 2
    # 0 lifts a model's quota again; the other's stays.
    control("POST", "quota", {"model": LITE, "per_minute": 0})
    clip(client, LITE)
    refused(lambda: clip(client, FAST))


def test_a_quota_is_per_region_as_vertex_counts_it(client_at, control):
    # Named with a location: that region's alone.
    control("POST", "quota", {"model": PRO_IMAGE, "location": "global", "per_minute": 1})
    still(client_at("global"), PRO_IMAGE)
    refused(lambda: still(client_at("global"), PRO_IMAGE))
    for _ in range(2):
        still(client_at("us-central1"), PRO_IMAGE)
    # Named without one: the same limit in each region, counted separately.
    control("POST", "reset", {})
    control("POST", "quota", {"model": PRO_IMAGE, "per_minute": 1})
    for location in ("global", "us-central1"):
        still(client_at(location), PRO_IMAGE)
        refused(lambda location=location: still(client_at(location), PRO_IMAGE))
    # The other image model is not counted against it.
    still(client_at("global"))
    assert control("GET", "calls")[1]["by_model"][PRO_IMAGE]["rejected"] == 2


def test_a_call_must_fit_the_method_quota_and_its_models(client, control):
    control("POST", "quota", {"method": "predictLongRunning", "per_minute": 2})
    control("POST", "quota", {"model": LITE, "per_minute": 5})
    clip(client, LITE)
    clip(client, FAST)
    refused(lambda: clip(client, LITE))  # the method's quota is used up
    control("POST", "quota", {"method": "predictLongRunning", "per_minute": 0})
    for _ in range(4):  # the refused call used up none of the model's five
        clip(client, LITE)
    refused(lambda: clip(client, LITE))


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"model": "veo-9", "per_minute": 1}, "model must be"),
        (
            {"method": "predictLongRunning", "location": "us-central1", "per_minute": 1},
            "needs a model",
        ),
        ({"model": LITE, "location": "europe-west4", "per_minute": 1}, "served only from"),
        ({"model": LITE, "method": "generateContent", "per_minute": 1}, "not called with"),
        ({"model": LITE, "per_minute": -1}, "per_minute"),
        ({"model": LITE, "per_minute": 1, "region": "x"}, "unknown keys"),
    ],
)
def test_bad_model_quotas_are_400(control, body, needle):
    status, answer = control("POST", "quota", body)
    assert status == 400 and needle in answer["error"]["message"], answer


def test_a_models_quota_is_a_rolling_window_per_region(monkeypatch):
    book = quota.QuotaBook()
    book.set("predictLongRunning", 1, window_s=20.0, model=FAST)
    now = [1000.0]
    monkeypatch.setattr(quota.time, "monotonic", lambda: now[0])
    assert book.admit("predictLongRunning", FAST, "us-central1")
    assert book.admit("predictLongRunning", FAST, "europe-west4")  # another region
    assert book.admit("predictLongRunning", LITE, "us-central1")  # another model
    assert not book.admit("predictLongRunning", FAST, "us-central1")
    now[0] += 20.0
    assert book.admit("predictLongRunning", FAST, "us-central1")
