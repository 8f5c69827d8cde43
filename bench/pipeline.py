"""Still overhead and Veo completion lag, seen by a listener in another process."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict

from bench.common import ROOT, Table, summary
from shared.client import build_message, configure_campaign
from shared.core.settings import get_settings
from shared.domain.ids import asset_id_for
from shared.store.connections import publisher, topic_path
from tests.integration.helpers import calls, emulator, wait_terminal

CAMPAIGN = "bench"


class Listener:
    """Runs bench/listener.py and records when each asset was first seen in
    each state (with a still, with a clip, terminal). With BENCH_LISTENER_RAW
    set to a file, its every line (with the snapshot's read time and the
    document's update time) is appended there too: how a slow listener, not
    a slow write, was told apart (docs/decisions/0016)."""

    def __init__(self, env: dict[str, str], *campaigns: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.listener", *(campaigns or (CAMPAIGN,))],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            text=True,
        )
        self.seen: dict[str, dict[str, float]] = defaultdict(dict)
        self.ready = threading.Event()
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(30):
            raise RuntimeError("listener did not start")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        path = os.environ.get("BENCH_LISTENER_RAW")
        with open(path, "a") if path else contextlib.nullcontext() as raw:
            for line in self.proc.stdout:
                if raw is not None:
                    raw.write(line)
                self._record(json.loads(line))

    def _record(self, row: dict) -> None:
        if row.get("ready"):
            self.ready.set()
            return
        with self.lock:
            seen = self.seen[row["asset_id"]]
            seen.setdefault(f"status:{row['status']}", row["t"])
            if row["image"]:
                seen.setdefault("image", row["t"])
            if row["video"]:
                seen.setdefault("video", row["t"])

    def wait_for(self, asset_id: str, key: str, timeout: float = 120) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if key in self.seen.get(asset_id, {}):
                    return self.seen[asset_id][key]
            time.sleep(0.005)
        raise TimeoutError(f"{asset_id}: {key} not seen in {timeout} s")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _publish(message: dict) -> float:
    topic = topic_path(get_settings().MEDIA_REQUESTS_TOPIC)
    sent = time.time()
    publisher().publish(topic, json.dumps(message).encode()).result(timeout=30)
    return sent


def _cutscene(n: int, **over) -> dict:
    return build_message(
        campaign_id=CAMPAIGN,
        session_id="s1",
        turn_number=n,
        kind="cutscene",
        cutscene_type="action_climax",
        image_prompt=f"bench still {n}",
        motion_prompt="slow push in",
        duration_seconds=4,
        **over,
    )


def still_overhead(table: Table, stack, sequential: int = 30, concurrent: int = 10) -> None:
    stack.wipe()
    configure_campaign(CAMPAIGN, enabled=True, budget_usd=1000)
    emulator(stack, "POST", "/_emulator/latency", {"image_s": 0, "video_s": 0})
    listener = Listener(stack.env)
    try:
        warm = _cutscene(10_000)
        _publish(warm)  # warm the path once; not counted
        listener.wait_for(asset_id_for(warm["request_id"]), "image")
        seq: list[float] = []
        stages: dict[str, list[float]] = defaultdict(list)
        sequential_msgs = [_cutscene(n) for n in range(sequential)]
        for msg in sequential_msgs:
            sent = _publish(msg)
            seq.append(listener.wait_for(asset_id_for(msg["request_id"]), "image") - sent)
        msgs = [_cutscene(100 + n) for n in range(concurrent)]
        sent_at = {m["request_id"]: _publish(m) for m in msgs}
        conc = [listener.wait_for(asset_id_for(rid), "image") - t for rid, t in sent_at.items()]
    finally:
        listener.stop()
    # The Pub/Sub emulator pushes at most two messages of a subscription at a
    # time, so concurrent requests queue in front of the function; the asset
    # is created as its delivery starts, so visible - created_at leaves that
    # queue (and the publish) out.
    docs = {
        m["request_id"]: wait_terminal(CAMPAIGN, m["request_id"], timeout=120)
        for m in sequential_msgs + msgs
    }
    seen = {
        m["request_id"]: listener.seen[asset_id_for(m["request_id"])]["image"]
        for m in sequential_msgs + msgs
    }
    for doc in docs.values():
        for stage, ms in (doc.get("stage_ms") or {}).items():
            stages[stage].append(ms)
    for name, group in (("sequential", sequential_msgs), ("concurrent", msgs)):
        from_delivery = [
            (seen[m["request_id"]] - docs[m["request_id"]]["created_at"].timestamp()) * 1000
            for m in group
        ]
        model = [(docs[m["request_id"]].get("stage_ms") or {}).get("image_model", 0) for m in group]
        s_fd = summary(from_delivery)
        s_ours = summary([d - mm for d, mm in zip(from_delivery, model, strict=True)])
        table.add("still overhead", f"{name} from delivery p50 ms", s_fd["p50"])
        table.add("still overhead", f"{name} from delivery p95 ms", s_fd["p95"])
        table.add("still overhead", f"{name} ours (minus model) p50 ms", s_ours["p50"])
    for name, values in (("sequential", seq), ("concurrent", conc)):
        s = summary([v * 1000 for v in values])
        table.add(
            "still overhead",
            f"{name} x{len(values)} p50 ms",
            s["p50"],
            "<= 250 ms",
            s["p50"] <= 250,
        )
        table.add(
            "still overhead",
            f"{name} x{len(values)} p95 ms",
            s["p95"],
            "<= 500 ms",
            s["p95"] <= 500,
        )
    for stage in (
        "admit",
        "reserve",
        "image",
        "image_model",
        "video_start",
        "video_wait",
        "video_store",
    ):
        if stages.get(stage):
            table.add("still overhead", f"stage_ms {stage} p50", summary(stages[stage])["p50"])


def completion_lag(table: Table, stack, latencies: list[float]) -> None:
    """Operation done -> `complete` seen by a listener, with clips finished by
    the bucket's finalize event (docs/decisions/0012). The old watch and fixed
    polling strategies are gone: with the event doing the noticing, nothing
    polls a healthy operation (one check each)."""
    stack.wipe()
    configure_campaign(CAMPAIGN, enabled=True, budget_usd=1000)
    listener = Listener(stack.env)
    try:
        started: dict[str, float] = {}
        from shared.store.assets import load

        for n, video_s in enumerate(latencies):
            emulator(stack, "POST", "/_emulator/latency", {"image_s": 0, "video_s": video_s})
            msg = _cutscene(n)
            _publish(msg)
            aid = asset_id_for(msg["request_id"])
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                doc = load(CAMPAIGN, aid)
                if doc and doc.get("video_started_at"):
                    # the operation started at most a few ms before this stamp
                    started[aid] = float(doc["video_started_at"]) + video_s
                    break
                time.sleep(0.02)
        lags = [
            listener.wait_for(aid, "status:complete", timeout=200) - done_at
            for aid, done_at in started.items()
        ]
        veo_polls = calls(stack)["fetchPredictOperation"]
    finally:
        listener.stop()
    s = summary(lags)
    per_op = veo_polls / max(1, len(lags))
    label = "completion lag bucket event"
    table.add(label, f"lag p50 s ({len(lags)} ops)", s["p50"], "<= 1 s", s["p50"] <= 1.0)
    table.add(label, "lag p95 s", s["p95"])
    table.add(label, "Veo polls per op (mean)", per_op, "<= 2", per_op <= 2)
