"""The janitor's answer to a dead letter: ack unless retrying can help.

A dead letter it cannot close (a bad id, a bug) is acked and logged, so the
janitor's push subscription does not redeliver it for the whole retention
(it stays in the hold subscription for an operator); an outage answers 500
so Pub/Sub retries (bounded by the subscription's own dead-letter policy).
"""

from __future__ import annotations

import json

import pytest
from google.api_core import exceptions as gexc

from shared.core import log
from shared.pipeline import janitor


def failing(exc: Exception):
    def close(_data: bytes) -> str:
        raise exc

    return close


@pytest.mark.parametrize("exc", [gexc.InvalidArgument("__c__ is reserved"), KeyError("plan")])
def test_a_dead_letter_nothing_can_close_is_acked_and_logged(monkeypatch, capsys, exc):
    monkeypatch.setattr(janitor, "close_dead_letter", failing(exc))
    log.clear()
    assert janitor.handle_http({"message": {"data": ""}}) == {"dead_letter": "failed"}
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["severity"], line["event"]) == ("ERROR", "dead_letter_failed")


def test_an_outage_is_retried(monkeypatch):
    monkeypatch.setattr(
        janitor, "close_dead_letter", failing(gexc.ServiceUnavailable("firestore away"))
    )
    with pytest.raises(gexc.ServiceUnavailable):
        janitor.handle_http({"message": {"data": ""}})
