"""An open event stream follows the campaign's membership, not only its opening.

A member removed from the campaign (`configure --remove-member`), or a
campaign deleted, ends the stream: an idle one within
MEDIA_API_STREAM_RECHECK_S, and one with news before it sends any of it, so
nothing written after the removal reaches the removed member.
"""

from __future__ import annotations

import json
import time

import pytest

from shared.client import MediaClient, configure_campaign
from shared.core.settings import get_settings
from shared.store.campaigns import campaign_ref
from tests.integration.helpers import cutscene, publish
from tests.integration.test_event_tickets import TicketStream, ticket
from tests.integration.test_media_api import EventStream

pytestmark = pytest.mark.integration

GONE = "not a member"
TERMINAL = {"complete", "partial", "failed", "rejected"}


def blocks(resp):
    """Each block of the stream (lines up to a blank line); ends with the stream."""
    lines: list[str] = []
    while raw := resp.readline():
        line = raw.decode().rstrip("\n")
        if line:
            lines.append(line)
        elif lines:
            yield lines
            lines = []


def until_ready(resp) -> None:
    for block in blocks(resp):
        if block == [": ready"]:
            return
    raise AssertionError("the stream ended before its listener was attached")


def until_end(resp, within_s: float, since: float | None = None) -> list[list[str]]:
    """The rest of the stream, which must end within within_s of `since` (now
    by default); heartbeats keep arriving meanwhile, so the check runs even on
    a stream that never ends."""
    started, rest = time.monotonic() if since is None else since, []
    for block in blocks(resp):
        rest.append(block)
        assert time.monotonic() - started < within_s, "the stream did not end in time"
    assert time.monotonic() - started < within_s, "the stream did not end in time"
    return rest


def media_events(seen: list[list[str]]) -> list[dict]:
    return [
        json.loads(next(line[6:] for line in block if line.startswith("data: ")))
        for block in seen
        if "event: media" in block
    ]


def test_an_idle_stream_ends_within_the_recheck_once_its_member_is_removed(stack):
    configure_campaign("c1", enabled=True, budget_usd=5.0, members=["alice", "bob"])
    stack.restart_function(
        "media_api", {"MEDIA_API_STREAM_RECHECK_S": "1", "MEDIA_API_SSE_HEARTBEAT_S": "0.5"}
    )
    try:
        bob = TicketStream(stack, "c1", ticket(stack, "c1", "bob"))  # as a browser opens it
        alice = EventStream(stack, "/campaigns/c1/events", user="alice")
        try:
            assert bob.resp.status == 200 and alice.resp.status == 200
            until_ready(bob.resp)
            until_ready(alice.resp)
            MediaClient().configure("c1", remove_members=["bob"])
            rest = until_end(bob.resp, 8)  # the re-check is 1 s; slack for a loaded machine
            assert GONE in rest[-1][0]

            # alice is still a member: her stream outlives several re-checks...
            beats, since = 0, time.monotonic()
            for block in blocks(alice.resp):
                assert GONE not in block[0]
                beats += block == [": heartbeat"]
                if beats >= 6:
                    break
            assert time.monotonic() - since > 2
            # ...until the campaign itself is deleted.
            campaign_ref("c1").delete()
            rest = until_end(alice.resp, 8)
            assert GONE in rest[-1][0]
        finally:
            bob.close()
            alice.close()
    finally:
        stack.restart_function("media_api")


def test_nothing_written_after_the_removal_reaches_the_removed_member(stack):
    # The default re-check (30 s): the stream must end on the first news,
    # before sending it, not at the next periodic check.
    configure_campaign("c1", enabled=True, budget_usd=5.0, members=["alice", "bob"])
    alice = EventStream(stack, "/campaigns/c1/events", user="alice")
    bob = TicketStream(stack, "c1", ticket(stack, "c1", "bob"))
    try:
        until_ready(alice.resp)
        until_ready(bob.resp)
        MediaClient().configure("c1", remove_members=["bob"])
        removed = time.monotonic()
        publish(
            cutscene(
                1, kind="npc_portrait", cutscene_type=None, motion_prompt=None, subject="Mireille"
            )
        )
        seen = []
        for block in blocks(alice.resp):  # the news exists, and a member gets it
            seen.append(block)
            if {e["status"] for e in media_events(seen)} & TERMINAL:
                break
        assert [e["status"] for e in media_events(seen)] == [
            "queued",
            "rendering_image",
            "complete",
        ]
        rest = until_end(bob.resp, get_settings().MEDIA_API_STREAM_RECHECK_S, since=removed)
        assert media_events(rest) == []
        assert GONE in rest[-1][0]
    finally:
        alice.close()
        bob.close()
