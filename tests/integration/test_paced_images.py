"""Image-model calls paced to a project-wide budget (MEDIA_IMAGE_CALLS_PER_MIN):
a burst of stills under the image model's quota meets no 429."""

from __future__ import annotations

from tests.integration.helpers import calls, cutscene, emulator, enable, publish, wait_terminal


def test_a_burst_of_stills_keeps_to_the_image_budget_without_429s(stack):
    # The emulator serves 2 image calls per 4 s window; the pipeline's budget
    # is the same 2 per 4 s (counted over 6 s). Unpaced, a burst of 6 would
    # meet 429s and wait them out.
    env = {"MEDIA_IMAGE_CALLS_PER_MIN": "2", "MEDIA_VEO_PACING_WINDOW_S": "4"}
    stack.restart_function("render_still", env)
    try:
        emulator(
            stack,
            "POST",
            "/_emulator/quota",
            {"method": "generateContent", "per_minute": 2, "window_s": 4},
        )
        enable(budget=20.0)
        messages = [cutscene(n) for n in range(1, 7)]
        for msg in messages:
            publish(msg)
        docs = [wait_terminal("c1", m["request_id"], timeout=180) for m in messages]
        assert {d["status"] for d in docs} == {"complete"}, docs
        counted = calls(stack)
        assert counted["rejected"]["generateContent"] == 0, counted
        assert counted["generateContent"] == 6, counted
    finally:
        stack.restart_function("render_still", {})
