"""Replace a crashed function instance, as Cloud Run does.

On the platform a function instance that dies (a crash, an OOM kill) is
replaced by the platform; nobody restarts it by hand, and Pub/Sub's
redelivery lands on the replacement. The local stack does the same: a
`Supervisor` thread watches the function processes of a stack this process
owns and starts a dead one again on the same port, with the environment it
was last started with.

One exception: `MEDIA_CRASH_AFTER` (crash tests) is a fault injected once,
not configuration, so the replacement starts without it; otherwise it would
die again on the redelivery it exists to serve.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from infra.local import procs
from infra.local.plan import FUNCTIONS
from infra.local.state import STATE_FILE
from infra.local.ticker import Ticker

if TYPE_CHECKING:
    from infra.local.stack import LocalStack

ONE_SHOT_FAULTS = ("MEDIA_CRASH_AFTER",)
CHECK_EVERY_S = 0.2
GRACE_S = 2.0


class Supervisor(Ticker):
    name = "function-supervisor"

    def __init__(
        self, stack: LocalStack, log: Callable[[str], None], every_s: float = CHECK_EVERY_S
    ) -> None:
        super().__init__(every_s)
        self.stack = stack
        self.log = log
        self.restarts: dict[str, int] = {}
        self._dead_since: dict[str, float] = {}

    def tick(self) -> None:
        for name in FUNCTIONS:
            if self.stopping:
                return
            try:
                self._check(name)
            except Exception as exc:  # noqa: BLE001 - keep watching the others
                self.log(f"local stack: could not restart {name}: {exc}")

    def _check(self, name: str) -> None:
        stack = self.stack
        with stack._lock:  # restart_function and stop hold it too
            if self.stopping or stack._stopped:
                return
            # Another process may have restarted it (a test against a running
            # `local up`) and recorded the new PID in the state file.
            stack.sync_from_state()
            proc = stack.procs.get(name)
            if proc is None or name in stack.outages or procs.exited(proc) is None:
                self._dead_since.pop(name, None)
                return
            # Dead for a moment and nobody serving its port: not one being
            # replaced right now by someone else.
            since = self._dead_since.setdefault(name, time.monotonic())
            if time.monotonic() - since < GRACE_S or _listening(proc.port):
                return
            self._dead_since.pop(name, None)
            code = procs.exited(proc)
            extra = {
                k: v
                for k, v in stack.function_extra_env.get(name, {}).items()
                if k not in ONE_SHOT_FAULTS
            }
            t = time.monotonic()
            stack.restart_function(name, extra)
            self.restarts[name] = self.restarts.get(name, 0) + 1
        self.log(
            f"local stack: {name} exited (code {code}); replaced on port {proc.port} "
            f"in {time.monotonic() - t:.2f} s"
        )


def _listening(port: int | None) -> bool:
    if port is None:
        return False
    try:
        with socket.create_connection((procs.HOST, port), timeout=0.3):
            return True
    except OSError:
        return False


def keep(state_dir: str) -> int:
    """`up --detach` leaves no process of its own behind, so this one (the
    "keeper") supervises the recorded stack until `down` stops it."""
    import signal
    import sys
    from pathlib import Path

    from infra.local.stack import LocalStack

    state = Path(state_dir)
    stack = LocalStack.load(state)

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    stack.supervise(say)
    while not stopping.wait(1.0) and (state / STATE_FILE).exists():
        pass
    for helper in (stack.supervisor, stack.sweeps):
        if helper is not None:
            helper.stop()
    return 0


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m infra.local.supervisor")
    parser.add_argument("--state-dir", required=True)
    raise SystemExit(keep(parser.parse_args().state_dir))
