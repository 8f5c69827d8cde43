"""A paid image call never starts for a stage this delivery no longer owns.

The lease check runs before every attempt, retries included: a delivery whose
lease was taken over mid-way (a slow call, a lost renewal) steps back (Busy)
instead of paying for a second image.
"""

from __future__ import annotations

import pytest

from shared.core import clock
from shared.core.errors import Busy, TransientError
from shared.domain.campaign import Plan
from shared.domain.request import parse_request
from shared.pipeline.render import make_still
from shared.store import image_pacing
from shared.store.media_models import Still

PLAN = Plan(
    image_model="gemini-3.1-flash-image-preview",
    image_size="1K",
    image_micros=67_000,
    video_model=None,
    video_resolution="720p",
    video_audio=False,
    duration_seconds=4,
    video_micros=0,
)
REQUEST = parse_request(
    {
        "schema": "media.request.v1",
        "request_id": "req-lease-1",
        "campaign_id": "c1",
        "session_id": "s1",
        "turn_number": 1,
        "kind": "npc_portrait",
        "subject": "Rei",
        "image_prompt": "a face",
    },
    "bucket",
)


@pytest.fixture(autouse=True)
def free_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Image calls are paced by default: every turn free at once, no Firestore."""
    monkeypatch.setattr(
        image_pacing, "take_slot", lambda model, lim, wait_s: image_pacing.Slot(clock.time(), 0)
    )


class Model:
    def __init__(self, failures: int) -> None:
        self.calls, self.failures = 0, failures

    def generate(self, *args) -> Still:
        self.calls += 1
        if self.calls <= self.failures:
            raise TransientError("503")
        raise AssertionError("a paid call was made for a stage someone else holds")


def test_no_call_when_the_lease_is_already_lost():
    model = Model(failures=0)

    def lost() -> None:
        raise Busy("taken over")

    with pytest.raises(Busy):
        make_still(REQUEST, PLAN, model, fresh=True, owns=lost)
    assert model.calls == 0


def test_a_retry_checks_the_lease_again():
    model = Model(failures=1)
    checks: list[int] = []

    def owns() -> None:
        checks.append(1)
        if len(checks) > 1:
            raise Busy("taken over while the first attempt failed")

    with pytest.raises(Busy):
        make_still(REQUEST, PLAN, model, fresh=True, owns=owns)
    assert (model.calls, len(checks)) == (1, 2)
