"""Injected faults, seen through the real google-genai client."""

from __future__ import annotations

import threading
import time

import pytest
from google.genai import errors, types

from .conftest import BUCKET
from .test_images import MODEL as IMAGE_MODEL
from .test_images import final_image, image_config
from .test_videos import start, wait

pytestmark = pytest.mark.integration


def gen(client, prompt="a knight"):
    return client.models.generate_content(model=IMAGE_MODEL, contents=prompt, config=image_config())


def fault(control, method, kind, **extra):
    status, body = control("POST", "faults", {"method": method, "kind": kind, **extra})
    assert status == 200, body


# ---- generateContent -----------------------------------------------------------------


def test_429_raises_client_error_then_recovers(client, control):
    fault(control, "generateContent", "http", status=429, count=2)
    for _ in range(2):
        with pytest.raises(errors.ClientError) as exc:
            gen(client)
        assert exc.value.code == 429
        assert exc.value.status == "RESOURCE_EXHAUSTED"
        assert exc.value.message
    assert final_image(gen(client)).size == (1024, 576)
    assert control("GET", "calls")[1]["generateContent"] == 3


@pytest.mark.parametrize(
    ("code", "status"), [(503, "UNAVAILABLE"), (500, "INTERNAL"), (504, "DEADLINE_EXCEEDED")]
)
def test_5xx_raises_server_error(client, control, code, status):
    fault(control, "generateContent", "http", status=code)
    with pytest.raises(errors.ServerError) as exc:
        gen(client)
    assert (exc.value.code, exc.value.status) == (code, status)


def test_403_permission_denied(client, control):
    fault(control, "generateContent", "http", status=403)
    with pytest.raises(errors.ClientError) as exc:
        gen(client)
    assert (exc.value.code, exc.value.status) == (403, "PERMISSION_DENIED")


def test_blocked_alternates_prompt_feedback_and_image_safety(client, control):
    fault(control, "generateContent", "blocked", count=2)
    first = gen(client)
    assert first.prompt_feedback.block_reason == types.BlockedReason.SAFETY
    assert not first.candidates
    second = gen(client)
    cand = second.candidates[0]
    assert cand.finish_reason == types.FinishReason.IMAGE_SAFETY
    assert cand.content is None  # no image part at all
    assert second.prompt_feedback is None
    assert final_image(gen(client))  # the fault is used up


def test_blocked_variant_can_be_pinned(client, control):
    fault(control, "generateContent", "blocked", variant="finish")
    assert gen(client).candidates[0].finish_reason == types.FinishReason.IMAGE_SAFETY


def test_blocked_honours_latency(client, control):
    control("POST", "latency", {"image_s": 0.3})
    fault(control, "generateContent", "blocked")
    t = time.monotonic()
    gen(client)
    assert time.monotonic() - t >= 0.3


def test_hang_answers_504_after_hang_s(client, control):
    fault(control, "generateContent", "hang", hang_s=0.4)
    t = time.monotonic()
    with pytest.raises(errors.ServerError) as exc:
        gen(client)
    assert exc.value.code == 504
    assert time.monotonic() - t >= 0.4


def test_hang_is_released_by_clearing_faults(client, control):
    fault(control, "generateContent", "hang")  # an hour, by default
    outcome: list = []

    def call():
        try:
            gen(client)
        except errors.APIError as exc:
            outcome.append(exc.code)

    th = threading.Thread(target=call)
    th.start()
    time.sleep(0.3)
    assert th.is_alive()
    assert control("DELETE", "faults")[0] == 200
    th.join(5)
    assert not th.is_alive() and outcome == [504]


# ---- predictLongRunning ----------------------------------------------------------------


def test_video_http_429_creates_no_operation(client, control):
    fault(control, "predictLongRunning", "http", status=429)
    with pytest.raises(errors.ClientError) as exc:
        start(client)
    assert exc.value.code == 429
    assert control("GET", "calls")[1]["predictLongRunning"] == 1
    assert control("GET", "calls")[1]["jobs"] == {}  # refused: no job, nothing to pay


def test_op_error(client, control):
    fault(control, "predictLongRunning", "op_error")
    op = wait(client, start(client, out=f"gs://{BUCKET}/veo-out/err/"))
    assert op.done and op.error == {"code": 13, "message": op.error["message"]}
    assert op.response is None


def test_no_video(client, control):
    fault(control, "predictLongRunning", "no_video")
    op = wait(client, start(client, out=f"gs://{BUCKET}/veo-out/none/"))
    assert op.error is None
    assert op.response is not None and not op.response.generated_videos


def test_blocked_video(client, control):
    fault(control, "predictLongRunning", "blocked")
    op = wait(client, start(client, out=f"gs://{BUCKET}/veo-out/blocked/"))
    assert op.error is None
    assert op.response.rai_media_filtered_count == 1
    assert op.response.rai_media_filtered_reasons and op.response.rai_media_filtered_reasons[0]
    assert not op.response.generated_videos


def test_outcome_faults_wait_for_video_latency(client, control):
    control("POST", "latency", {"video_s": 0.5})
    fault(control, "predictLongRunning", "op_error")
    t = time.monotonic()
    op = start(client)
    assert not client.operations.get(op).done
    wait(client, op)
    assert time.monotonic() - t >= 0.5


def test_a_slow_start_answers_late_with_a_job_that_renders_meanwhile(client, control):
    fault(control, "predictLongRunning", "slow", delay_s=0.8)
    t = time.monotonic()
    op = start(client, out=f"gs://{BUCKET}/veo-out/slow/")
    assert time.monotonic() - t >= 0.8  # the answer came late ...
    assert wait(client, op).response.generated_videos  # ... naming a job that renders
    counted = control("GET", "calls")[1]
    assert counted["predictLongRunning"] == 1
    assert counted["jobs"] == {f"gs://{BUCKET}/veo-out/slow/": 1}


def test_a_slow_fault_needs_its_delay(control):
    status, body = control("POST", "faults", {"method": "predictLongRunning", "kind": "slow"})
    assert status == 400 and "delay_s" in body["error"]["message"]


def test_hang_never_finishes(client, control):
    control("POST", "latency", {"video_s": 0.2})
    fault(control, "predictLongRunning", "hang")
    op = start(client)
    time.sleep(0.6)
    for _ in range(3):
        op = client.operations.get(op)
        assert not op.done
    # Other operations are unaffected.
    assert wait(client, start(client)).response.generated_videos


# ---- fetchPredictOperation -------------------------------------------------------------


def test_poll_http_fault_fails_that_poll_only(client, control):
    op = start(client)
    fault(control, "fetchPredictOperation", "http", status=503)
    with pytest.raises(errors.ServerError) as exc:
        client.operations.get(op)
    assert exc.value.code == 503
    assert wait(client, op).response.generated_videos
    assert control("GET", "calls")[1]["fetchPredictOperation"] >= 2


def test_poll_outcome_fault_settles_the_operation(client, control):
    control("POST", "latency", {"video_s": 60})
    op = start(client)
    fault(control, "fetchPredictOperation", "op_error")
    op = client.operations.get(op)
    assert op.done and op.error["code"] == 13
    assert client.operations.get(op).error["code"] == 13  # and it stays that way


def test_poll_hang_fault(client, control):
    op = start(client)
    fault(control, "fetchPredictOperation", "hang")
    time.sleep(0.5)
    assert not client.operations.get(op).done
    assert not client.operations.get(op).done
