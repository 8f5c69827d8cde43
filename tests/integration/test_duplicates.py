"""Duplicate deliveries of one request id: one request, one set of paid calls,
one charge, in the session that asked first."""

from __future__ import annotations

import json
import time

from shared.core.settings import get_settings
from shared.domain.ids import asset_id_for
from shared.domain.request import parse_request
from shared.pipeline.render import handle_request
from shared.store import assets, ledger
from tests.integration.helpers import (
    calls,
    cutscene,
    emulator,
    enable,
    publish,
    wait_terminal,
)


def ledger_doc(session: str) -> dict:
    snap = ledger.ledger_ref("c1", session).get()
    return snap.to_dict() if snap.exists else {}


def test_a_duplicate_with_another_session_kind_or_duration_acts_on_the_stored_request(stack):
    enable()
    first = cutscene(1, session_id="s1", duration_seconds=4)
    rid = first["request_id"]
    other_session = cutscene(1, request_id=rid, session_id="s2", duration_seconds=8)
    other_kind = cutscene(
        1,
        request_id=rid,
        session_id="s3",
        kind="npc_portrait",
        cutscene_type=None,
        motion_prompt=None,
        subject="Mireille",
    )
    # The first delivery created the asset and died before reserving anything
    # (the state MEDIA_CRASH_AFTER=reserved leaves, minus the hold).
    request = parse_request(json.dumps(first).encode(), get_settings().MEDIA_BUCKET)
    aid = asset_id_for(rid)
    assets.create_if_absent("c1", aid, assets.new_asset(request, aid))
    # Two later deliveries of the same id with other bodies find it queued.
    handle_request(json.dumps(other_session).encode(), "dup-session")
    handle_request(json.dumps(other_kind).encode(), "dup-kind")
    doc = wait_terminal("c1", rid, timeout=90)
    assert (doc["status"], doc["session_id"], doc["kind"]) == ("complete", "s1", "cutscene")
    assert doc["video"]["duration_seconds"] == 4
    time.sleep(1.0)  # stragglers (a second animate message) would show by now
    s1 = ledger.read_balance("c1", "s1")
    assert (s1.spent_micros, s1.reserved_micros) == (667_000, 0)  # the 4 s price, once
    for session in ("s2", "s3"):  # nothing held or charged where nobody asked first
        assert not ledger_doc(session).get("holds") and not ledger_doc(session).get("charges")
    counted = calls(stack)
    assert (counted["generateContent"], counted["predictLongRunning"]) == (1, 1), counted


def test_an_image_call_longer_than_its_lease_is_paid_once(stack):
    stack.restart_function("render_still", {"MEDIA_IMAGE_LEASE_S": "2"})
    try:
        enable()
        emulator(stack, "POST", "/_emulator/latency", {"image_s": 7.0})
        message = cutscene(
            1,
            kind="npc_portrait",
            cutscene_type=None,
            motion_prompt=None,
            subject="Captain Mireille",
            aspect_ratio="1:1",
        )
        publish(message)
        aid = asset_id_for(message["request_id"])
        deadline = time.monotonic() + 30
        while (assets.load("c1", aid) or {}).get("status") != "rendering_image":
            assert time.monotonic() < deadline, "the first delivery never started"
            time.sleep(0.05)
        publish(message)  # a duplicate: another message id, another delivery
        doc = wait_terminal("c1", message["request_id"], timeout=90)
        assert doc["status"] == "complete", doc
        time.sleep(3.0)  # a duplicate still retrying would call the model by now
        assert calls(stack)["generateContent"] == 1
        balance = ledger.read_balance("c1", "s1")
        assert (balance.spent_micros, balance.reserved_micros) == (67_000, 0)
    finally:
        stack.restart_function("render_still")
