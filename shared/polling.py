"""When to ask Veo again whether a clip is done.

A clip takes tens of seconds, and every poll is a call against a quota, so
polling every second wastes calls while polling every 15 s adds up to 15 s of
lag before the player sees the clip. We poll sparsely early on and more
densely as the operation ages past the point where clips usually finish.
See docs/decisions/0002-polling.md.
"""

from __future__ import annotations


def next_delay(elapsed_s: float) -> float:
    """Seconds to wait before the next poll, given time since the job started."""
    if elapsed_s < 4.0:
        return 1.0
    return min(5.0, max(1.0, elapsed_s * 0.1))
