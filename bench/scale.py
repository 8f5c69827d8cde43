"""Scale: many campaigns publishing cutscenes at twice Veo's start quota.

Two runs in one command, side by side: unpaced (every animate_still starts
its clip at once, as before pacing, and waits out Veo's 429s itself) and
paced (MEDIA_VEO_STARTS_PER_MIN, fair across campaigns, `busy` when a start
would come too late), then the paced figures as ratios of the unpaced ones.
Time is compressed by COMPRESS: the quota's minute, the clips' 20-60 s of
generation and MEDIA_DEADLINE_S all shrink by the same factor, so a run
takes minutes. The media emulator enforces the quota itself
(`/_emulator/quota` with the compressed window), so the 429s counted are the
emulator's own answers.

"Unpaced" is the new flow without the start budget; the waiting design it
replaced (animate_still polling its own clip) is gone from the tree.

Figures: Veo starts per quota window while a backlog exists (vs the quota;
the mean over rolling windows from the first start to the last),
the emulator's 429 share of start attempts, function instance-seconds per
clip (from animate_still's, finish_clip's and the janitor's access-log
latencies), Jain's fairness index of per-campaign mean wait (published ->
started), completion lag p50 (operation done -> `complete` seen by a
listener), and the books: every request terminal, zero overspend, zero
double charges, reserved == 0. Each run's per-clip times are written to
`starts.json` in its log folder.

    python -m bench.scale [unpaced] [paced] [paced-first-come] [paced-round-robin]
                          [paced-waiting] [--quick] [--plot] [--pattern P]
                          [--cutscenes N] [--campaigns M]
    python -m bench.scale models [project] [per-model]   (bench/scale_models.py:
                          three Veo models, one log for all vs one each)

`paced` runs the default order (`published`, 0026), `paced-waiting` the one
before it. --pattern publishes one of bench/arrivals.py's patterns (even,
burst-first, trickle-late-burst) instead of the unequal bursts.

`--plot` also saves every run's per-clip times with the quota and window
(bench/results/scale-plot-<time>.json) and draws them (the same name, .png):
starts per quota window against the quota, and waits per campaign
(bench/plot.py; `python -m bench.plot` draws a saved one again).
"""

from __future__ import annotations

import bisect
import json
import os
import random
import time
from collections import defaultdict
from typing import Any

from bench.arrivals import pattern_plan
from bench.common import ROOT, Table, start_stack, summary
from bench.pipeline import Listener, _publish
from shared.client import build_message, configure_campaign
from shared.domain.ids import asset_id_for
from tests.integration.helpers import emulator

COMPRESS = 3.0  # one real minute of the quota is 20 s here


def jain(values: list[float]) -> float:
    if not values or not any(values):
        return 1.0
    return sum(values) ** 2 / (len(values) * sum(v * v for v in values))


def instance_seconds(log_dir, functions: tuple[str, ...]) -> float:
    total = 0.0
    for name in functions:
        path = log_dir / f"{name}.log"
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            if '"http_access"' not in line:
                continue
            try:
                latency = json.loads(line)["httpRequest"]["latency"]
            except (ValueError, KeyError, TypeError):
                continue
            total += float(str(latency).rstrip("s"))
    return total


def one_run(
    table: Table,
    label: str,
    paced: bool,
    cutscenes: int,
    campaigns: int,
    quota_per_min: int,
    clip_s: tuple[float, float],
    fairness: str = "waiting",
    pattern: str | None = None,
) -> dict[str, float]:
    window = 60.0 / COMPRESS
    env = {
        "MEDIA_DEADLINE_S": str(int(900 / COMPRESS)),
        "MEDIA_VEO_PACING_WINDOW_S": str(window),
        "MEDIA_VEO_STARTS_PER_MIN": str(quota_per_min if paced else 0),
        "MEDIA_VIDEO_EXPECTED_S": str(clip_s[1] / COMPRESS),
        "MEDIA_VIDEO_EXPECTED_PER_S": "0",
        "MEDIA_VIDEO_SWEEP_FIRST_S": "1",
        "MEDIA_VIDEO_SWEEP_MAX_S": "5",
        "MEDIA_VIDEO_SWEEP_EVERY_S": "1",
        "MEDIA_VEO_FAIRNESS": fairness,
        # Unpaced starts wait out 429s in-process, on the compressed clock too.
        "MEDIA_VEO_QUOTA_WAIT_S": str(int(300 / COMPRESS)),
    }
    stack = start_stack(env, log_dir=ROOT / ".local" / "logs" / f"scale-{label}-{os.getpid()}")
    try:
        rng = random.Random(16)
        video_s = (clip_s[0] + clip_s[1]) / 2 / COMPRESS
        emulator(stack, "POST", "/_emulator/latency", {"image_s": 0, "video_s": video_s})
        # Veo's quota, enforced by the emulator on the compressed clock.
        emulator(
            stack,
            "POST",
            "/_emulator/quota",
            {"method": "predictLongRunning", "per_minute": quota_per_min, "window_s": window},
        )
        names, plan = arrival_plan(rng, cutscenes, campaigns)
        gap = window / (2 * quota_per_min)  # twice the quota's rate
        times = [n * gap for n in range(len(plan))]
        if pattern:
            names, arrivals = pattern_plan(
                pattern, rng, cutscenes, campaigns, window, quota_per_min
            )
            times, plan = [t for t, _ in arrivals], [c for _, c in arrivals]
        for name in names:
            configure_campaign(name, enabled=True, budget_usd=1000, members=["alice"])
        listener = Listener(stack.env, *names)  # one watch per campaign, as its players
        try:
            published = publish_at(plan, times)
            docs = wait_all(published, 900 / COMPRESS * 2 + 60)
            seen = {aid: dict(listener.seen.get(aid, {})) for aid in published}
        finally:
            listener.stop()
        return report(table, label, stack, published, docs, seen, quota_per_min, window)
    finally:
        stack.stop()


def arrival_plan(rng: random.Random, cutscenes: int, campaigns: int) -> tuple[list[str], list[str]]:
    """Unequal bursts: a few loud campaigns (an eighth, each 8 times as
    likely to publish next), many quiet ones, every campaign at least once;
    the campaigns, and which one publishes each cutscene in turn."""
    names = [f"scale{c:02d}" for c in range(campaigns)]
    weights = [8 if c < campaigns // 8 else 1 for c in range(campaigns)]
    plan = [rng.choices(names, weights)[0] for _ in range(cutscenes - campaigns)] + names
    rng.shuffle(plan)
    return names, plan


def wait_all(published: dict[str, tuple[str, float]], timeout: float) -> dict[str, dict]:
    from shared.store import assets

    docs: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while len(docs) < len(published) and time.monotonic() < deadline:
        for aid, (campaign, _) in published.items():
            if aid not in docs:
                doc = assets.load_fields(campaign, aid)
                if doc and assets.is_terminal(doc):
                    docs[aid] = doc
        time.sleep(1.0)
    return docs


def report(
    table: Table,
    label: str,
    stack: Any,
    published: dict[str, tuple[str, float]],
    docs: dict[str, dict],
    seen: dict[str, dict],
    quota: int,
    window: float,
) -> dict[str, float]:
    from shared.store import ledger

    bench = f"scale {label}"
    figures: dict[str, float] = {}
    dump_starts(stack.log_dir, published, docs)
    starts = sorted(
        float(d["video_started_at"]) for d in docs.values() if d.get("video_started_at")
    )
    if starts and starts[-1] - starts[0] > window:
        rate = per_window(starts, window)
        table.add(
            bench,
            "Veo starts per quota window (backlog)",
            rate,
            f">= 90% of {quota}",
            rate >= 0.9 * quota,
        )
        figures["starts per window"] = rate
    # The emulator's own 429s on Veo starts (a start waits them out and tries
    # again, so one clip may count several).
    calls = emulator(stack, "GET", "/_emulator/calls")
    attempts = int(calls["predictLongRunning"])
    refused = int(calls["rejected"]["predictLongRunning"])
    share = refused / max(1, attempts)
    table.add(bench, "429s / Veo start attempts (emulator)", f"{refused}/{attempts}")
    table.add(bench, "429 share of start attempts", share, "<= 5%", share <= 0.05)
    figures["429 share"] = share
    clips = sum(1 for d in docs.values() if d.get("status") == "complete")
    # Function work is not compressed: its seconds are real.
    # The janitor counts too: its tick dispatches paced starts.
    busy = instance_seconds(stack.log_dir, ("animate_still", "finish_clip", "janitor"))
    per_clip = busy / max(1, clips)
    table.add(bench, "instance-s per clip", per_clip, "<= 5 s", per_clip <= 5)
    figures["instance-s per clip"] = per_clip
    waits: dict[str, list[float]] = defaultdict(list)
    for aid, doc in docs.items():
        if doc.get("video_started_at"):
            waits[published[aid][0]].append(float(doc["video_started_at"]) - published[aid][1])
    means = [sum(w) / len(w) for w in waits.values() if w]
    fairness = jain(means)
    table.add(bench, "Jain index of campaign mean wait", fairness, ">= 0.9", fairness >= 0.9)
    figures["Jain index"] = fairness
    # What the order can be blamed for: the same start times handed out
    # first come, first served. Clips published before a backlog built up
    # wait less under any order, which caps this index on a growing backlog.
    fifo = jain(fifo_means(published, docs))
    table.add(bench, "Jain index, same starts first come first served", fifo)
    every = [w for ws in waits.values() for w in ws]
    figures["mean wait s"] = sum(every) / max(1, len(every))
    table.add(bench, "mean wait s (published -> started)", figures["mean wait s"])
    # Operation done ~ its MP4 written (the finalize event's timeCreated).
    lags = [
        seen[aid]["status:complete"] - float(doc["video_output_at"])
        for aid, doc in docs.items()
        if doc.get("status") == "complete"
        and doc.get("video_output_at")
        and "status:complete" in seen.get(aid, {})
    ]
    p50 = summary(lags)["p50"] if lags else float("nan")
    table.add(bench, "completion lag p50 s (listener)", p50, "<= 1 s", p50 <= 1.0)
    figures["completion lag p50 s"] = p50
    written = [
        d["updated_at"].timestamp() - float(d["video_output_at"])
        for d in docs.values()
        if d.get("status") == "complete" and d.get("video_output_at") and d.get("updated_at")
    ]
    table.add(
        bench,
        "completion lag p50 s (complete written)",
        summary(written)["p50"] if written else float("nan"),
    )
    statuses: dict[str, int] = defaultdict(int)
    for doc in docs.values():
        statuses[f"{doc['status']}:{doc.get('status_reason') or ''}"] += 1
    table.add(bench, "outcomes", json.dumps(dict(statuses), sort_keys=True))
    terminal = len(docs) == len(published)
    table.add(bench, "terminal / published", f"{len(docs)}/{len(published)}", "all", terminal)
    overspend = reserved = double = 0
    for campaign in {c for c, _ in published.values()}:
        balance = ledger.read_balance(campaign, "s1")
        overspend += max(0, balance.spent_micros + balance.reserved_micros - balance.cap_micros)
        reserved += balance.reserved_micros
        costs = sum(
            round((d.get("cost_usd") or 0) * 1_000_000)
            for a, d in docs.items()
            if published[a][0] == campaign
        )
        double += abs(balance.spent_micros - costs)  # a double charge shows here
    table.add(bench, "overspend usd", overspend / 1e6, "0", overspend == 0)
    table.add(bench, "charged beyond recorded cost usd", double / 1e6, "0", double == 0)
    table.add(bench, "reserved after usd", reserved / 1e6, "0", reserved == 0)
    figures["complete"] = float(clips)
    return figures


def per_window(starts: list[float], window: float) -> float:
    """Starts per quota window while the backlog lasts (first start to last),
    the mean over every window position, 0.1 s apart. (Total over first to
    last overstates it when starts come in clumps: a window's worth at once
    at the start, as the rolling log allows, counts as if it had taken no
    time.)"""
    positions = [
        starts[0] + i * 0.1 for i in range(int((starts[-1] - window - starts[0]) / 0.1) + 1)
    ]
    counts = [
        bisect.bisect_left(starts, t + window) - bisect.bisect_left(starts, t) for t in positions
    ]
    return sum(counts) / len(counts)


def fifo_means(published: dict[str, tuple[str, float]], docs: dict[str, dict]) -> list[float]:
    started = [
        (float(d.get("video_queued_at") or published[a][1]), a)
        for a, d in docs.items()
        if d.get("video_started_at")
    ]
    starts = sorted(
        float(d["video_started_at"]) for d in docs.values() if d.get("video_started_at")
    )
    waits: dict[str, list[float]] = defaultdict(list)
    for at, (_, aid) in zip(starts, sorted(started), strict=True):
        campaign, published_at = published[aid]
        waits[campaign].append(max(at, published_at) - published_at)
    return [sum(w) / len(w) for w in waits.values()]


def dump_starts(
    log_dir: Any, published: dict[str, tuple[str, float]], docs: dict[str, dict]
) -> None:
    """Each clip's times, for a closer look at where starts went."""
    rows = [
        {
            "asset_id": aid,
            "campaign_id": campaign,
            "published_at": at,
            **{
                k: docs.get(aid, {}).get(k)
                for k in (
                    "status",
                    "status_reason",
                    "video_queued_at",
                    "video_token_at",
                    "video_started_at",
                    "video_output_at",
                )
            },
        }
        for aid, (campaign, at) in published.items()
    ]
    (log_dir / "starts.json").write_text(json.dumps(rows, indent=1, default=str))


RUNS = {
    "unpaced": (False, "waiting"),
    "paced": (True, "published"),
    "paced-waiting": (True, "waiting"),
    "paced-first-come": (True, "first_come"),
    "paced-round-robin": (True, "round_robin"),
}


def run(
    table: Table,
    cutscenes: int = 200,
    campaigns: int = 40,
    quota_per_min: int = 30,
    clip_s: tuple[float, float] = (20.0, 60.0),
    labels: tuple[str, ...] = ("unpaced", "paced"),
    pattern: str | None = None,
) -> None:
    results: dict[str, dict[str, float]] = {}
    for label in labels:
        paced, fairness = RUNS[label]
        print(
            f"== scale {label}: {cutscenes} cutscenes, {campaigns} campaigns, "
            f"quota {quota_per_min}/min, time / {COMPRESS:g}, arrivals {pattern or 'bursts'}",
            flush=True,
        )
        results[label] = one_run(
            table, label, paced, cutscenes, campaigns, quota_per_min, clip_s, fairness, pattern
        )
    compare(table, results)


def compare(table: Table, results: dict[str, dict[str, float]]) -> None:
    """Each paced run's figures as ratios of the unpaced run's, same command."""
    base = results.get("unpaced")
    if not base:
        return
    for label, figures in results.items():
        if label == "unpaced":
            continue
        print(f"== scale {label} / unpaced (same run)", flush=True)
        for name, value in figures.items():
            if base.get(name):
                table.add(f"{label}/unpaced", name, value / base[name])


def publish_at(plan: list[str], times: list[float]) -> dict[str, tuple[str, float]]:
    """Publish one cutscene for each campaign of `plan`, the n-th `times[n]`
    seconds after the first. Returns asset id -> (campaign, published at)."""
    published: dict[str, tuple[str, float]] = {}
    t0 = time.time()
    for n, campaign in enumerate(plan):
        msg = build_message(
            campaign_id=campaign,
            session_id="s1",
            turn_number=n + 1,
            kind="cutscene",
            cutscene_type="action_climax",
            image_prompt=f"scale still {n}",
            motion_prompt="push in",
            duration_seconds=4,
        )
        published[asset_id_for(msg["request_id"])] = (campaign, time.time())
        _publish(msg)
        if n + 1 < len(times):
            time.sleep(max(0.0, t0 + times[n + 1] - time.time()))
    return published


def option(argv: list[str], name: str, default: int) -> int:
    return int(argv[argv.index(name) + 1]) if name in argv else default


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["models"]:
        from bench import scale_models

        scale_models.main(sys.argv[2:])
        raise SystemExit(0)
    t = Table()
    quick = "--quick" in sys.argv
    chosen = tuple(a for a in sys.argv[1:] if a in RUNS) or ("unpaced", "paced")
    quota = 30
    run(
        t,
        cutscenes=option(sys.argv, "--cutscenes", 40 if quick else 200),
        campaigns=option(sys.argv, "--campaigns", 8 if quick else 40),
        quota_per_min=quota,
        labels=chosen,
        pattern=sys.argv[sys.argv.index("--pattern") + 1] if "--pattern" in sys.argv else None,
    )
    t.write("scale-quick" if quick else "scale")
    if "--plot" in sys.argv:
        from bench.common import RESULTS
        from bench.plot import save

        logs = ROOT / ".local" / "logs"  # one_run's log folders, named by label and pid
        runs = {
            label: json.loads((logs / f"scale-{label}-{os.getpid()}" / "starts.json").read_text())
            for label in chosen
        }
        result = {"quota_per_window": quota, "window_s": 60.0 / COMPRESS, "runs": runs}
        for path in save(result, RESULTS / f"scale-plot-{time.strftime('%Y%m%d-%H%M%S')}"):
            print(path)
