"""The ledger invariant under random concurrent interleavings.

A fake document store with Firestore's update-time preconditions stands in for
the emulator (the burst test in tests/integration covers the real one); many
threads reserve, settle and release at once, and every committed write is
checked against spent + reserved <= cap.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.store import ledger


class Conflict(Exception):
    pass


class FakeDoc:
    def __init__(self, rng: random.Random):
        self.data = None
        self.version = 0
        self.lock = threading.Lock()
        self.rng = rng
        self.path = "campaigns/c/sessions/s"
        self.violations: list[dict] = []

    def get(self):
        with self.lock:
            seen = copy.deepcopy(self.data)
            snap = SimpleNamespace(
                exists=seen is not None,
                update_time=self.version,
                to_dict=lambda: copy.deepcopy(seen),
            )
        time.sleep(self.rng.random() * 0.002)  # widen the read-to-write window
        return snap

    def _commit(self, fields):
        self.data = {**(self.data or {}), **copy.deepcopy(fields)}
        self.version += 1
        d = self.data
        if d["spent_micros"] + d["reserved_micros"] > d["cap_micros"]:
            self.violations.append(copy.deepcopy(d))
        if sum(d["holds"].values()) != d["reserved_micros"]:
            self.violations.append(copy.deepcopy(d))

    def create(self, fields):
        with self.lock:
            if self.data is not None:
                raise Conflict()
            self._commit(fields)

    def update(self, fields, option=None):
        with self.lock:
            if option is not None and option != self.version:
                raise Conflict()
            self._commit(fields)


def patched(doc: FakeDoc) -> pytest.MonkeyPatch:
    from google.api_core import exceptions as gexc

    patch = pytest.MonkeyPatch()
    patch.setattr(gexc, "Conflict", Conflict)
    client = SimpleNamespace(write_option=lambda last_update_time: last_update_time)
    patch.setattr("shared.store.connections.firestore_client", lambda: client)
    patch.setattr(ledger, "ledger_ref", lambda c, s: doc)
    return patch


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    cap=st.integers(0, 3_000_000),
    costs=st.lists(
        st.tuples(
            st.integers(1, 900_000),
            st.integers(0, 900_000),
            st.sampled_from(["settle", "release", "settle_image", "late"]),
        ),
        min_size=1,
        max_size=24,
    ),
)
def test_spent_plus_reserved_never_exceeds_cap(seed, cap, costs):
    doc = FakeDoc(random.Random(seed))
    patch = patched(doc)
    expected_spent: list[int] = []

    def one_request(i, image, video, ending):
        img, vid = ledger.hold_key(f"a{i}", "image"), ledger.hold_key(f"a{i}", "video")
        choice = ledger.reserve_first_fit("c", "s", cap, [{img: image, vid: video}, {img: image}])
        if choice is None:
            return
        # Redelivery: the same reservation again changes nothing.
        assert (
            ledger.reserve_first_fit("c", "s", cap, [{img: image, vid: video}, {img: image}])
            == choice
        )
        if ending in ("release", "late"):
            ledger.release("c", "s", [img, vid])
            if ending == "late":  # results landing after the asset was closed
                assert ledger.settle("c", "s", img, image) is False
                assert ledger.settle("c", "s", vid, video) is False
            return
        ledger.settle("c", "s", img, image)
        ledger.settle("c", "s", img, image)  # a duplicate settle is a no-op
        spent = image
        if choice == 0 and ending == "settle":
            ledger.settle("c", "s", vid, video)
            spent += video
        else:
            ledger.release("c", "s", [vid])
        expected_spent.append(spent)

    errors: list[BaseException] = []

    def run(*args):
        try:
            one_request(*args)
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, *c)) for i, c in enumerate(costs)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        patch.undo()
    assert errors == []
    assert doc.violations == []
    final = ledger.balance_of(doc.data)
    assert final.reserved_micros == 0
    assert final.spent_micros == sum(expected_spent) <= max(cap, 0)
