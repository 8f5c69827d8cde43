"""Image-model calls paced per model and adaptive (shared/store/image_pacing.py):
the image model's quota lowered mid-burst (a 429 storm) costs no still."""

from __future__ import annotations

from shared.domain.pricing import catalog
from tests.integration.helpers import cutscene, emulator, enable, publish, wait_terminal


def test_a_quota_lowered_mid_burst_fails_no_still(stack):
    # Time compressed to a 2 s "minute": the pipeline's ceiling is 20 calls a
    # window; the emulator serves 20, then 1, per window. (The design before,
    # unpaced, side by side with this one: python -m bench.images.)
    model = catalog().models_for("standard")["image_model"]
    stack.restart_function(
        "render_still", {"MEDIA_IMAGE_CALLS_PER_MIN": "20", "MEDIA_VEO_PACING_WINDOW_S": "2"}
    )
    quota = {"model": model, "window_s": 2}
    try:
        emulator(stack, "POST", "/_emulator/quota", {**quota, "per_minute": 20})
        enable(budget=20.0)
        stills = [
            cutscene(
                n,
                kind="npc_portrait",
                subject="Rei",
                cutscene_type=None,
                motion_prompt=None,
                duration_seconds=None,
            )
            for n in range(1, 7)
        ]
        for msg in stills[:2]:
            publish(msg)
        emulator(stack, "POST", "/_emulator/quota", {**quota, "per_minute": 1})
        for msg in stills[2:]:
            publish(msg)
        docs = [wait_terminal("c1", m["request_id"], timeout=180) for m in stills]
        assert {d["status"] for d in docs} == {"complete"}, docs
        counted = emulator(stack, "GET", "/_emulator/calls")["by_model"][model]
        # Each still paid once; 429s met on the way were taken again, no intent each.
        assert counted["generateContent"] - counted["rejected"] == len(stills), counted
        assert max(d["calls"]["rendering_image"] for d in docs) <= 2, docs
    finally:
        emulator(stack, "POST", "/_emulator/quota", {**quota, "per_minute": 0})
        stack.restart_function("render_still", {})
