"""A small run of bench/burst.py in the suite: a burst with duplicates,
faults, budget changes and a kill -9 of every function still ends with every
request terminal and the money exact (bench/burst.py runs the 300-request one)."""

from __future__ import annotations

from bench import burst


def test_burst_with_every_function_killed_ends_terminal_and_exact(stack):
    figures = burst.run(stack, n=40, deadline_s=240)
    print(figures)
    assert len(figures["killed"]) == len(burst.KILLED), figures
    assert all(figures["restarts"][name] >= 1 for name in figures["killed"]), figures
    assert figures["ok"] == dict.fromkeys(figures["ok"], True), figures
