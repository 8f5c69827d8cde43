"""Optimistic read-modify-write on one Firestore document.

Why not transactions: on the Firestore emulator more than about five
concurrent transactions reading one document livelock (a read takes a lock,
commits wait for it, the client retries without backoff), and in the cloud
they contend the same way, only slower. A plain read followed by a write with
an update-time precondition takes no lock; a loser re-reads and retries after
a jittered, growing pause. See docs/decisions/0001-ledger.md.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from shared.errors import TransientError

T = TypeVar("T")
# mutate(current or None) -> (fields to write or None for "no write", result)
Mutation = Callable[[dict[str, Any] | None], tuple[dict[str, Any] | None, T]]


def now() -> datetime:
    return datetime.now(UTC)


def read_modify_write(ref: Any, mutate: Mutation[T], *, give_up_s: float = 20.0) -> T:
    from google.api_core import exceptions as gexc

    from shared.clients import firestore_client

    client = firestore_client()
    started = time.monotonic()
    pause = 0.004
    while True:
        snap = ref.get()
        current = snap.to_dict() if snap.exists else None
        fields, result = mutate(current)
        if fields is None:
            return result
        try:
            if current is None:
                ref.create(fields)
            else:
                ref.update(fields, option=client.write_option(last_update_time=snap.update_time))
            return result
        except (gexc.Conflict, gexc.FailedPrecondition, gexc.Aborted, gexc.NotFound):
            pass  # someone else wrote first (or deleted): read again
        if time.monotonic() - started > give_up_s:
            raise TransientError(f"contention on {ref.path} for {give_up_s:.0f} s")
        time.sleep(random.uniform(0, pause))  # full jitter spreads the losers out
        pause = min(pause * 2, 0.25)
