"""Control routes, error JSON, counters, robustness."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

GEN = (
    "/v1beta1/projects/p/locations/global/publishers/google/models/gemini-3.1-flash-image-preview"
    ":generateContent"
)
PLR = (
    "/v1beta1/projects/p/locations/us-central1/publishers/google/models/"
    "veo-3.1-fast-generate-001:predictLongRunning"
)


def test_calls_start_at_zero_and_count(raw, control):
    zero = {"generateContent": 0, "predictLongRunning": 0, "fetchPredictOperation": 0}
    assert control("GET", "calls") == (
        200,
        {**zero, "rejected": zero, "jobs": {}, "by_model": {}},
    )
    raw("POST", GEN, {"contents": [{"role": "user", "parts": [{"text": "a"}]}]})
    raw("POST", GEN, b"{not json")  # malformed, still a call
    raw(
        "POST",
        GEN.replace("generateContent", "fetchPredictOperation"),
        {"operationName": "projects/p/locations/l/publishers/google/models/m/operations/x"},
    )
    assert control("GET", "calls")[1] == {
        "generateContent": 2,
        "predictLongRunning": 0,
        "fetchPredictOperation": 1,
        "rejected": zero,
        "jobs": {},
        "by_model": {
            "gemini-3.1-flash-image-preview": {
                **zero,
                "generateContent": 2,
                "fetchPredictOperation": 1,
                "rejected": 0,
            }
        },
    }


def test_reset_restores_defaults(control):
    control("POST", "latency", {"image_s": 2, "video_s": 3})
    control("POST", "faults", {"method": "generateContent", "kind": "http", "status": 429})
    assert control("GET", "faults")[1]["generateContent"]
    assert control("POST", "reset", {}) == (200, {"reset": True})
    assert control("GET", "latency") == (200, {"image_s": 0.0, "video_s": 0.0})
    assert control("GET", "faults")[1] == {
        "generateContent": [],
        "predictLongRunning": [],
        "fetchPredictOperation": [],
    }


def test_latency_keys_are_optional(control):
    assert control("POST", "latency", {"video_s": 1.5}) == (200, {"image_s": 0.0, "video_s": 1.5})
    assert control("POST", "latency", {"image_s": 0.25}) == (200, {"image_s": 0.25, "video_s": 1.5})


@pytest.mark.parametrize(
    ("route", "body", "needle"),
    [
        ("faults", {"method": "nope", "kind": "http"}, "method"),
        ("faults", {"method": "generateContent", "kind": "explode"}, "kind"),
        ("faults", {"method": "generateContent", "kind": "op_error"}, "does not apply"),
        ("faults", {"method": "generateContent", "kind": "no_video"}, "does not apply"),
        ("faults", {"method": "generateContent", "kind": "http", "status": 200}, "status"),
        ("faults", {"method": "generateContent", "kind": "http", "count": 0}, "count"),
        ("faults", {"method": "generateContent", "kind": "http", "cuont": 2}, "unknown keys"),
        ("faults", [1, 2], "object"),
        ("faults", b"{oops", "Invalid JSON"),
        ("latency", {"image_s": -1}, "image_s"),
        ("latency", {"image_s": "slow"}, "image_s"),
        ("latency", {"audio_s": 1}, "unknown keys"),
        ("options", {"thought_parts": "yes"}, "thought_parts"),
    ],
)
def test_bad_control_bodies_are_400(control, route, body, needle):
    status, answer = control("POST", route, body)
    assert status == 400
    assert answer["error"]["code"] == 400
    assert answer["error"]["status"] == "INVALID_ARGUMENT"
    assert needle in answer["error"]["message"]


def test_unknown_routes_are_404_json(raw, control):
    for method, path in [
        ("GET", "/"),
        ("POST", "/v1beta1/whatever"),
        ("POST", GEN.replace("generateContent", "predict")),
        ("GET", "/_emulator/nothing"),
    ]:
        status, body = raw(method, path, {} if method == "POST" else None)
        assert status == 404, path
        assert body["error"]["status"] == "NOT_FOUND"


@pytest.mark.parametrize("body", [b"{", b"[1]", b"\xff\xfe", b'"str"'])
def test_malformed_model_bodies_are_400_not_crashes(raw, body):
    status, answer = raw("POST", GEN, body)
    assert status == 400
    assert answer["error"]["status"] == "INVALID_ARGUMENT"
    # still alive
    assert raw("GET", "/_emulator/calls")[0] == 200


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"contents": "x"},
        {"contents": [{"parts": "x"}]},
        {"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "%%%"}}]}]},
        {"contents": [{"parts": [{"text": "x"}]}], "generationConfig": []},
    ],
)
def test_bad_generate_content_bodies_are_400(raw, body):
    assert raw("POST", GEN, body)[0] == 400


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"instances": []},
        {"instances": [{}]},
        {"instances": [{"prompt": "x"}], "parameters": {"sampleCount": 9}},
        {"instances": [{"prompt": "x"}], "parameters": {"storageUri": "s3://b/x"}},
        {"instances": [{"prompt": "x", "image": {"mimeType": "image/png"}}]},
    ],
)
def test_bad_predict_bodies_are_400(raw, body):
    assert raw("POST", PLR, body)[0] == 400


def test_get_on_operation_name(raw):
    status, body = raw(
        "POST",
        PLR,
        {"instances": [{"prompt": "x"}], "parameters": {"durationSeconds": 4}},
    )
    assert status == 200
    status, op = raw("GET", "/v1beta1/" + body["name"])
    assert status == 200 and op["name"] == body["name"]


def test_requests_are_recorded_with_their_reference_images(raw, control):
    assert control("GET", "requests") == (200, {"requests": []})
    body = {
        "contents": [
            {
                "role": "user",
                "parts": [
                    {
                        "fileData": {
                            "fileUri": "https://example.invalid/rei.png",
                            "mimeType": "image/png",
                        }
                    },
                    {"text": "Rei on the bridge"},
                ],
            }
        ],
        "generationConfig": {"responseModalities": ["IMAGE"]},
    }
    assert raw("POST", GEN, body)[0] == 200
    (entry,) = control("GET", "requests")[1]["requests"]
    assert entry == {
        "method": "generateContent",
        "model": "gemini-3.1-flash-image-preview",
        "prompt": "Rei on the bridge",
        "file_uris": ["https://example.invalid/rei.png"],
        "inline_images": 0,
        "output_mime_type": None,
    }
    control("POST", "reset", {})
    assert control("GET", "requests")[1] == {"requests": []}
