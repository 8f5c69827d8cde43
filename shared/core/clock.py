"""The one clock the pipeline and the store read: wall time for deadlines,
leases and the start log, a monotonic one for waits, and sleep.

A seam, not a wrapper for its own sake: tests plug one fake clock in here
(`use`) instead of patching `time` in each module that reads it, so a test
that moves time moves it for every stage at once. I/O timeouts and retry
backoff (optimistic writes, publishing, Storage) stay on the real clock:
they measure the network, not the pipeline's time."""

from __future__ import annotations

import time as _time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return _time.time()

    def monotonic(self) -> float:
        return _time.monotonic()

    def sleep(self, seconds: float) -> None:
        _time.sleep(seconds)


class StepClock:
    """A clock that moves only when it is slept on (or `now` is set): for the
    stage tests and the benchmarks' replays, which run the pipeline's own
    pacing on simulated time."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


_current: Clock = SystemClock()


def use(clock: Clock) -> Clock:
    """Read `clock` from now on; returns the one it replaces."""
    global _current
    previous, _current = _current, clock
    return previous


def time() -> float:
    return _current.time()


def monotonic() -> float:
    return _current.monotonic()


def sleep(seconds: float) -> None:
    _current.sleep(seconds)


def now() -> datetime:
    """The current wall time as an aware UTC datetime."""
    return datetime.fromtimestamp(_current.time(), UTC)
