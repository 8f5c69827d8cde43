"""Arrival patterns for the fairness benchmarks (bench.fairness replays
them, bench.scale publishes them to the stack): when each cutscene is
published and by which campaign, in bench seconds (already compressed).

- even: every campaign publishes the same number, interleaved at random,
  at twice the quota's rate (bench.scale's pace).
- burst-first: a dozen campaigns publishing at once (eight times the
  quota's rate), one campaign's larger burst (a third of the cutscenes)
  first, the others' after it (issue 25).
- trickle-late-burst: every campaign trickles at three quarters of the
  quota's rate (two thirds of the cutscenes); halfway through, one campaign
  publishes the rest at eight times the rate while the trickle goes on.

A still takes 2-8 s (bench seconds) to make, at random: image_seconds.
"""

from __future__ import annotations

import random

PATTERNS = ("even", "burst-first", "trickle-late-burst")
IMAGE_S = (2.0, 8.0)


def pattern_plan(
    pattern: str, rng: random.Random, cutscenes: int, campaigns: int, window: float, quota: int
) -> tuple[list[str], list[tuple[float, str]]]:
    """The campaigns, and (published at, campaign) for each cutscene in turn."""
    names = [f"scale{c:02d}" for c in range(campaigns)]
    rate = quota / window  # the quota's starts per second
    if pattern == "even":
        plan = [names[n % campaigns] for n in range(cutscenes)]
        rng.shuffle(plan)
        return names, spaced(plan, 0.0, 1 / (2 * rate))
    if pattern == "burst-first":
        burst = cutscenes // 3
        rest = [names[1 + n % (campaigns - 1)] for n in range(cutscenes - burst)]
        rng.shuffle(rest)
        return names, spaced([names[0]] * burst + rest, 0.0, 1 / (8 * rate))
    if pattern == "trickle-late-burst":
        trickle = cutscenes * 2 // 3
        plan = [names[n % campaigns] for n in range(trickle)]
        rng.shuffle(plan)
        early = spaced(plan, 0.0, 1 / (0.75 * rate))
        loud = rng.choice(names)
        # Halfway through the trickle, which goes on around it.
        late = spaced([loud] * (cutscenes - trickle), early[-1][0] / 2, 1 / (8 * rate))
        return names, sorted(early + late, key=lambda row: row[0])
    raise ValueError(f"unknown arrival pattern {pattern!r}; expected one of {PATTERNS}")


def spaced(plan: list[str], start: float, gap: float) -> list[tuple[float, str]]:
    return [(start + n * gap, campaign) for n, campaign in enumerate(plan)]


def image_seconds(rng: random.Random) -> float:
    return rng.uniform(*IMAGE_S)
