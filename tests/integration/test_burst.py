"""A small run of bench/burst.py in the suite: a burst with duplicates,
faults, budget changes and a kill -9 of every function still ends with every
request terminal and the money exact (bench/burst.py runs the 300-request one)."""

from __future__ import annotations

from bench import burst

# A start killed after its intent is uncertain: the sweep waits its lease
# out, then the adopt wait, before ending it partial. That tail was most of
# the test (115 s of 117 on a quiet machine, the local stack's 45 s adopt
# wait). A clip that lands after a shorter wait is deleted unbilled, as
# one_job_per_clip and the charges already count; the wait itself is tested
# on the pipeline's clock (tests/unit/stages/test_intent.py).
ADOPT_WAIT = {"MEDIA_VEO_ADOPT_WAIT_S": "15"}


def test_burst_with_every_function_killed_ends_terminal_and_exact(stack):
    stack.restart_functions(("animate_still", "janitor"), ADOPT_WAIT)
    try:
        figures = burst.run(stack, n=40, deadline_s=240)
    finally:
        stack.restart_functions(("animate_still", "janitor"))
    print(figures)
    assert len(figures["killed"]) == len(burst.KILLED), figures
    assert all(figures["restarts"][name] >= 1 for name in figures["killed"]), figures
    assert figures["ok"] == dict.fromkeys(figures["ok"], True), figures
