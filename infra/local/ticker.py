"""What the local stack's periodic helpers share: do one thing every few
seconds until stopped, on a daemon thread of the stack's process (the sweep
timer, the function supervisor) or in a process of its own (the operations
tick), and POST a JSON body to a function."""

from __future__ import annotations

import http.client
import threading
import time
import urllib.request
from typing import Self


class Ticker:
    """Calls `tick()` every `every_s` seconds until `stop()`; a tick that
    raises stops the loop, so a subclass catches what it can live with."""

    name = "ticker"

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)

    def tick(self) -> None:
        raise NotImplementedError

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        """The loop, in the calling thread (a process of its own runs it so).
        Ticks start `every_s` apart however long each takes (as Cloud
        Scheduler's do), with a short rest after one that overran."""
        next_at = time.monotonic() + self.every_s
        while not self._stop.wait(max(0.05, next_at - time.monotonic())):
            next_at = max(next_at, time.monotonic()) + self.every_s
            self.tick()

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        # stop() may be called from a tick (a helper stopping its own stack).
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)


def post_json(url: str, body: bytes, timeout_s: float) -> None:
    """POST `body` (JSON) and read the answer; raises OSError on any failure
    (urllib's URLError and HTTPError are OSErrors; a broken answer becomes one)."""
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            answer.read()
    except http.client.HTTPException as exc:
        raise OSError(f"bad answer from {url}: {exc!r}") from exc
