"""Each Veo model paced to its own quota (MEDIA_MODEL_QUOTAS) on the real
stack: two campaigns on different quality tiers, so different Veo models,
against a media emulator that enforces a quota per base model and region.
Both models' starts proceed at their own rate, neither waits on the other's
budget, and Veo answers no 429."""

from __future__ import annotations

import json

from shared.store import ledger, pacing
from shared.store.connections import firestore_client
from tests.integration.helpers import calls, cutscene, emulator, enable, publish, wait_terminal
from tests.integration.test_paced_starts import restart_paced

LITE = "veo-3.1-lite-generate-001"  # the draft tier's Veo model
FAST = "veo-3.1-fast-generate-001"  # the standard tier's
# A compressed "minute", the pipeline's and the emulator's. The log's margin
# over Veo's window is one start interval (WINDOW_S / QUOTA): at 8 s (2.7 s)
# a machine at load 20 took longer than that from token to Veo now and then.
WINDOW_S = 16.0
QUOTA = 3  # starts per window, per model
CLIPS = 6  # per campaign: two windows' worth of one model's quota


def most_in_a_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + window) for t in times)


def test_two_models_start_at_their_own_rates_with_no_429s(stack):
    restart_paced(
        stack,
        {
            "MEDIA_MODEL_QUOTAS": json.dumps({LITE: QUOTA, FAST: QUOTA}),
            "MEDIA_VEO_PACING_WINDOW_S": str(WINDOW_S),
        },
    )
    try:
        for model in (LITE, FAST):
            emulator(
                stack,
                "POST",
                "/_emulator/quota",
                {
                    "model": model,
                    "location": "us-central1",
                    "per_minute": QUOTA,
                    "window_s": WINDOW_S,
                },
            )
        enable("drafty", budget=20.0, quality="draft")
        enable("standard", budget=20.0, quality="standard")
        messages = [
            cutscene(n, campaign_id=campaign)
            for campaign in ("drafty", "standard")
            for n in range(1, CLIPS + 1)
        ]
        for msg in messages:
            publish(msg)
        docs = [wait_terminal(m["campaign_id"], m["request_id"], timeout=180) for m in messages]
        assert [d["status"] for d in docs] == ["complete"] * len(docs), docs
        starts: dict[str, list[float]] = {LITE: [], FAST: []}
        for doc in docs:
            starts[doc["plan"]["video_model"]].append(float(doc["video_token_at"]))
        assert {m: len(t) for m, t in starts.items()} == {LITE: CLIPS, FAST: CLIPS}
        # Each model within its own quota in every window...
        for model, times in starts.items():
            assert most_in_a_window(times, WINDOW_S) <= QUOTA, (model, times)
        # ...and together past one model's: neither waited on the other's log
        # (one project-wide log of QUOTA would allow QUOTA here).
        both = starts[LITE] + starts[FAST]
        assert most_in_a_window(both, WINDOW_S) > QUOTA, starts
        counted = calls(stack)
        # On a failure, how long each start took from its token to Veo's
        # answer: the log's margin over Veo's window is one start interval.
        took = sorted(
            (
                d["plan"]["video_model"][4:12],
                round(float(d["video_token_at"]) - min(both), 2),
                round(float(d["video_started_at"]) - float(d["video_token_at"]), 2),
            )
            for d in docs
        )
        for model in (LITE, FAST):
            assert counted["by_model"][model]["predictLongRunning"] == CLIPS, (counted, took)
            assert counted["by_model"][model]["rejected"] == 0, (counted, took)
        assert counted["rejected"]["predictLongRunning"] == 0, counted
        # Each model's log kept its own campaign's wait history.
        for model, campaign in ((LITE, "drafty"), (FAST, "standard")):
            log = firestore_client().document(f"pacing/{pacing.veo_log(model).doc_id}").get()
            assert set(log.to_dict()["waits"]) == {campaign}, (model, log.to_dict())
        for campaign in ("drafty", "standard"):
            assert ledger.read_balance(campaign, "s1").reserved_micros == 0
    finally:
        restart_paced(stack, {})
