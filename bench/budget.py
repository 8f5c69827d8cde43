"""Ledger contention: bursts against one session and across many.

Prints requests, charged, rejected, spend, cap, overspend and drain time.
"""

from __future__ import annotations

import json
import time
from collections import Counter

from bench.common import Table
from shared.client import build_message, configure_campaign
from shared.core.settings import get_settings
from shared.store import ledger
from shared.store.connections import publisher, topic_path
from tests.integration.helpers import wait_terminal


def cutscene_micros() -> int:
    """A standard still plus a 4 s clip, at the catalog's charged prices."""
    from shared.domain.pricing import catalog

    cat = catalog()
    models = cat.models_for("standard")
    defaults = cat.defaults
    return cat.image_micros(models["image_model"], defaults["image_size"]) + cat.video_micros(
        models["video_model"], defaults["video_resolution"], bool(defaults["video_audio"]), 4
    )


def burst(messages: list[dict]) -> tuple[list[dict], float]:
    topic = topic_path(get_settings().MEDIA_REQUESTS_TOPIC)
    started = time.monotonic()
    futures = [publisher().publish(topic, json.dumps(m).encode()) for m in messages]
    for future in futures:
        future.result(timeout=30)
    docs = [wait_terminal(m["campaign_id"], m["request_id"], timeout=120) for m in messages]
    return docs, time.monotonic() - started


def one_session(table: Table, stack, n: int = 50, k: int = 3) -> None:
    stack.wipe()
    cap_usd = k * cutscene_micros() / 1e6 + 0.03  # room for k cutscenes, not one more still
    configure_campaign("bench", enabled=True, budget_usd=cap_usd)
    messages = [
        build_message(
            campaign_id="bench",
            session_id="s1",
            turn_number=i,
            kind="cutscene",
            cutscene_type="action_climax",
            image_prompt=f"burst {i}",
            motion_prompt="push in",
            duration_seconds=4,
        )
        for i in range(n)
    ]
    docs, drained = burst(messages)
    outcome = Counter(d["status"] for d in docs)
    balance = ledger.read_balance("bench", "s1")
    overspend = max(0, balance.spent_micros + balance.reserved_micros - balance.cap_micros)
    name = f"burst {n}x1 session"
    table.add(name, "requests", n)
    table.add(name, "charged (complete)", outcome["complete"], f"== {k}", outcome["complete"] == k)
    table.add(name, "rejected", outcome["rejected"], f"== {n - k}", outcome["rejected"] == n - k)
    table.add(name, "spend usd", balance.spent_micros / 1e6)
    table.add(name, "cap usd", balance.cap_micros / 1e6)
    table.add(name, "overspend usd", overspend / 1e6, "== 0", overspend == 0)
    table.add(
        name,
        "reserved after usd",
        balance.reserved_micros / 1e6,
        "== 0",
        balance.reserved_micros == 0,
    )
    table.add(name, "drain s", drained, "<= 10 s", drained <= 10)


def many_sessions(table: Table, stack, sessions: int = 50, per: int = 10, afford: int = 2) -> None:
    stack.wipe()
    cap_usd = afford * 0.067 + 0.01
    configure_campaign("bench", enabled=True, budget_usd=cap_usd)
    messages = [
        build_message(
            campaign_id="bench",
            session_id=f"s{s}",
            turn_number=i,
            kind="location_visual",
            subject="The Spire",
            image_prompt=f"session {s} view {i}",
        )
        for i in range(per)
        for s in range(sessions)
    ]
    docs, drained = burst(messages)
    outcome = Counter(d["status"] for d in docs)
    overspend = 0
    for s in range(sessions):
        b = ledger.read_balance("bench", f"s{s}")
        overspend += max(0, b.spent_micros + b.reserved_micros - b.cap_micros)
    name = f"burst {per}x{sessions} sessions"
    expected = sessions * afford
    table.add(name, "requests", len(messages))
    table.add(
        name,
        "charged (complete)",
        outcome["complete"],
        f"== {expected}",
        outcome["complete"] == expected,
    )
    table.add(name, "rejected", outcome["rejected"])
    table.add(name, "overspend usd", overspend / 1e6, "== 0", overspend == 0)
    table.add(name, "drain s", drained)
    table.add(name, "throughput req/s", len(messages) / drained)


def run(table: Table, stack) -> None:
    one_session(table, stack)
    many_sessions(table, stack)


if __name__ == "__main__":
    from bench.common import start_stack

    stack = start_stack()
    try:
        table = Table()
        run(table, stack)
        print(f"wrote {table.write('budget')}")
    finally:
        stack.stop()
