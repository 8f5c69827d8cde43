"""Bounded retries with full jitter for transient errors, in-process.

Past the bound the TransientError propagates and the platform redelivers the
message (with its own backoff), so nothing is lost and nothing loops forever.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from shared.core import log
from shared.core.errors import Busy, RetriesSpent, TransientError

T = TypeVar("T")


def with_retries(
    call: Callable[[], T],
    *,
    attempts: int = 3,
    base_s: float = 0.5,
    cap_s: float = 8.0,
    what: str = "call",
) -> T:
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except (Busy, RetriesSpent):
            raise
        except TransientError as exc:
            if attempt == attempts:
                raise
            pause = random.uniform(0, min(cap_s, base_s * 2 ** (attempt - 1)))
            log.warning(
                "retry",
                f"{what} failed transiently ({exc}); retry in {pause:.2f} s",
                attempt=attempt,
            )
            time.sleep(pause)
    raise AssertionError("unreachable")
