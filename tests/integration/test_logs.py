"""The stack's logs as Cloud Logging would read them: JSON lines with an RFC 3339
`timestamp`, the trace of the HTTP request, and no Apache-style access lines
mixed into the functions' logs. One cutscene followed through every stage
with `cutscenes local logs --request-id`, on a running and on a stopped
stack, is checked on the detached stack of test_local_stack.py (helpers here)."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest

from shared.client import configure_campaign
from tests.integration.helpers import run_terminating
from tests.integration.test_media_api import call

pytestmark = pytest.mark.integration

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
APACHE = re.compile(r'\] "(GET|POST|PUT|DELETE|OPTIONS) ')
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def records(path: Path) -> list[dict]:
    out = []
    for raw in path.read_text().splitlines():
        assert not APACHE.search(raw), raw  # werkzeug's text access line
        if raw.startswith("{"):
            out.append(json.loads(raw))
    return out


def test_media_api_lines_carry_the_requests_trace_and_json_access_lines(stack):
    configure_campaign("c1", enabled=True, members=["alice"], owners=["gm"])
    parent = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
    answer = call(stack, "/campaigns/c1/spend", user="gm", headers={"traceparent": parent})
    assert answer.status == 200
    log = Path(stack.log_dir) / "media_api.log"
    trace = f"projects/{stack.env['GOOGLE_CLOUD_PROJECT']}/traces/{TRACE_ID}"
    deadline = time.monotonic() + 30
    while True:
        lines = [r for r in records(log) if r.get("logging.googleapis.com/trace") == trace]
        events = {r.get("event") for r in lines}
        if {"api_request", "http_access"} <= events or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert {"api_request", "http_access"} <= events, lines
    for record in lines:
        assert RFC3339.match(record["timestamp"]) and "time" not in record
        assert record["logging.googleapis.com/spanId"] == "00f067aa0ba902b7"
    access = next(r for r in lines if r["event"] == "http_access")
    assert access["httpRequest"]["status"] == 200
    assert access["httpRequest"]["requestMethod"] == "GET"
    assert access["httpRequest"]["requestUrl"] == "/campaigns/c1/spend"
    assert access["campaign_id"] == "c1"  # the ids the route bound, on its access line
    for name in ("render_still", "animate_still", "janitor", "media_api"):
        for record in records(Path(stack.log_dir) / f"{name}.log"):
            assert RFC3339.match(record.get("timestamp", "")), (name, record)


def test_the_demo_pages_access_lines_are_json(stack):
    import urllib.request

    with urllib.request.urlopen(stack.env["DEMO_URL"], timeout=30) as resp:
        assert resp.status == 200
    log = Path(stack.log_dir) / "demo.log"
    deadline = time.monotonic() + 30
    while True:
        access = [
            r
            for r in records(log)
            if r.get("event") == "http_access"
            and r["httpRequest"]["requestUrl"] == "/demo/index.html"
        ]
        if access or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert access and access[-1]["httpRequest"]["status"] == 200
    assert RFC3339.match(access[-1]["timestamp"])


STAGES = {"render_still", "animate_still", "finish_clip"}


def cutscenes(*argv: str, env: dict[str, str], timeout: float = 240):
    """One CLI run, stopped by SIGTERM if it overruns (helpers.run_terminating)."""
    return run_terminating(
        [sys.executable, "-m", "cutscenes.cli", *argv],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        timeout=timeout,
    )


def one_requests_lines(request_id: str, env: dict[str, str]) -> tuple[list[dict], str]:
    done = cutscenes("local", "logs", "--json", "--request-id", request_id, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return [json.loads(x) for x in done.stdout.splitlines()], done.stderr


def assert_every_stage(records: list[dict], request_id: str) -> None:
    by_stage = {s: [r for r in records if r["source"] == s] for s in STAGES}
    for stage, lines in by_stage.items():
        # The stage's own lines, and the access line of the push that ran it.
        assert any(r.get("event") != "http_access" for r in lines), (stage, records)
        access = [r for r in lines if r.get("event") == "http_access"]
        assert access and all(r["request_id"] == request_id for r in access), (stage, lines)
        assert all(r["httpRequest"]["requestMethod"] == "POST" for r in access)
