"""Money holds when an asset is closed while its clip renders.

The configured cap is the bound (never moved to fit), a settle of a key that
is not held charges nothing, and a clip that lands for a closed asset is left
unbilled and unattached (docs/decisions/0006-late-clips.md).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from shared.client import configure_campaign
from shared.core.errors import Busy
from shared.core.settings import get_settings
from shared.domain.ids import asset_id_for
from shared.domain.paths import video_output_prefix
from shared.pipeline.finish import finish_operation
from shared.pipeline.lifecycle import close_expired
from shared.store import assets, connections, ledger
from shared.store.connections import storage_client
from shared.store.media_models import ClipResult, GenaiVideoModel
from tests.integration.helpers import (
    bucket_names,
    cutscene,
    emulator,
    enable,
    http_json,
    publish,
    wait_terminal,
)


def session_docs(session: str = "s1") -> list[dict]:
    from google.cloud.firestore_v1.base_query import FieldFilter

    query = (
        connections.firestore_client()
        .collection_group("media")
        .where(filter=FieldFilter("session_id", "==", session))
    )
    return [s.to_dict() for s in query.stream()]


def assert_books_balance(cap_micros: int, session: str = "s1") -> None:
    """The invariants the issue asks for, against the configured cap."""
    snap = ledger.ledger_ref("c1", session).get().to_dict()
    assert snap["cap_micros"] == cap_micros, snap  # never moved to fit
    assert snap["spent_micros"] + snap["reserved_micros"] <= cap_micros, snap
    assert snap["reserved_micros"] == 0, snap
    costs = sum(round(d.get("cost_usd") or 0, 6) for d in session_docs(session))
    assert round(costs * 1_000_000) == snap["spent_micros"], (costs, snap)


def test_a_settle_of_a_released_key_charges_nothing(stack):
    assert ledger.reserve_first_fit("c1", "s1", 500_000, [{"a:video": 400_000}]) == 0
    ledger.release("c1", "s1", ["a:video"])
    assert ledger.settle("c1", "s1", "a:video", 400_000) is False
    assert ledger.reserve_first_fit("c1", "s1", 500_000, [{"b:video": 400_000}]) == 0
    assert ledger.settle("c1", "s1", "b:video", 400_000) is True
    assert ledger.settle("c1", "s1", "b:video", 400_000) is True  # a repeat: no-op
    balance = ledger.read_balance("c1", "s1")
    assert (balance.cap_micros, balance.spent_micros, balance.reserved_micros) == (
        500_000,
        400_000,
        0,
    )


def test_a_lowered_budget_shows_at_once_and_is_never_raised_to_fit(stack):
    configure_campaign("c1", enabled=True, budget_usd=1.0, members=["alice"])
    assert ledger.reserve_first_fit("c1", "s1", 1_000_000, [{"a:image": 600_000}]) == 0
    configure_campaign("c1", budget_usd=0.5)
    doc = ledger.ledger_ref("c1", "s1").get().to_dict()
    assert (doc["cap_usd"], doc["reserved_usd"]) == (0.5, 0.6)  # no reservation needed
    ledger.settle("c1", "s1", "a:image", 600_000)
    doc = ledger.ledger_ref("c1", "s1").get().to_dict()
    assert (doc["cap_usd"], doc["spent_usd"]) == (0.5, 0.6)
    assert ledger.reserve_first_fit("c1", "s1", 500_000, [{"b:image": 1}]) is None


class ClosedWhileRendering:
    """Veo at the boundary: the clip finishes, and the janitor closes the asset
    at that very moment (the race the deadline sweep runs into)."""

    def __init__(self, doc: dict, uri: str):
        self.doc, self.uri = doc, uri

    def start(self, *args, **kwargs) -> str:
        raise AssertionError("the operation was already started")

    def poll(self, operation_name: str) -> ClipResult:
        close_expired(assets.load(self.doc["campaign_id"], self.doc["asset_id"]))
        return ClipResult(done=True, uri=self.uri)


def test_a_clip_landing_after_its_asset_closed_is_neither_charged_nor_attached(stack, capsys):
    enable(budget=0.7)  # a 4 s cutscene: $0.067 + 4 x $0.15
    emulator(
        stack,
        "POST",
        "/_emulator/faults",
        {"method": "predictLongRunning", "kind": "hang", "count": 1},
    )
    message = cutscene(1)
    publish(message)
    aid = asset_id_for(message["request_id"])
    deadline = time.monotonic() + 60
    while not (assets.load("c1", aid) or {}).get("video_operation"):
        assert time.monotonic() < deadline, "Veo was never started"
        time.sleep(0.05)
    doc = assets.load("c1", aid)
    # Veo's output, as it would land for this asset.
    output = f"{video_output_prefix('c1', aid)}/123/sample_0.mp4"
    bucket = storage_client().bucket(get_settings().MEDIA_BUCKET)
    bucket.blob(output).upload_from_string(b"\x00\x00\x00\x18ftypmp42", content_type="video/mp4")
    uri = f"gs://{get_settings().MEDIA_BUCKET}/{output}"
    # The bucket event for that object runs finish_clip too (it finds the
    # operation hanging): this call waits its turn for the asset's lease.
    while True:
        try:
            finish_operation(doc, doc["video_operation"], ClosedWhileRendering(doc, uri))
            break
        except Busy:
            assert time.monotonic() < deadline, "the lease never came free"
            time.sleep(0.1)
    final = assets.load("c1", aid)
    assert (final["status"], final["status_reason"]) == ("partial", "timeout")
    assert final.get("video") is None
    assert bucket_names(f"media/c1/{aid}.mp4") == []
    balance = ledger.read_balance("c1", "s1")
    assert (balance.spent_micros, balance.reserved_micros) == (67_000, 0)  # the still only
    assert_books_balance(700_000)
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    late = [x for x in lines if x.get("event") == "late_result"]
    assert late and late[0]["unbilled_usd"] == 0.6


def test_a_janitor_sweep_while_the_clip_renders_keeps_the_configured_cap(stack):
    """The issue's reproduction: the sweep closes a rendering asset and frees
    its video hold, another request takes the room, then the clip lands."""
    stack.restart_function("janitor", {"MEDIA_DEADLINE_S": "1"})
    try:
        enable(budget=0.7)  # a 4 s cutscene: $0.067 + 4 x $0.15
        # The clip lands 3 s after Veo starts: after the sweep below, before
        # the poller's first look at the asset (5 s), as in the issue.
        emulator(stack, "POST", "/_emulator/latency", {"video_s": 3.0})
        first = cutscene(1)
        publish(first)
        aid = asset_id_for(first["request_id"])
        deadline = time.monotonic() + 60
        while not (assets.load("c1", aid) or {}).get("video_operation"):
            assert time.monotonic() < deadline, "Veo was never started"
            time.sleep(0.05)
        # Backdate it past the janitor's 1 s deadline, then sweep.
        past = datetime.now(UTC) - timedelta(seconds=30)
        assets.asset_ref("c1", aid).update({"created_at": past, "published_at": past})
        assert http_json("POST", stack.env["JANITOR_URL"], {}) == {"closed": 1}
        second = cutscene(2)  # the freed room: a still (the clip no longer fits)
        publish(second)
        wait_terminal("c1", second["request_id"], timeout=60)
        # The clip lands (the operation reads done once its MP4 is written)
        # and its bucket event acts on it: the output left veo-out/ (dropped
        # as late).
        operation = assets.load("c1", aid)["video_operation"]
        deadline = time.monotonic() + 60
        while not GenaiVideoModel().poll(operation).done or bucket_names("veo-out/"):
            assert time.monotonic() < deadline, "the clip never landed"
            time.sleep(0.1)
        closed = assets.load("c1", aid)
        assert (closed["status"], closed["status_reason"]) == ("partial", "timeout"), closed
        assert bucket_names(f"media/c1/{aid}.mp4") == []
        settled = time.monotonic() + 10  # the poller's last writes, if any, land by then
        while True:
            try:
                assert_books_balance(700_000)
                break
            except AssertionError:
                if time.monotonic() > settled:
                    raise
                time.sleep(0.2)
    finally:
        stack.restart_function("janitor")
