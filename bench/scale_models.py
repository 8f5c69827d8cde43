"""Scale across Veo models: three quality tiers (draft, standard, premium:
three Veo models, each with its own quota of 20 starts a minute), 72
cutscenes over 9 campaigns (a third of each on each tier, tiered_plan),
published at twice the summed quota's rate.

Two runs in one command, side by side, on the real local stack, time
compressed as bench/scale.py (COMPRESS): "project", one start log for every
model at 20 a minute (MEDIA_VEO_PACING_SCOPE=project, the design before
docs/decisions/0020), and "per-model", each model on its own log
(MEDIA_MODEL_QUOTAS, 20 each). The media emulator enforces each model's
quota in its region itself, so its 429s are Veo's own answers.

Figures: starts served per quota window (the mean over rolling windows from
the first start to the last, bench/scale.per_window) vs 90% of the summed
quotas (54 of 60), and the most starts of all models in any rolling window
vs the same 54; the 429 share of start attempts; for each model the most
starts in any rolling window vs its quota (Veo's view: the emulator's
calls; the log's view: the tokens); and the books (bench/scale.report:
every request terminal, no overspend, no double charge, nothing reserved).

    python -m bench.scale_models [project] [per-model] [--cutscenes N] [--campaigns M]
                                 [--compress K]

--compress K divides time by K instead of bench/scale's COMPRESS (3); 1 runs
in real time. At 3 the summed quota is three starts a second, and on a 2-core
machine the stack's image stage cannot make stills that fast, so the starts
measure the stills, not the pacing; at 1 the stills keep ahead of the quota.
"""

from __future__ import annotations

import bisect
import json
import os
import random

from bench.common import ROOT, Table, start_stack
from bench.pipeline import Listener
from bench.scale import COMPRESS, arrival_plan, option, publish_at, report, wait_all
from shared.client import configure_campaign
from tests.integration.helpers import emulator

PER_MODEL = 20  # each model's quota, starts a minute
TIERS = {
    "draft": "veo-3.1-lite-generate-001",
    "standard": "veo-3.1-fast-generate-001",
    "premium": "veo-3.1-generate-001",
}
RUNS = ("project", "per-model")


def pacing_env(label: str) -> dict[str, str]:
    if label == "project":  # one log shared by every model, at one model's quota
        return {"MEDIA_VEO_PACING_SCOPE": "project", "MEDIA_VEO_STARTS_PER_MIN": str(PER_MODEL)}
    quotas = {model: PER_MODEL for model in TIERS.values()}
    return {"MEDIA_MODEL_QUOTAS": json.dumps(quotas), "MEDIA_VEO_STARTS_PER_MIN": "0"}


def one_run(
    table: Table, label: str, cutscenes: int, campaigns: int, compress: float = COMPRESS
) -> None:
    window = 60.0 / compress
    clip_s = (20.0, 60.0)
    env = {
        "MEDIA_DEADLINE_S": str(int(900 / compress)),
        "MEDIA_VEO_PACING_WINDOW_S": str(window),
        "MEDIA_VIDEO_EXPECTED_S": str(clip_s[1] / compress),
        "MEDIA_VIDEO_EXPECTED_PER_S": "0",
        "MEDIA_VIDEO_SWEEP_FIRST_S": "1",
        "MEDIA_VIDEO_SWEEP_MAX_S": "5",
        "MEDIA_VIDEO_SWEEP_EVERY_S": "1",
        "MEDIA_VEO_QUOTA_WAIT_S": str(int(300 / compress)),
        **pacing_env(label),
    }
    log_dir = ROOT / ".local" / "logs" / f"scale-models-{label}-{os.getpid()}"
    stack = start_stack(env, log_dir=log_dir)
    try:
        rng = random.Random(16)
        video_s = (clip_s[0] + clip_s[1]) / 2 / compress
        emulator(stack, "POST", "/_emulator/latency", {"image_s": 0, "video_s": video_s})
        for model in TIERS.values():  # Veo's quotas: per base model and region
            quota = {"model": model, "location": "us-central1", "per_minute": PER_MODEL}
            emulator(stack, "POST", "/_emulator/quota", {**quota, "window_s": window})
        names, plan, tier_of = tiered_plan(rng, cutscenes, campaigns)
        for name in names:
            configure_campaign(
                name, enabled=True, budget_usd=1000, members=["alice"], quality=tier_of[name]
            )
        listener = Listener(stack.env, *names)
        total = PER_MODEL * len(TIERS)
        gap = window / (2 * total)  # twice the summed quotas' rate
        try:
            published = publish_at(plan, [n * gap for n in range(len(plan))])
            docs = wait_all(published, 900 / compress * 2 + 60)
            seen = {aid: dict(listener.seen.get(aid, {})) for aid in published}
        finally:
            listener.stop()
        # The shared figures and the books; its starts-per-window target is
        # 90% of `total`, the summed quotas.
        report(table, f"models {label}", stack, published, docs, seen, total, window)
        per_model(table, f"scale models {label}", stack, docs, window)
    finally:
        stack.stop()


def tiered_plan(
    rng: random.Random, cutscenes: int, campaigns: int
) -> tuple[list[str], list[str], dict[str, str]]:
    """An equal share of the cutscenes and campaigns on each tier (so each
    model has a backlog of its own), each tier's arrivals drawn as
    bench/scale.arrival_plan draws them, the tiers' turns interleaved."""
    names: list[str] = []
    plans: list[list[str]] = []
    tier_of: dict[str, str] = {}
    for t, tier in enumerate(TIERS):
        mine, plan = arrival_plan(rng, cutscenes // len(TIERS), campaigns // len(TIERS))
        renamed = {m: f"scale{t}{m[-2:]}" for m in mine}
        names += renamed.values()
        plans.append([renamed[c] for c in plan])
        tier_of.update({n: tier for n in renamed.values()})
    interleaved = [c for turn in zip(*plans, strict=True) for c in turn]
    return names, interleaved, tier_of


def most_in(times: list[float], width: float) -> int:
    times = sorted(times)
    return max((bisect.bisect_left(times, t + width) - i for i, t in enumerate(times)), default=0)


def per_model(table: Table, bench: str, stack, docs: dict[str, dict], window: float) -> None:
    total = PER_MODEL * len(TIERS)  # the summed quotas, starts a window
    calls = emulator(stack, "GET", "/_emulator/calls")
    by_model = calls.get("by_model", {})
    started = sorted(
        float(d["video_started_at"]) for d in docs.values() if d.get("video_started_at")
    )
    if len(started) > 1:
        # Starts over the time they took, one start interval added: a figure
        # for a backlog shorter than a window, where per_window has none.
        span = started[-1] - started[0] + window / total
        table.add(bench, "starts per window, first to last", len(started) / span * window)
    # The summed quotas served at once: the most starts of every model in any
    # rolling window. A backlog of 72 is little more than one window's worth
    # (24 a model against 20), so a mean over the backlog is mostly its ramp
    # (docs/decisions/0027); `--cutscenes 216` measures the sustained rate.
    busiest = most_in(started, window)
    table.add(
        bench,
        "most starts in a window, all models",
        busiest,
        f">= 90% of {total}",
        busiest >= 0.9 * total,
    )
    for tier, model in TIERS.items():
        mine = [d for d in docs.values() if (d.get("plan") or {}).get("video_model") == model]
        at = [float(d["video_started_at"]) for d in mine if d.get("video_started_at")]
        tokens = [float(d["video_token_at"]) for d in mine if d.get("video_token_at")]
        counted = by_model.get(model, {})
        name = f"{tier} ({model[4:-13] or 'generate'})"
        table.add(bench, f"{name} starts", len(at))
        table.add(
            bench,
            f"{name} 429s/attempts",
            f"{counted.get('rejected', 0)}/{counted.get('predictLongRunning', 0)}",
        )
        most = most_in(at, window)
        table.add(
            bench, f"{name} most starts in a window", most, f"<= {PER_MODEL}", most <= PER_MODEL
        )
        most = most_in(tokens, window)
        table.add(
            bench, f"{name} most tokens in a window", most, f"<= {PER_MODEL}", most <= PER_MODEL
        )


def main(argv: list[str]) -> None:
    table = Table()
    labels = tuple(a for a in argv if a in RUNS) or RUNS
    cutscenes = option(argv, "--cutscenes", 72)
    campaigns = option(argv, "--campaigns", 9)
    compress = float(argv[argv.index("--compress") + 1]) if "--compress" in argv else COMPRESS
    for label in labels:
        print(
            f"== scale models {label}: {cutscenes} cutscenes, {campaigns} campaigns, "
            f"3 Veo models at {PER_MODEL}/min each, time / {compress:g}",
            flush=True,
        )
        one_run(table, label, cutscenes, campaigns, compress)
    table.write("scale-models")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
