"""The local stack's periodic helpers' shared loop (infra/local/ticker.py)."""

from __future__ import annotations

import http.server
import json
import threading
import time

import pytest

from infra.local.ticker import Ticker, post_json


class Counting(Ticker):
    name = "counting"

    def __init__(self, every_s: float, stop_at: int = 0) -> None:
        super().__init__(every_s)
        self.ticks = 0
        self.stop_at = stop_at

    def tick(self) -> None:
        self.ticks += 1
        if self.ticks == self.stop_at:
            self.stop()  # from inside a tick: must not wait for itself


def wait_for(condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_ticks_on_a_thread_until_stopped() -> None:
    ticker = Counting(0.01).start()
    wait_for(lambda: ticker.ticks >= 3)
    ticker.stop()
    assert ticker.stopping and not ticker._thread.is_alive()
    after = ticker.ticks
    time.sleep(0.05)
    assert ticker.ticks == after


def test_a_tick_may_stop_its_own_ticker() -> None:
    ticker = Counting(0.01, stop_at=2).start()
    wait_for(lambda: not ticker._thread.is_alive())
    assert ticker.ticks == 2


def test_runs_in_the_calling_thread_for_a_process_of_its_own() -> None:
    ticker = Counting(0.01, stop_at=3)
    ticker.run()  # returns once a tick stopped it
    assert ticker.ticks == 3 and not ticker._thread.is_alive()


@pytest.fixture
def server():
    got: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200 if got[-1].get("ok") else 500)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/", got
    httpd.shutdown()
    httpd.server_close()


def test_post_json_raises_oserror_on_any_failure(server) -> None:
    url, got = server
    post_json(url, b'{"ok": true}', timeout_s=30)
    with pytest.raises(OSError):
        post_json(url, b'{"ok": false}', timeout_s=30)  # a 500
    assert got == [{"ok": True}, {"ok": False}]
