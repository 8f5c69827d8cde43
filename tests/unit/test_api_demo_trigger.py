"""The demo page's backend: publishes a request, against the emulators only."""

from __future__ import annotations

import pytest

from infra.local import demo_trigger
from shared.client import PublishResult
from shared.store.connections import reset_all


@pytest.fixture
def emulated(monkeypatch):
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1")
    reset_all()
    published: list[dict] = []
    monkeypatch.setattr(demo_trigger, "_ensure_campaign", lambda cid: None)
    monkeypatch.setattr(
        "shared.client.publish_request",
        lambda message: (
            published.append(message) or PublishResult(True, message["request_id"], "a" * 32)
        ),
    )
    yield published
    reset_all()


def test_refuses_to_run_against_a_real_project(monkeypatch):
    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
    status, body = demo_trigger.handle_trigger({"image_prompt": "x"})
    assert status == 403 and body["error"]["code"] == 403
    assert demo_trigger.handle_setup({})[0] == 403


def test_publishes_the_form_as_a_request(emulated):
    status, body = demo_trigger.handle_trigger(
        {
            "campaign_id": "demo",
            "session_id": "s1",
            "turn_number": 4,
            "kind": "cutscene",
            "cutscene_type": "plot_twist",
            "image_prompt": "the mask falls",
            "motion_prompt": "slow push in",
            "subject": None,
            "unknown": "ignored",
        }
    )
    assert status == 202 and body["asset_id"] == "a" * 32 and body["turn_number"] == 4
    [message] = emulated
    assert message["schema"] == "media.request.v1" and message["kind"] == "cutscene"
    assert "unknown" not in message and "subject" not in message


@pytest.mark.parametrize("body", [[], "x", {"campaign_id": "../x"}, {"campaign_id": "é"}])
def test_bad_bodies_are_400(emulated, body):
    assert demo_trigger.handle_trigger(body)[0] == 400
    assert not emulated


def test_the_stack_env_reaches_the_clients(monkeypatch, emulated):
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:2")
    demo_trigger.use_stack_env({"PUBSUB_EMULATOR_HOST": "127.0.0.1:3"})
    from shared.core.settings import get_settings

    assert get_settings().PUBSUB_EMULATOR_HOST == "127.0.0.1:3"
