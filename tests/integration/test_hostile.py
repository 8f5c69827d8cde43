"""A thousand malformed messages through the real pipeline: no crash, no
charge, no retry loop, and a rejected/invalid asset wherever ids are readable."""

from __future__ import annotations

import json
import time
from collections import Counter

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from shared.core.errors import InvalidRequest
from shared.core.settings import get_settings
from shared.domain.ids import asset_id_for, is_request_id, is_scope_id
from shared.domain.request import parse_request
from shared.store.assets import load
from shared.store.connections import firestore_client
from tests.integration.helpers import (
    answers,
    calls,
    delivery_lines,
    enable,
    invalid_deliveries,
    publish_raw,
)

COUNT = 1000
# What render_still logs when a delivery raises, i.e. asks for a redelivery
# (shared/pipeline/entry.py).
RETRY_EVENTS = ("busy", "transient")
HOSTILE_IDS = [
    "../../etc/passwd",
    "c1/../c2",
    "ｃａｍｐａｉｇｎ",
    "a b",
    "",
    "x" * 129,
    "__.*__",
    "c1\x00",
    "<script>",
    "%2e%2e%2f",
]
BAD_VALUES = [None, True, -1, 3.5, "", " ", [], {}, "x" * 5000, "\ud7ff" * 10, 10**30]


def valid(i: int) -> dict:
    return {
        "schema": "media.request.v1",
        "request_id": f"req-hostile-{i:05d}",
        "campaign_id": "c1",
        "session_id": "s1",
        "turn_number": i,
        "kind": "cutscene",
        "cutscene_type": "plot_twist",
        "image_prompt": "p",
        "motion_prompt": "m",
    }


@st.composite
def malformed(draw, i: int) -> bytes:
    how = draw(st.sampled_from(["field", "drop", "ids", "refs", "oversize", "raw", "type"]))
    msg = valid(i)
    if how == "raw":
        return draw(
            st.sampled_from([b"", b"{", b"null", b"[]", b"\xff\xfe", b'"str"'])
            | st.binary(max_size=64)
        )
    if how == "drop":
        msg.pop(
            draw(
                st.sampled_from(
                    [
                        "schema",
                        "session_id",
                        "turn_number",
                        "kind",
                        "image_prompt",
                        "cutscene_type",
                        "motion_prompt",
                    ]
                )
            )
        )
    elif how == "field":
        key = draw(st.sampled_from(sorted(msg) + ["aspect_ratio", "duration_seconds", "style"]))
        msg[key] = draw(st.sampled_from(BAD_VALUES))
    elif how == "ids":
        msg[draw(st.sampled_from(["campaign_id", "request_id", "session_id"]))] = draw(
            st.sampled_from(HOSTILE_IDS) | st.text(max_size=20)
        )
    elif how == "refs":
        bucket = get_settings().MEDIA_BUCKET
        msg["reference_images"] = [
            draw(
                st.sampled_from(
                    [
                        f"gs://{bucket}/refs/c2/a.png",
                        f"gs://{bucket}/refs/c1/../../x",
                        "gs://other/refs/c1/a",
                        f"gs://{bucket}/media/c1/a.png",
                        "https://example.com/a.png",
                        f"gs://{bucket}/refs/c1/",
                    ]
                )
            )
        ]
    elif how == "oversize":
        key = draw(st.sampled_from(["image_prompt", "motion_prompt"]))
        msg[key] = "y" * (draw(st.integers(4001, 20000)))
    else:
        msg["turn_number"] = draw(st.sampled_from(["3", 1.5, None, [3]]))
    return json.dumps(msg).encode()


def is_invalid(raw: bytes) -> bool:
    try:
        parse_request(raw, get_settings().MEDIA_BUCKET)
    except InvalidRequest:
        return True
    return False


def readable_ids(raw: bytes) -> tuple[str, str] | None:
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if (
        isinstance(obj, dict)
        and is_scope_id(obj.get("campaign_id"))
        and is_request_id(obj.get("request_id"))
    ):
        return obj["campaign_id"], obj["request_id"]
    return None


def draw_messages(count: int) -> list[bytes]:
    """`count` generated malformed messages: hypothesis explores the space of
    mutations across its examples (its first examples are the simplest), and
    each example is collected, so the stack runs once for all of them."""
    drawn: list[bytes] = []

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.integers(0, 99_999).flatmap(lambda i: malformed(i).filter(is_invalid)))
    def collect(raw: bytes) -> None:
        drawn.append(raw)

    collect()
    return drawn


def test_a_thousand_malformed_messages(stack):
    enable()
    messages = draw_messages(COUNT)
    assert len(messages) >= COUNT
    kinds = Counter(readable_ids(m) is not None for m in messages)
    assert kinds[True] > 100 and kinds[False] > 100  # both paths are exercised
    crashes = stack.restarts("render_still")  # the stack replaces a crashed one
    started = time.monotonic()
    # empty data needs an attribute
    published = {publish_raw(raw, source="hostile-test") for raw in messages}
    assert len(published) == len(messages)
    expected = {}
    for raw in messages:
        ids = readable_ids(raw)
        if ids:
            expected[ids] = raw
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len(invalid_deliveries(stack, published)) >= len(published):
            break
        time.sleep(0.5)
    elapsed = time.monotonic() - started
    time.sleep(2.0)  # a retry loop, if any, would show up as more deliveries
    lines = delivery_lines(stack, published)
    handled = invalid_deliveries(stack, published)
    assert set(handled) == published, f"{len(published - set(handled))} never handled"
    # Bad input is never a reason to retry: no delivery failed as a bug, and
    # every message's last answer was a 2xx. A delivery may still ask for a
    # retry on an outage (a Firestore write timing out beside a CPU-bound
    # process answered 500 once, logged `transient`); it is then handled
    # again and acked.
    bugs = [e for es in lines.values() for e in es if e.get("event") == "unexpected"]
    assert not bugs, bugs[:3]
    statuses = answers(lines)
    failed = {i for i, es in lines.items() if any(e.get("event") in RETRY_EVENTS for e in es)}
    assert sum(n for code, n in statuses.items() if code >= 300) <= len(failed), statuses
    last = {i: [e for e in es if e.get("event") == "http_access"][-1:] for i, es in lines.items()}
    assert all(a and a[0]["httpRequest"]["status"] in (200, 204) for a in last.values())
    # Pub/Sub delivers at least once: under load the emulator has sent one
    # message of the thousand again after render_still had acked it (CI,
    # 2026-12-07). Handled again, acked again; a handful at most.
    again = {i: n for i, n in handled.items() if n > 1}
    assert sum(handled.values()) - len(published) <= len(published) // 100, again
    assert stack.function_alive("render_still") and stack.restarts("render_still") == crashes
    assert calls(stack)["generateContent"] == 0
    outcomes = Counter()
    for cid, rid in expected:
        doc = load(cid, asset_id_for(rid))
        outcomes[(doc or {}).get("status"), (doc or {}).get("status_reason")] += 1
    assert outcomes == {("rejected", "invalid"): len(expected)}, outcomes
    sessions = firestore_client().collection("campaigns").document("c1").collection("sessions")
    assert list(sessions.stream()) == []  # nothing reserved, nothing charged
    print(
        f"\n{len(messages)} malformed messages: {len(expected)} request ids rejected, "
        f"{kinds[False]} unreadable dropped, handled in {elapsed:.1f} s"
    )
