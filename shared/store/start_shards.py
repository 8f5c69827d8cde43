"""Shards of one Veo model's start log, for a quota past one document's writes.

Firestore sustains about one write a second per document, and the start log
takes one write per start (shared/store/pacing.py): one document per model
and region stops near 60 starts a minute. A model whose budget is past
SHARD_PER_MIN is split: its quota is divided among `shards` documents
(`{log}:s{i}`), each a rolling log of its own with a budget of
per_min / shards (the remainder to the first ones), so the budgets sum to
the quota exactly. Each shard admits no more than its budget over its
window, so the model admits no more than the sum, the quota, in any rolling
window: the guarantee does not depend on which shard a start picks.

A start tries the shards from a random one round the ring, and takes the
first that admits it (a full shard costs a read, never a write), so busy
dispatchers on different instances rarely contend for one document.

A log past SPACED_PAST starts a minute also keeps the starts on each of its
documents one `gap` apart (a second of the quota's minute, shorter when
MEDIA_VEO_PACING_WINDOW_S compresses it): a backlog's first window, which
the rolling log would otherwise admit in a burst (half the budget at once),
goes to each document one a second, so none takes more than one write in
any second. A log of SPACED_PAST or fewer keeps its burst: at most half its
budget, 10 writes, in any half window, so no more than ten in any ten
seconds. See docs/decisions/0027-sharded-start-log.md.
"""

from __future__ import annotations

import random

# Starts a minute one document takes: 0.67 writes a second sustained, a third
# below Firestore's one a second, room for the transaction retries a
# contended shard costs.
SHARD_PER_MIN = 40
# Past this many starts a minute a log's documents space their starts: its
# half-window burst would be more than ten writes at once.
SPACED_PAST = 20


def shard_count(per_min: int) -> int:
    """How many documents a budget of `per_min` starts a minute is split into."""
    return max(1, -(-per_min // SHARD_PER_MIN))


def spaced(per_min: int) -> bool:
    """Whether a log of `per_min` starts a minute spaces them (gap_s)."""
    return per_min > SPACED_PAST


def split(per_min: int, shards: int) -> list[int]:
    """Each shard's budget: whole starts that sum to `per_min` exactly."""
    base, extra = divmod(per_min, shards)
    return [base + (1 if i < extra else 0) for i in range(shards)]


def shard_doc_ids(doc_id: str, shards: int) -> list[str]:
    """The shards' documents; one shard is the log's own document (unchanged)."""
    return [doc_id] if shards == 1 else [f"{doc_id}:s{i}" for i in range(shards)]


def try_order(shards: int, rng: random.Random | None = None) -> list[int]:
    """Which shards a start tries, in turn: every one, from a random one."""
    first = (rng or random).randrange(shards)
    return [(first + i) % shards for i in range(shards)]


def gap_s(window_s: float) -> float:
    """The least time between two starts on one shard: one second of the
    quota's minute (the window may be compressed for a benchmark)."""
    return window_s / 60.0


def merge(histories: list[dict[str, tuple[float, float]]]) -> dict[str, tuple[float, float]]:
    """The shards' wait histories as one: each campaign's sums added."""
    merged: dict[str, tuple[float, float]] = {}
    for history in histories:
        for campaign, (total, count) in history.items():
            t, c = merged.get(campaign, (0.0, 0.0))
            merged[campaign] = (t + total, c + count)
    return merged
