"""The operations sweep's tick locally: POST to the janitor every few seconds.

It asks the janitor to sweep overdue Veo operations (those that wrote
nothing: errors, safety blocks, hangs; expired ones are closed on the way;
shared/pipeline/janitor.py); in the cloud a Cloud Scheduler job calls the janitor
once a minute (terraform/). Locally the interval is MEDIA_VIDEO_SWEEP_EVERY_S
(2 s by default, a local-only setting) so tests see failures early. The full
sweep (deadlines, stale output) is scheduler.py's SweepTimer, every
MEDIA_SWEEP_EVERY_S, as in the cloud. With paced Veo starts each call also
keeps taking starts as the start log frees them for MEDIA_VEO_DISPATCH_HOLD_S
(0.8 of the period here; shared/pipeline/dispatch.dispatch_held).

    python -m infra.local.operations_tick --url JANITOR_URL --every SECONDS
"""

from __future__ import annotations

import argparse
import signal
import sys

from infra.local.ticker import Ticker, post_json


class OperationsTick(Ticker):
    name = "operations-tick"

    def __init__(self, url: str, every_s: float) -> None:
        super().__init__(max(0.2, every_s))
        self.url = url

    def tick(self) -> None:
        try:
            post_json(self.url, b'{"sweep": "operations"}', timeout_s=60)
        except OSError as exc:
            # The janitor restarting (tests do) or busy: the next tick tries again.
            print(f"scheduler: janitor call failed: {exc}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--every", type=float, default=2.0)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    OperationsTick(args.url, args.every).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
