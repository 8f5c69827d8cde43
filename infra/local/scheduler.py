"""The local stand-in for the Cloud Scheduler job that runs the janitor's sweep.

In the cloud, Cloud Scheduler POSTs `{}` to janitor every MEDIA_SWEEP_EVERY_S
(terraform/modules/media-pipeline/scheduler.tf). Without it locally, a
request nobody works on any more (its message dead-lettered while another
delivery held the stage) would stay open until someone ran `cutscenes
janitor` by hand; with it, it is closed within MEDIA_DEADLINE_S, as in the
cloud.
"""

from __future__ import annotations

import contextlib

from infra.local.ticker import Ticker, post_json

DEFAULT_EVERY_S = 60.0


class SweepTimer(Ticker):
    name = "sweep-timer"

    def __init__(self, janitor_url: str, every_s: float = DEFAULT_EVERY_S) -> None:
        super().__init__(every_s)
        self.janitor_url = janitor_url
        self.runs = 0

    def tick(self) -> None:
        # Like the scheduler job (retry_count 0): a failed run waits for the next.
        with contextlib.suppress(OSError):
            post_json(self.janitor_url, b"{}", timeout_s=120)
        self.runs += 1


def every_s(function_env: dict[str, str]) -> float:
    try:
        return max(1.0, float(function_env.get("MEDIA_SWEEP_EVERY_S", DEFAULT_EVERY_S)))
    except ValueError:
        return DEFAULT_EVERY_S
