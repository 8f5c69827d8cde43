"""Asset documents: the status state machine with guarded, forward-only moves."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from shared.core import clock, log
from shared.core.errors import Busy
from shared.domain.asset import Asset
from shared.domain.asset_fields import queued_asset
from shared.domain.clip import attempt_of
from shared.domain.paths import asset_doc
from shared.domain.request import MediaRequest
from shared.domain.status import TERMINAL, Reason, hidden_end, moves_forward
from shared.domain.status import is_terminal as is_terminal  # for the store's callers
from shared.store import connections, events
from shared.store.optimistic import Fields, now, read_modify_write, remember


def asset_ref(campaign_id: str, asset_id: str) -> Any:
    return connections.firestore_client().document(asset_doc(campaign_id, asset_id))


def load(campaign_id: str, asset_id: str) -> Asset | None:
    snap = asset_ref(campaign_id, asset_id).get()
    return Asset(snap.to_dict() or {}) if snap.exists else None


def load_fields(campaign_id: str, asset_id: str) -> Fields | None:
    """The document's raw fields, for readers that serialize it whole (media_api)."""
    found = load(campaign_id, asset_id)
    return found.to_fields() if found is not None else None


def new_asset(request: MediaRequest, asset_id: str, published_at: datetime | None = None) -> Fields:
    return queued_asset(request, asset_id, now(), published_at)


def create_if_absent(campaign_id: str, asset_id: str, fields: Fields) -> tuple[Asset, bool]:
    """Create the asset, or return the one a previous delivery created.

    Creating first (rather than reading first) saves a round trip on the
    common path, where the request is new."""
    from google.api_core import exceptions as gexc

    ref = asset_ref(campaign_id, asset_id)
    try:
        written = ref.create(fields)
    except gexc.Conflict:
        snap = ref.get()
        if snap.exists:
            return Asset(snap.to_dict() or {}), False
        return create_if_absent(campaign_id, asset_id, fields)  # deleted meanwhile
    remember(ref.path, fields, written.update_time)
    created = Asset(fields)
    events.publish_status(created)
    return created, True


def transition(
    campaign_id: str,
    asset_id: str,
    status: str,
    reason: str | None = None,
    stage_ms: dict[str, int] | None = None,
    attempt: int | None = None,
    **fields: Any,
) -> Asset | None:
    """Move forward to `status` with `fields`; None if the asset is there or
    past it, or (`attempt` given) if its clip is at another attempt: a worker
    of an earlier attempt (a stale check) never ends an owner's retry."""

    def mutate(doc: Fields | None) -> tuple[Fields | None, Asset | None]:
        if doc is None or doc.get("status") in TERMINAL:
            return None, None
        if attempt is not None and attempt_of(doc) != attempt:
            log.warning(
                "transition_refused",
                f"{status} for clip attempt {attempt} refused: the asset is at "
                f"attempt {attempt_of(doc)}",
                attempt=attempt,
            )
            return None, None
        to, why, extra = status, reason, fields
        if doc.get("hidden") and reason != Reason.HIDDEN:
            # Hidden in flight: whatever stage just ended, the asset ends here
            # (in the same transaction, so no stage moves past a hide).
            extra = {**fields, "lease": None}
            to, why = hidden_end({**doc, **fields}), Reason.HIDDEN
        elif not moves_forward(doc["status"], status):
            # Already there: another delivery made this move (and may hold the
            # stage's lease, which a repeated move would wrongly clear).
            return None, None
        stamp = now()
        # A lease covers one stage: the next stage's worker must not wait it
        # out (unless the caller takes the next stage itself: fields["lease"]).
        update: Fields = {
            "status": to,
            "status_reason": why,
            "updated_at": stamp,
            "lease": None,
            **extra,
        }
        if stage_ms:
            update["stage_ms"] = {**(doc.get("stage_ms") or {}), **stage_ms}
        if to in TERMINAL:
            update["completed_at"] = stamp
        return update, Asset({**doc, **update})

    updated = read_modify_write(asset_ref(campaign_id, asset_id), mutate, reuse_version=True)
    if updated is not None:
        events.publish_status(updated)
        if updated["status"] in TERMINAL:
            log.info(
                "asset_terminal",
                f"asset {asset_id} is {updated['status']}",
                status=updated["status"],
                status_reason=updated.get("status_reason"),
                cost_usd=updated.get("cost_usd"),
                stage_ms=updated.get("stage_ms"),
                kind=updated.get("kind"),
                error=updated.get("error"),
            )
    return updated


def update_fields(campaign_id: str, asset_id: str, **fields: Any) -> None:
    """Record progress (an operation name, timings) without a status change."""

    def mutate(doc: Fields | None) -> tuple[Fields | None, None]:
        if doc is None or doc.get("status") in TERMINAL:
            return None, None
        update = {**fields, "updated_at": now()}
        if "stage_ms" in fields:
            update["stage_ms"] = {**(doc.get("stage_ms") or {}), **fields["stage_ms"]}
        return update, None

    read_modify_write(asset_ref(campaign_id, asset_id), mutate)


def new_owner() -> str:
    return uuid.uuid4().hex


def claim(campaign_id: str, asset_id: str, owner: str, lease_s: float, stage: str) -> bool:
    """Take (or renew) the right to work on an asset's `stage` (its status)
    for `lease_s` seconds.

    Two deliveries of one message can run at once; the lease makes the second
    step back (and be retried) instead of calling a paid model a second time.
    A crashed holder's lease simply runs out. Only the asset's current stage
    can be claimed: a late duplicate of an earlier stage gets nothing.
    """

    def mutate(doc: Fields | None) -> tuple[Fields | None, bool]:
        if doc is None or doc.get("status") != stage:
            return None, False
        lease = doc.get("lease") or {}
        if lease.get("owner") not in (None, owner) and lease.get("until", 0) > clock.time():
            return None, False
        return {"lease": {"owner": owner, "until": clock.time() + lease_s}}, True

    return read_modify_write(asset_ref(campaign_id, asset_id), mutate, reuse_version=True)


def lease_live(doc: Mapping[str, Any]) -> bool:
    """Whether some delivery is working on the asset right now."""
    lease = doc.get("lease") or {}
    return bool(lease.get("owner")) and float(lease.get("until", 0)) > clock.time()


def write_call_intent(campaign_id: str, asset_id: str, owner: str, stage: str) -> int | None:
    """Before a paid model call of `stage`: count it on the asset (`calls`,
    with `call_intent_at`), in a write that holds only while `owner` holds
    the stage's lease. Returns the calls made for this stage so far, this
    one included; None when the stage is no longer this owner's (no call)."""

    def mutate(doc: Fields | None) -> tuple[Fields | None, int | None]:
        if doc is None or doc.get("status") != stage:
            return None, None
        if (doc.get("lease") or {}).get("owner") != owner:
            return None, None
        calls = dict(doc.get("calls") or {})
        calls[stage] = int(calls.get(stage) or 0) + 1
        return {"calls": calls, "call_intent_at": clock.time()}, calls[stage]

    return read_modify_write(asset_ref(campaign_id, asset_id), mutate, reuse_version=True)


def release_lease(campaign_id: str, asset_id: str, owner: str) -> None:
    """Give the stage back; a later delivery may take it at once."""

    def mutate(doc: Fields | None) -> tuple[Fields | None, None]:
        if doc is None or (doc.get("lease") or {}).get("owner") != owner:
            return None, None
        return {"lease": None}, None

    # Usually this invocation's last write already cleared the lease (every
    # transition does): then the remembered version answers with no round trip.
    read_modify_write(asset_ref(campaign_id, asset_id), mutate, reuse_version=True)


def lease_for(owner: str, lease_s: float) -> Fields:
    """A lease to write with a transition, so that taking the next stage costs
    no separate claim."""
    return {"owner": owner, "until": clock.time() + lease_s}


class Keeper:
    """Renews a lease in the background while a long call runs, and tells
    whether it is still ours: a paid call must never start (nor its result be
    recorded) for a stage another delivery has taken over."""

    def __init__(
        self, campaign_id: str, asset_id: str, owner: str, lease_s: float, stage: str
    ) -> None:
        self._args = (campaign_id, asset_id, owner, lease_s, stage)
        self._every = max(0.2, lease_s / 3)
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"lease-{asset_id[:8]}")

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                if not claim(*self._args):
                    self._lost.set()
                    return
            except Exception as exc:  # noqa: BLE001 - the next renewal tries again
                log.warning("lease_renewal_failed", f"lease not renewed: {exc}")

    def start(self) -> Keeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def ensure(self) -> None:
        """Raise Busy unless the lease is still ours (renewing it on the way)."""
        if self._lost.is_set() or not claim(*self._args):
            self._lost.set()
            raise Busy("the stage's lease was taken over by another delivery")


@contextmanager
def leased(
    campaign_id: str, asset_id: str, owner: str, lease_s: float, stage: str, held: bool = False
) -> Iterator[Keeper]:
    """Hold the asset's lease for `stage` (`held`: this delivery's transition
    just wrote it), renewed while the block runs, and give it back however the
    block ends."""
    if not held and not claim(campaign_id, asset_id, owner, lease_s, stage):
        raise Busy("another delivery is working on this asset")
    keeper = Keeper(campaign_id, asset_id, owner, lease_s, stage).start()
    try:
        yield keeper
    finally:
        keeper.stop()
        release_lease(campaign_id, asset_id, owner)
