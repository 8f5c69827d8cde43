"""Exported charges on the real stack (docs/interface.md, "Exported charges"):
a subscription of our own on media-charges receives one media.charge.v1
message per settled charge, each valid against docs/schema/media.charge.v1.json,
and per session the sum over distinct charge_ids is the ledger's spent."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jsonschema.validators import Draft202012Validator

from infra.local.pubsub_setup import clients
from shared.store import ledger
from tests.integration.helpers import cutscene, enable, publish, wait_terminal

pytestmark = pytest.mark.integration

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs/schema/media.charge.v1.json").read_text()
)


@pytest.fixture
def charges(stack) -> Iterator[tuple[Any, str]]:
    """A pull subscription of this test's own on the charges topic, as a host has."""
    env = stack.env
    project = env["GOOGLE_CLOUD_PROJECT"]
    publisher, subscriber = clients(env["PUBSUB_EMULATOR_HOST"])
    name = subscriber.subscription_path(project, f"charges-test-{uuid.uuid4().hex[:8]}")
    topic = publisher.topic_path(project, env["MEDIA_CHARGES_TOPIC"])
    subscriber.create_subscription(
        request={"name": name, "topic": topic, "ack_deadline_seconds": 60}
    )
    try:
        yield subscriber, name
    finally:
        subscriber.delete_subscription(request={"subscription": name})
        subscriber.close()


def books(campaign_id: str, session_id: str) -> dict[str, int]:
    snap = ledger.ledger_ref(campaign_id, session_id).get()
    return ledger.held_maps(snap.to_dict() if snap.exists else None)[1]


def pull(subscriber: Any, name: str) -> list[dict]:
    """One pull, acknowledged; each message's data, its attributes checked."""
    answer = subscriber.pull(
        request={"subscription": name, "max_messages": 100, "return_immediately": True}
    )
    if not answer.received_messages:
        return []
    subscriber.acknowledge(
        request={"subscription": name, "ack_ids": [m.ack_id for m in answer.received_messages]}
    )
    bodies = []
    for m in answer.received_messages:
        body = json.loads(m.message.data)
        assert dict(m.message.attributes) == {
            "campaign_id": body["campaign_id"],
            "phase": body["phase"],
        }
        bodies.append(body)
    return bodies


def drain(subscriber: Any, name: str, want: set[str], timeout: float = 30.0) -> list[dict]:
    """Pull until every charge_id in `want` has arrived, then a second more
    (a message sent twice would arrive too)."""
    received: list[dict] = []
    deadline = time.monotonic() + timeout
    while not want <= {m["charge_id"] for m in received}:
        if time.monotonic() > deadline:
            got = sorted({m["charge_id"] for m in received})
            raise AssertionError(
                f"charges missing after {timeout} s: want {sorted(want)}, got {got}"
            )
        received += pull(subscriber, name)
        time.sleep(0.1)
    settle = time.monotonic() + 1.0
    while time.monotonic() < settle:
        received += pull(subscriber, name)
        time.sleep(0.1)
    return received


def test_every_settled_charge_is_exported_once_and_adds_up_to_the_ledger(stack, charges):
    subscriber, name = charges
    enable("c1", budget=5)
    enable("c2", budget=0.10)  # 0.067 buys the still; the clip (0.60) does not fit
    full = cutscene(1, turn_number=4)
    still_only = cutscene(2, campaign_id="c2", session_id="s9")
    publish(full)
    publish(still_only)
    done = wait_terminal("c1", full["request_id"])
    partial = wait_terminal("c2", still_only["request_id"])
    assert done["status"] == "complete"
    assert (partial["status"], partial["status_reason"]) == ("partial", "budget")

    sessions = {("c1", "s1"): done, ("c2", "s9"): partial}
    ledgers = {scope: books(*scope) for scope in sessions}
    assert set(ledgers[("c1", "s1")]) == {f"{done['asset_id']}:image", f"{done['asset_id']}:video"}
    assert set(ledgers[("c2", "s9")]) == {f"{partial['asset_id']}:image"}
    received = drain(subscriber, name, {k for keys in ledgers.values() for k in keys})
    # One message per charge: nothing was redelivered or closed here.
    assert sorted(m["charge_id"] for m in received) == sorted(
        k for keys in ledgers.values() for k in keys
    )

    validator = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for message in received:
        errors = [e.message for e in validator.iter_errors(message)]
        assert errors == [], message
        datetime.fromisoformat(message["settled_at"].replace("Z", "+00:00"))
    for (campaign_id, session_id), asset in sessions.items():
        distinct: dict[str, dict] = {}
        for m in received:
            if (m["campaign_id"], m["session_id"]) == (campaign_id, session_id):
                assert distinct.setdefault(m["charge_id"], m) == m  # a repeat is identical
        spent = ledger.read_balance(campaign_id, session_id).spent_micros
        total = sum(Decimal(m["cost_usd"]) for m in distinct.values())
        assert total * 1_000_000 == spent > 0
        assert {k: int(Decimal(m["cost_usd"]) * 1_000_000) for k, m in distinct.items()} == (
            ledgers[(campaign_id, session_id)]
        )
        plan = asset["plan"]
        for m in distinct.values():
            assert (m["asset_id"], m["request_id"]) == (asset["asset_id"], asset["request_id"])
            assert (m["turn_number"], m["player_id"], m["turn_id"]) == (
                asset["turn_number"],
                None,
                None,
            )
            assert m["provider"] == "vertex-ai"
            if m["phase"] == "image":
                assert (m["model"], m["units"]) == (plan["image_model"], {"images": 1})
            else:
                assert m["model"] == plan["video_model"]
                assert m["units"] == {"seconds": 4, "resolution": plan["video_resolution"]}
