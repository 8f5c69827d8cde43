"""The event stream from a browser's EventSource: tickets, and a per-user limit.

EventSource sends no headers, so a member asks for a ticket (with the header)
and opens `.../events?ticket=T`: single use, one campaign, a minute. These
requests send no Authorization header on the stream, as a browser would not.
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from shared.client import configure_campaign
from shared.core.settings import get_settings
from tests.integration.test_media_api import EventStream, assert_error, call

pytestmark = pytest.mark.integration


def ticket(stack, campaign: str = "c1", user: str = "alice") -> str:
    answer = call(stack, f"/campaigns/{campaign}/events/ticket", user=user)
    assert answer.status == 200, answer.raw
    assert answer.headers["Cache-Control"] == "no-store"
    return answer.json["ticket"]


class TicketStream:
    """GET .../events?ticket=T with no Authorization header, like EventSource."""

    def __init__(self, stack, campaign: str, value: str) -> None:
        url = urlsplit(stack.env["MEDIA_API_URL"])
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        self.conn.request("GET", f"/campaigns/{campaign}/events?ticket={value}")
        self.resp = self.conn.getresponse()

    def first_block(self) -> str:
        return self.resp.readline().decode()

    def close(self) -> None:
        self.resp.close()
        self.conn.close()


def test_a_ticket_opens_the_stream_once(stack):
    configure_campaign("c1", enabled=True, budget_usd=5.0, members=["alice"])
    value = ticket(stack)
    stream = TicketStream(stack, "c1", value)
    try:
        assert stream.resp.status == 200
        assert stream.resp.headers["Content-Type"].startswith("text/event-stream")
        assert stream.first_block().startswith("retry: ")
    finally:
        stream.close()
    again = TicketStream(stack, "c1", value)
    try:
        assert again.resp.status == 401  # spent
        body = json.loads(again.resp.read())
        assert "ticket" in body["error"]["message"]
    finally:
        again.close()


def test_a_ticket_is_for_one_campaign_and_only_members_get_one(stack):
    configure_campaign("c1", enabled=True, budget_usd=5.0, members=["alice"])
    configure_campaign("c2", enabled=True, budget_usd=5.0, members=["alice", "mallory"])
    other = ticket(stack, "c2", "mallory")
    stream = TicketStream(stack, "c1", other)
    try:
        assert stream.resp.status == 401
    finally:
        stream.close()
    assert_error(call(stack, "/campaigns/c1/events/ticket", user="mallory"), 403)
    assert_error(call(stack, "/campaigns/c1/events/ticket", user=None), 401)
    for made_up in ("x" * 32, "short", "../../x"):
        stream = TicketStream(stack, "c1", made_up)
        try:
            assert stream.resp.status in (400, 401)
        finally:
            stream.close()


def test_one_user_may_hold_only_so_many_streams(stack):
    configure_campaign("c1", enabled=True, budget_usd=5.0, members=["alice", "bob"])
    limit = get_settings().MEDIA_API_SSE_PER_USER
    opened = [EventStream(stack, "/campaigns/c1/events", user="bob") for _ in range(limit)]
    try:
        assert [s.resp.status for s in opened] == [200] * limit
        assert_error(call(stack, "/campaigns/c1/events", user="bob"), 429)
        # Someone else is not held back by bob's streams.
        alice = EventStream(stack, "/campaigns/c1/events", user="alice")
        assert alice.resp.status == 200
        alice.close()
    finally:
        for s in opened:
            s.close()


def test_a_ticket_carries_a_timestamp_for_firestores_ttl(stack):
    """terraform's TTL policy on sse_tickets.delete_after deletes spent and
    abandoned tickets; a policy ignores any field that is not a Timestamp."""
    from datetime import UTC, datetime

    from shared.store.stream_docs import ticket_ref

    configure_campaign("c1", enabled=True, budget_usd=5.0, members=["alice"])
    doc = ticket_ref(ticket(stack)).get().to_dict()
    assert isinstance(doc["delete_after"], datetime)
    assert doc["delete_after"] > datetime.now(UTC)
    assert doc["delete_after"].timestamp() > doc["expires_at"]  # never before it is spent
