"""Optimistic read-modify-write on one Firestore document.

Why not transactions: on the Firestore emulator more than about five
concurrent transactions reading one document livelock (a read takes a lock,
commits wait for it, the client retries without backoff), and in the cloud
they contend the same way, only slower. A plain read followed by a write with
an update-time precondition takes no lock; a loser re-reads and retries after
a jittered, growing pause. See docs/decisions/0001-ledger.md.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from shared.core.errors import TransientError
from shared.store import connections

T = TypeVar("T")
# A document's raw fields as Firestore holds them. Raw fields live only here,
# at the store's edge: the store reads them into typed records (an Asset,
# a Balance, a Campaign) for everything past it.
Fields = dict[str, Any]
# mutate(current or None) -> (fields to write or None for "no write", result)
Mutation = Callable[[Fields | None], tuple[Fields | None, T]]


def now() -> datetime:
    return datetime.now(UTC)


# The version of each document this invocation last wrote (or created):
# the next change to it can skip the read. The write's precondition makes a
# stale entry harmless: it fails, and the loop reads afresh.
_written: ContextVar[dict[str, tuple[Fields, Any]] | None] = ContextVar(
    "written_versions", default=None
)


def forget_versions() -> None:
    _written.set({})


def remember(path: str, doc: Fields, update_time: Any) -> None:
    versions = _written.get()
    if versions is None:
        versions = {}
        _written.set(versions)
    versions[path] = (copy.deepcopy(doc), update_time)


def read_modify_write(
    ref: Any, mutate: Mutation[T], *, give_up_s: float = 20.0, reuse_version: bool = False
) -> T:
    """Apply `mutate` to the document's current state, atomically.

    `reuse_version`: start from the version this invocation last wrote, if
    any, instead of reading it (one round trip less on the common path)."""
    from google.api_core import exceptions as gexc

    client = connections.firestore_client()
    started = time.monotonic()
    pause = 0.004
    known = (_written.get() or {}).get(ref.path) if reuse_version else None
    while True:
        current: Fields | None
        if known is not None:
            current, update_time = copy.deepcopy(known[0]), known[1]
            known = None
        else:
            snap = ref.get()
            current, update_time = (snap.to_dict() if snap.exists else None), snap.update_time
        fields, result = mutate(current)
        if fields is None:
            return result
        try:
            if current is None:
                written = ref.create(fields)
                merged = dict(fields)
            else:
                written = ref.update(
                    fields, option=client.write_option(last_update_time=update_time)
                )
                merged = {**current, **fields}
            if reuse_version:
                remember(ref.path, merged, written.update_time)
            return result
        except (gexc.Conflict, gexc.FailedPrecondition, gexc.Aborted, gexc.NotFound):
            pass  # someone else wrote first (or deleted): read again
        if time.monotonic() - started > give_up_s:
            raise TransientError(f"contention on {ref.path} for {give_up_s:.0f} s")
        time.sleep(random.uniform(0, pause))  # full jitter spreads the losers out
        pause = min(pause * 2, 0.25)


def ttl_timestamp(after_s: float) -> datetime:
    """`delete_after` for a short-lived document: Firestore's TTL policy
    (terraform firestore.tf) deletes it some time after this instant."""
    return datetime.now(UTC) + timedelta(seconds=after_s)
