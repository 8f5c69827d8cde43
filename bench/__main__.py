"""`python -m bench` (or `make bench`): start a local stack, run every
benchmark, print a table with each figure's target, and write JSON.

`--quick` runs each benchmark small (a smoke run, used by the tests)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import aidm_loop, budget, coldstart, pipeline
from bench.common import Table, running_stack, start_stack, wait_settled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small runs, a smoke test")
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="use the running stack recorded there (`cutscenes local up --detach`'s, "
        "CUTSCENES_STATE_DIR) instead of starting one; it is wiped, not stopped",
    )
    args = parser.parse_args(argv)
    table = Table()
    print("== cold start", flush=True)
    coldstart.run(table, runs=2 if args.quick else 5)
    stack = running_stack(args.state_dir) if args.state_dir else start_stack()
    try:
        print("== still overhead", flush=True)
        if args.quick:
            pipeline.still_overhead(table, stack, sequential=3, concurrent=3)
        else:
            pipeline.still_overhead(table, stack)
        print("== completion lag (Veo ops of 20-60 s, finished by the bucket's event)", flush=True)
        latencies = [2.0, 3.0] if args.quick else [20.0, 28.0, 36.0, 44.0, 52.0, 60.0]
        pipeline.completion_lag(table, stack, latencies)
        print("== ledger contention", flush=True)
        if args.quick:
            budget.one_session(table, stack, n=10, k=2)
        else:
            budget.run(table, stack)
        print("== AIDM's event loop during media tool calls", flush=True)
        aidm_loop.run(table, stack, turns=3 if args.quick else 20)
    finally:
        if args.state_dir:
            busy = wait_settled()  # a stack it does not own is left quiet
            print(f"stack left with {busy} assets still open", flush=True)
        else:
            stack.stop()
    path = table.write("bench-quick" if args.quick else "bench")
    missed = [r for r in table.rows if r["met"] is False]
    print(f"wrote {path}; {len(missed)} targets not met", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
