"""Import time and peak memory of each function's entry module, in fresh
processes, next to importing the Google SDKs eagerly, in the same run."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from bench.common import ROOT, Table

PROBE = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
t = time.perf_counter()
{body}
ms = (time.perf_counter() - t) * 1000
print(json.dumps({{"ms": ms, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

ENTRY = """
import importlib.util
spec = importlib.util.spec_from_file_location("main", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
"""

EAGER = """
import functions_framework
from google import genai
from google.cloud import firestore, storage, pubsub_v1
"""


def measure(body: str, runs: int = 5) -> tuple[float, float]:
    times, rss = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(root=str(ROOT), body=body)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        times.append(row["ms"])
        rss.append(row["rss_mb"])
    return statistics.median(times), statistics.median(rss)


def run(table: Table, runs: int = 5) -> None:
    for main in sorted((ROOT / "functions").glob("*/main.py")):
        ms, rss = measure(ENTRY.format(path=str(main)), runs)
        name = main.parent.name
        table.add("cold start", f"{name} import ms", ms, "<= 300 ms", ms <= 300)
        table.add("cold start", f"{name} peak MB", rss)
    ms, rss = measure(EAGER, runs)
    table.add("cold start", "eager SDK imports ms", ms)
    table.add("cold start", "eager SDK imports peak MB", rss)


if __name__ == "__main__":
    table = Table()
    run(table)
