"""When to ask Veo whether a clip is done.

Each poll is a call against a small quota, and every second between the clip
finishing and our noticing is a second the player waits. Fixed polling trades
one for the other (AIDM polls every 5 s, Google's sample every 15 s). Veo
writes the MP4 into our bucket when it finishes, so the default strategy,
"watch", looks for that object every half second (a cheap Storage list, no
Veo quota) and asks Veo only when the object is there, plus a sparse fallback
poll for outcomes that write nothing (errors, safety blocks).
See docs/decisions/0002-polling.md.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    watch: bool
    poll_every_s: float  # fixed interval, or the watch strategy's fallback
    check_every_s: float = 0.5  # how often the watch strategy looks for the object

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """"watch", "watch:FALLBACK_S" or "fixed:INTERVAL_S"."""
        name, _, number = text.partition(":")
        if name == "watch":
            return cls(True, float(number or 15.0))
        if name == "fixed" and number:
            return cls(False, float(number))
        raise ValueError(f"unknown poll strategy {text!r}: use watch[:S] or fixed:S")

    def tick_s(self) -> float:
        return self.check_every_s if self.watch else self.poll_every_s

    def poll_due(self, since_last_poll_s: float, output_seen: bool) -> bool:
        if self.watch and output_seen:
            return True
        return since_last_poll_s >= self.poll_every_s - 1e-6
