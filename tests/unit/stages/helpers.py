"""Deliveries as the functions receive them (through
shared/pipeline/entry.run_pubsub), crashes at checkpoints, and requests."""

from __future__ import annotations

import contextvars
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from shared.core import clock as pipeline_clock
from shared.core.settings import get_settings
from shared.domain.campaign import Plan
from shared.domain.ids import asset_id_for
from shared.domain.messages import animate_message
from shared.pipeline import animate, finish, render, starts
from shared.pipeline.entry import run_pubsub
from shared.pipeline.lifecycle import stored_plan
from tests.unit.fakes import CloudEvent, Crash, FakeImageModel, FakeVideoModel, World

# Variables a surrounding test session (the integration stack) may have set.
ENV = (
    "FIRESTORE_EMULATOR_HOST",
    "STORAGE_EMULATOR_HOST",
    "PUBSUB_EMULATOR_HOST",
    "GENAI_EMULATOR_URL",
    "MEDIA_CRASH_AFTER",
    "MEDIA_DAILY_CAP_USD",
    "MEDIA_VEO_STARTS_PER_MIN",
    "MEDIA_DEADLINE_S",
    "MEDIA_BUCKET",
    "MEDIA_PRICING_FILE",
    "MEDIA_IMAGE_BLOCK_RETRIES",
    "MEDIA_VEO_FAIRNESS",
    "MEDIA_VEO_PACING_WINDOW_S",
    "MEDIA_VEO_DISPATCH_HOLD_S",
    "MEDIA_MODEL_QUOTAS",
    "MEDIA_MODEL_LOCATIONS",
    "MEDIA_IMAGE_CALLS_PER_MIN",
)


def configure(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def crash_at(monkeypatch: pytest.MonkeyPatch, step: str) -> list[str]:
    """Kill the first delivery that gets past `step`
    (shared/pipeline/checks.CRASH_POINTS); returns the steps it fired at."""
    fired: list[str] = []

    def checkpoint(name: str) -> None:
        if name == step and not fired:
            fired.append(name)
            raise Crash(step)

    for module in (render, starts, finish):
        monkeypatch.setattr(module, "checkpoint", checkpoint)
    return fired


def request(
    request_id: str = "req-0001",
    kind: str = "cutscene",
    session: str = "s1",
    campaign: str = "c1",
    **extra: Any,
) -> bytes:
    body: dict[str, Any] = {
        "schema": "media.request.v1",
        "request_id": request_id,
        "campaign_id": campaign,
        "session_id": session,
        "turn_number": 3,
        "kind": kind,
        "image_prompt": f"the blade meets the claw ({request_id})",
    }
    if kind == "cutscene":
        body.update(cutscene_type="action_climax", motion_prompt="camera orbits the clash")
    else:
        body["subject"] = "Rei"
    body.update(extra)
    return json.dumps(body).encode()


def aid(request_id: str = "req-0001") -> str:
    return asset_id_for(request_id)


def invoke(function: str, handler: Callable[..., None], event: CloudEvent) -> None:
    """One invocation of a Pub/Sub function, in a context of its own: what one
    delivery remembers (shared/store/optimistic.py) never reaches the test's
    own calls, which stand for another process (the API, the janitor)."""
    contextvars.Context().run(run_pubsub, event, function, handler)


def deliver_request(
    data: bytes, image: FakeImageModel, event_id: str = "ev-1", published_at: datetime | None = None
) -> None:
    event = CloudEvent(data, event_id, published_at or datetime.now(UTC))
    invoke("render_still", partial(render.handle_request, image_model=image), event)


def deliver_animate(
    campaign_id: str, asset_id: str, video: FakeVideoModel, event_id: str = "an-1"
) -> None:
    data = json.dumps(animate_message(campaign_id, asset_id)).encode()
    invoke(
        "animate_still",
        partial(animate.handle_animate, model=video),
        CloudEvent(data, event_id, None),
    )


def deliver_finalize(payload: bytes, video: FakeVideoModel, event_id: str = "fin-1") -> None:
    invoke(
        "finish_clip",
        partial(finish.handle_finalize, model=video),
        CloudEvent(payload, event_id, None),
    )


def drain(world: World, video: FakeVideoModel) -> None:
    """Deliver every published animate message, then every Veo output's event."""
    while world.animate_messages:
        deliver_animate(*world.animate_messages.pop(0), video)
    for payload in world.finalize_events():
        deliver_finalize(payload, video)


def run(
    world: World, image: FakeImageModel, video: FakeVideoModel, data: bytes | None = None
) -> dict[str, Any]:
    """One request through render, animate and finish; returns its asset."""
    data = data or request()
    deliver_request(data, image)
    drain(world, video)
    body = json.loads(data)
    return world.asset(body["campaign_id"], asset_id_for(body["request_id"]))


def plan_of(doc: dict[str, Any]) -> Plan:
    return stored_plan(doc)[0]


def usd(micros: int) -> float:
    return round(micros / 1_000_000, 6)


class Clock(pipeline_clock.StepClock):
    """The pipeline's clock (shared/core/clock.py), moved on by its own sleeps,
    from now."""

    def __init__(self) -> None:
        super().__init__(time.time())

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(pipeline_clock, "_current", self)
