"""`cutscenes local logs`: lines of every part merged in time, one request's picked out."""

from __future__ import annotations

import io
import json
from pathlib import Path

from infra.local import logs
from shared.domain.ids import asset_id_for


def line(stamp: str, **fields) -> str:
    return json.dumps({"timestamp": stamp, "severity": "INFO", "message": "m", **fields})


def write_stack(tmp_path: Path, files: dict[str, list[str]]) -> Path:
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    for name, lines in files.items():
        (log_dir / f"{name}.log").write_text("".join(x + "\n" for x in lines))
    (tmp_path / "stack.json").write_text(json.dumps({"log_dir": str(log_dir)}))
    return tmp_path


def test_merged_by_timestamp_and_filtered_by_request(tmp_path):
    aid = asset_id_for("req-00000001")
    state = write_stack(
        tmp_path,
        {
            "render_still": [
                line("2026-01-01T00:00:01.000000Z", request_id="req-00000001", event="a"),
                "plain text from the runtime",
                line("2026-01-01T00:00:04.000000Z", request_id="req-other", event="x"),
            ],
            "animate_still": [
                line("2026-01-01T00:00:02.000000Z", asset_id=aid, event="b"),
                line("2026-01-01T00:00:05.000000Z", asset_id=aid, event="d"),
            ],
            "media_api": [line("2026-01-01T00:00:03.000000Z", asset_id=aid, event="c")],
        },
    )
    out = io.StringIO()
    logs.show(state, request_id="req-00000001", as_json=True, out=out)
    records = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [r["event"] for r in records] == ["a", "b", "c", "d"]
    assert [r["source"] for r in records] == [
        "render_still",
        "animate_still",
        "media_api",
        "animate_still",
    ]
    everything = io.StringIO()
    logs.show(state, out=everything)
    text = everything.getvalue().splitlines()
    assert len(text) == 6
    # A text line keeps its place after the JSON line before it in its file.
    assert text.index(next(t for t in text if "plain text" in t)) == 1


def test_a_half_written_last_line_waits(tmp_path):
    path = tmp_path / "x.log"
    path.write_text(line("2026-01-01T00:00:01.000000Z") + '\n{"partial')
    lines, offset, _ = logs.read_file(path)
    assert len(lines) == 1 and offset == len(line("2026-01-01T00:00:01.000000Z")) + 1


def test_follow_prints_lines_as_they_are_written(tmp_path):
    import threading
    import time

    state = write_stack(tmp_path, {"janitor": [line("2026-01-01T00:00:01.000000Z", event="a")]})
    out, stop = io.StringIO(), threading.Event()
    follower = threading.Thread(
        target=logs.show, args=(state,), kwargs={"follow": True, "out": out, "stop": stop}
    )
    follower.start()
    try:
        with (tmp_path / "logs" / "janitor.log").open("a") as handle:
            handle.write(line("2026-01-01T00:00:02.000000Z", event="later") + "\n")
        deadline = time.monotonic() + 30
        while "later" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        follower.join(timeout=30)
    assert "later" in out.getvalue() and not follower.is_alive()


def test_a_stopped_stacks_logs_are_still_shown(tmp_path, capsys):
    """`local down` removes stack.json and leaves <state dir>/logs: read them."""
    state = write_stack(
        tmp_path,
        {"render_still": [line("2026-01-01T00:00:01.000000Z", request_id="req-00000001")]},
    )
    (state / "stack.json").unlink()
    out = io.StringIO()
    assert logs.show(state, request_id="req-00000001", as_json=True, out=out) == 0
    [record] = [json.loads(x) for x in out.getvalue().splitlines()]
    assert record["source"] == "render_still" and record["request_id"] == "req-00000001"
    assert "no local stack is running: its last logs, from" in capsys.readouterr().err


def test_no_stack_and_no_logs_is_one_clear_error(tmp_path):
    import pytest

    from cutscenes.args import CliError

    with pytest.raises(CliError, match="cutscenes local up --detach"):
        logs.show(tmp_path, out=io.StringIO())
    (tmp_path / "logs").mkdir()  # a directory without a log file is not a stack's logs
    with pytest.raises(CliError, match="no logs are left"):
        logs.show(tmp_path, out=io.StringIO())
