"""Pictures of a `bench.scale` run: Veo starts per quota window against the
quota, and how long each campaign's clips waited to start.

    python -m bench.plot RESULT.json [-o OUT.png]
    python -m bench.plot starts.json --quota 30 --window 20 [-o OUT.png]

RESULT.json is what `python -m bench.scale --plot` saves beside its table,
bench/results/scale-plot-<time>.json:

    {"quota_per_window": 30, "window_s": 20.0,
     "runs": {"unpaced": [row, ...], "paced": [row, ...]}}

Each row is one clip as the run's `starts.json` (in its log folder) has it:
campaign_id, published_at, video_started_at (epoch seconds, compressed
clock). One run's starts.json alone plots too, given the quota and window.
matplotlib is the `[bench]` extra; it draws off-screen (Agg).
"""

from __future__ import annotations

import argparse
import bisect
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

STEP_PER_WINDOW = 20  # rolling-window positions per window length


def load(path: Path, quota: float | None = None, window: float | None = None) -> dict[str, Any]:
    """A saved result, or one run's starts.json given its quota and window."""
    data = json.loads(Path(path).read_text())
    if isinstance(data, list):
        if quota is None or window is None:
            raise ValueError(f"{path} is one run's starts.json: give --quota and --window")
        data = {"quota_per_window": quota, "window_s": window, "runs": {Path(path).stem: data}}
    if quota is not None:
        data["quota_per_window"] = quota
    if window is not None:
        data["window_s"] = window
    missing = {"quota_per_window", "window_s", "runs"} - data.keys()
    if missing:
        raise ValueError(f"{path}: not a bench.scale result (no {', '.join(sorted(missing))})")
    return data


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def start_times(rows: list[dict[str, Any]]) -> list[float]:
    return sorted(t for r in rows if (t := _float(r.get("video_started_at"))) is not None)


def starts_per_window(starts: list[float], window: float) -> tuple[list[float], list[int]]:
    """(seconds since the first start, starts in the window that ends there),
    from the first start to the last, a twentieth of a window apart: what the
    quota's rolling window saw at each moment (a window's worth at once, then
    a plateau at the quota if pacing holds, a peak above it if not)."""
    if not starts:
        return [], []
    step = window / STEP_PER_WINDOW
    positions = [starts[0] + i * step for i in range(int((starts[-1] - starts[0]) / step) + 1)]
    counts = [
        bisect.bisect_right(starts, t) - bisect.bisect_right(starts, t - window) for t in positions
    ]
    return [t - starts[0] for t in positions], counts


def waits_by_campaign(rows: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Campaign -> its clips' waits, published -> started, in seconds."""
    waits: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        published = _float(row.get("published_at"))
        started = _float(row.get("video_started_at"))
        if published is not None and started is not None:
            waits[str(row.get("campaign_id"))].append(max(0.0, started - published))
    return dict(sorted(waits.items()))


def plot(result: dict[str, Any], out: Path) -> Path:
    """Two panels, one line or set of bars per run; written as a PNG to `out`."""
    import matplotlib

    matplotlib.use("Agg")  # no display: benches run headless
    import matplotlib.pyplot as plt

    runs: dict[str, list[dict[str, Any]]] = result["runs"]
    quota = float(result["quota_per_window"])
    window = float(result["window_s"])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 8), constrained_layout=True)

    for label, rows in runs.items():
        xs, counts = starts_per_window(start_times(rows), window)
        top.step(xs, counts, where="post", label=label)
    top.axhline(quota, color="black", linestyle="--", linewidth=1, label=f"quota ({quota:g})")
    top.set_title(f"Veo starts per quota window ({window:g} s, compressed clock)")
    top.set_xlabel("seconds since the first start")
    top.set_ylabel("starts in the window")
    top.set_ylim(bottom=0)
    top.legend(loc="best")

    per_run = {label: waits_by_campaign(rows) for label, rows in runs.items()}
    campaigns = sorted({c for waits in per_run.values() for c in waits})
    width = 0.8 / max(1, len(per_run))
    for i, (label, waits) in enumerate(per_run.items()):
        xs = [n + (i - (len(per_run) - 1) / 2) * width for n in range(len(campaigns))]
        means = [sum(waits.get(c, [0.0])) / max(1, len(waits.get(c, []))) for c in campaigns]
        bars = bottom.bar(xs, means, width=width, label=f"{label}: mean", alpha=0.75)
        # Each clip's own wait over its campaign's bar: the spread behind the mean.
        dots = [(x, w) for x, c in zip(xs, campaigns, strict=True) for w in waits.get(c, [])]
        if dots:
            color = bars.patches[0].get_facecolor()
            bottom.scatter(
                [d[0] for d in dots],
                [d[1] for d in dots],
                s=6,
                color=color,
                edgecolors="black",
                linewidths=0.3,
                zorder=3,
            )
    bottom.set_title("wait per campaign, published -> clip started")
    bottom.set_xticks(range(len(campaigns)))
    bottom.set_xticklabels(campaigns, rotation=60, ha="right", fontsize=7)
    bottom.set_ylabel("seconds (compressed clock)")
    bottom.legend(loc="best")

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def save(result: dict[str, Any], stem: Path) -> tuple[Path, Path]:
    """The result as JSON (to plot again later) and its picture: stem.json, stem.png."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    data = stem.with_suffix(".json")
    data.write_text(json.dumps(result, indent=1, default=str))
    return data, plot(result, stem.with_suffix(".png"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.plot",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("result", type=Path, help="scale-plot-*.json, or one run's starts.json")
    parser.add_argument("-o", "--out", type=Path, help="the PNG (default: beside the input)")
    parser.add_argument("--quota", type=float, help="starts allowed per window")
    parser.add_argument("--window", type=float, help="the quota's window in seconds")
    args = parser.parse_args(argv)
    try:
        result = load(args.result, args.quota, args.window)
    except (OSError, ValueError) as exc:
        print(f"bench.plot: {exc}", file=sys.stderr)
        return 2
    out = plot(result, args.out or args.result.with_suffix(".png"))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
