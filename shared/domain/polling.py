"""When the sweep asks Veo about an operation whose output never came.

Veo writes the MP4 into our bucket and the bucket's notification finishes
the clip, so nobody polls a healthy operation. The sweep asks only about an
operation that is past its expected time and has written nothing (an error,
a safety block, a hang, a lost event), and backs off per operation: each
unanswered check doubles the wait before the next, up to a cap, so a hung
operation costs a handful of calls against Veo's small quota before the
deadline closes it. See docs/decisions/0012-finish-from-bucket-events.md
(it replaced the "watch" and "fixed" waiting strategies of 0002).
"""

from __future__ import annotations


def next_check_s(checks_done: int, first_s: float, cap_s: float) -> float:
    """Seconds from now to the next check after `checks_done` checks."""
    return float(min(cap_s, first_s * (2 ** max(0, checks_done - 1))))
