"""A local stack for a block of tests, with this process's clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra.local.stack import LocalStack
from shared.store.connections import reset_all

ROOT = Path(__file__).resolve().parents[1]


# Overdue Veo operations (errors, blocks) are asked about after 3 s, not a
# minute, so tests of them end quickly; the backoff stays exponential.
FAST_SWEEP = {
    "MEDIA_VIDEO_EXPECTED_S": "3",
    "MEDIA_VIDEO_EXPECTED_PER_S": "0",
    "MEDIA_VIDEO_SWEEP_FIRST_S": "1",
    "MEDIA_VIDEO_SWEEP_MAX_S": "5",
}


@contextmanager
def running_stack(extra_env: dict[str, str] | None = None) -> Iterator[LocalStack]:
    stack = LocalStack.start(ROOT, extra_env={**FAST_SWEEP, **(extra_env or {})})
    try:
        with stack.environ():
            reset_all()  # clients built from here on talk to this stack
            yield stack
    finally:
        stack.stop()
        reset_all()
