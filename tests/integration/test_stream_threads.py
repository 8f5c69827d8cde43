"""media_api's event streams never take every server thread.

media_api runs here as in the cloud: Functions Framework under gunicorn's
gthread worker with THREADS threads (infra/local/function_runner.py). An event
stream holds its thread for minutes, so with as many streams as threads any
other request would wait for a stream to end. The instance keeps one in five
threads for other requests (shared/api/stream_slots.py): the stream past the
cap is answered 503 at once and `GET /me` still answers.

No timing thresholds: a starved request does not answer at all, so the checks
are "answers within a generous timeout" and, for the control, "does not".
"""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit

import pytest

from shared.client import configure_campaign
from tests.auth_tokens import id_token
from tests.integration.test_media_api import EventStream

pytestmark = pytest.mark.integration

THREADS = 4
# Short heartbeats: a stream whose client left notices at its next write.
FAST_BEATS = {"MEDIA_API_SSE_HEARTBEAT_S": "0.5"}
# Starvation hangs for minutes (a stream's life); an answer under load takes
# well under a second. Ten seconds tells them apart without timing anything.
ANSWER_WITHIN_S = 10.0


def me(stack, user: str, timeout: float = ANSWER_WITHIN_S) -> int:
    """GET /campaigns/c1/me's status; raises TimeoutError if nobody answers."""
    url = urlsplit(stack.env["MEDIA_API_URL"])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        token = id_token(stack, user)
        conn.request("GET", "/campaigns/c1/me", headers={"Authorization": f"Bearer {token}"})
        return conn.getresponse().status
    finally:
        conn.close()


def open_streams(stack, users: list[str]) -> list[EventStream]:
    return [EventStream(stack, "/campaigns/c1/events", user=user) for user in users]


def close_all(streams: list[EventStream]) -> None:
    for stream in streams:
        stream.close()


@pytest.fixture
def few_threads(stack):
    configure_campaign(
        "c1", enabled=True, budget_usd=1.0, members=["alice", "bob", "carol"], owners=["carol"]
    )
    yield stack
    stack.restart_function("media_api")


def test_as_many_streams_as_threads_still_leave_a_thread_for_other_requests(few_threads):
    stack = few_threads
    stack.restart_function("media_api", {"THREADS": str(THREADS), **FAST_BEATS})
    for user in ("alice", "bob", "carol"):
        id_token(stack, user)  # signed in before: the Auth emulator is not under test
    streams = open_streams(stack, ["alice", "alice", "bob", "bob"])
    try:
        statuses = sorted(s.resp.status for s in streams)
        # One in five threads kept (at least one): three streams, the fourth refused.
        assert statuses == [200, 200, 200, 503], statuses
        refused = next(s for s in streams if s.resp.status == 503)
        assert refused.resp.headers["Retry-After"].isdigit()
        assert json.loads(refused.resp.read())["error"]["code"] == 503
        assert me(stack, "carol") == 200
    finally:
        close_all(streams)
    # Streams whose clients left give their places back.
    deadline = time.monotonic() + 30
    while True:
        again = open_streams(stack, ["carol", "carol", "carol"])
        statuses = [s.resp.status for s in again]
        close_all(again)
        if statuses == [200] * 3 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert statuses == [200] * 3


def test_without_the_cap_the_streams_would_starve_the_instance(few_threads):
    """The control: the local server really has THREADS threads. With the cap
    raised to THREADS, the streams take them all and GET /me hangs until they
    end, which is what an instance in the cloud would do."""
    stack = few_threads
    stack.restart_function(
        "media_api",
        {"THREADS": str(THREADS), "MEDIA_API_SSE_PER_INSTANCE": str(THREADS), **FAST_BEATS},
    )
    for user in ("alice", "bob", "carol"):
        id_token(stack, user)  # signed in before: the Auth emulator is not under test
    streams = open_streams(stack, ["alice", "alice", "bob", "bob"])
    try:
        assert [s.resp.status for s in streams] == [200] * THREADS
        with pytest.raises(TimeoutError):
            me(stack, "carol", timeout=3.0)
    finally:
        close_all(streams)
    assert me(stack, "carol") == 200  # once the streams are gone
