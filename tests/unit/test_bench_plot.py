"""`python -m bench.scale --plot`'s pictures, drawn from a saved result (no
stack): tests/unit/data/scale-plot-quick.json is what `python -m bench.scale
unpaced paced --quick --plot` saved (40 clips over 8 campaigns each; a run on
the shared machine at a load average of 40-60, so its waits are long)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from bench import plot

SAVED = Path(__file__).parent / "data" / "scale-plot-quick.json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_a_real_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.size == (1000, 800)
        # Drawn on, not a blank canvas: lines, bars, dots and text in colour.
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20) or []
        assert len(colours) > 50


def test_a_saved_result_plots_to_a_valid_png(tmp_path):
    result = plot.load(SAVED)
    assert set(result["runs"]) == {"unpaced", "paced"}
    out = plot.plot(result, tmp_path / "scale.png")
    assert_a_real_png(out)


def test_the_command_draws_one_runs_starts_json_given_its_quota(tmp_path, capsys):
    rows = plot.load(SAVED)["runs"]["paced"]
    starts = tmp_path / "starts.json"
    starts.write_text(json.dumps(rows))
    assert plot.main([str(starts)]) == 2  # a bare starts.json has no quota
    assert "give --quota and --window" in capsys.readouterr().err
    assert plot.main([str(starts), "--quota", "30", "--window", "20"]) == 0
    assert_a_real_png(tmp_path / "starts.png")


def test_save_keeps_the_result_to_draw_again(tmp_path):
    result = plot.load(SAVED)
    data, png = plot.save(result, tmp_path / "scale-plot-x")
    assert plot.load(data) == json.loads(json.dumps(result))
    assert_a_real_png(png)


def test_starts_per_window_counts_each_rolling_window():
    xs, counts = plot.starts_per_window([100.0, 101.0, 102.0, 125.0, 126.0], window=20.0)
    # Every 1 s (a twentieth of the window) from the first start to the last.
    assert xs == [float(n) for n in range(27)]
    # The window ending at each moment: it fills, the first starts leave it,
    # then the later ones come.
    assert counts[:3] == [1, 2, 3] and counts[19] == 3 and counts[20] == 2
    assert counts[22:25] == [0, 0, 0] and counts[25:] == [1, 2]
    assert plot.starts_per_window([], 20.0) == ([], [])


def test_waits_are_per_campaign_and_skip_clips_that_never_started():
    rows = [
        {"campaign_id": "b", "published_at": 10, "video_started_at": 14.5},
        {"campaign_id": "a", "published_at": 10, "video_started_at": "12"},
        {"campaign_id": "a", "published_at": 11, "video_started_at": None},
    ]
    assert plot.waits_by_campaign(rows) == {"a": [2.0], "b": [4.5]}


def test_not_a_result_is_said_plainly(tmp_path):
    bad = tmp_path / "table.json"
    bad.write_text(json.dumps({"rows": []}))
    with pytest.raises(ValueError, match="not a bench.scale result"):
        plot.load(bad)
