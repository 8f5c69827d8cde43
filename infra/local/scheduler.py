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
import threading
import urllib.error
import urllib.request

DEFAULT_EVERY_S = 60.0


class SweepTimer:
    def __init__(self, janitor_url: str, every_s: float = DEFAULT_EVERY_S) -> None:
        self.janitor_url = janitor_url
        self.every_s = every_s
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sweep-timer", daemon=True)

    def start(self) -> SweepTimer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            req = urllib.request.Request(self.janitor_url, data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
            # Like the scheduler job (retry_count 0): a failed run waits for the next.
            with contextlib.suppress(OSError, urllib.error.URLError):
                with urllib.request.urlopen(req, timeout=120):
                    pass
            self.runs += 1


def every_s(function_env: dict[str, str]) -> float:
    try:
        return max(1.0, float(function_env.get("MEDIA_SWEEP_EVERY_S", DEFAULT_EVERY_S)))
    except ValueError:
        return DEFAULT_EVERY_S
